//! Background work: the notification outbox runner, reminders, and the recorder of
//! delivery reports.

pub mod escalation;
pub mod outbox;
pub mod receipts;
pub mod reminders;
