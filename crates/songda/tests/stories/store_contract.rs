//! The store contract: the same rules checked on both backends.
