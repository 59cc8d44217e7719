//! Background work: the notification outbox runner.

pub mod outbox;
