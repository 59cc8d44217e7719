//! Background work: the notification outbox runner and the recorder of delivery reports.

pub mod outbox;
pub mod receipts;
