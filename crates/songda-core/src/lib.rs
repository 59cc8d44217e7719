//! Songda's domain, free of any web, SQL, mail or async runtime.
//!
//! Every legal rule the platform encodes lives here: what a case number looks like
//! ([`case`]), who may be served and how they are reached ([`party`], [`consent`]), which
//! documents may be served electronically under which regime ([`policy`]), when service
//! takes effect and under which rule ([`service`]), which time limits it starts and when
//! they end ([`deadline`]), what is written down as evidence
//! ([`evidence`]), and the math of the append-only Merkle log it is chained into
//! ([`merkle`]). The `songda` crate turns requests into these types, asks this crate to
//! decide, and stores the decision.

pub mod case;
pub mod clock;
pub mod consent;
pub mod deadline;
pub mod document;
pub mod evidence;
pub mod ids;
pub mod mediation;
pub mod merkle;
pub mod party;
pub mod policy;
pub mod service;
pub mod timefmt;

pub use clock::{Clock, FixedClock, SystemClock};
