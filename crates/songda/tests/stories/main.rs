//! Stories against the real app: each test starts Songda on port 0 with a fresh data dir
//! and drives it as a court system, a clerk or a party would.

mod audit;
mod backends;
mod browser;
mod certificate;
mod cli;
mod deadlines;
mod document_rules;
mod email;
mod helpers;
mod journey;
mod log;
mod national_crypto;
mod openapi;
mod pages;
mod process;
mod records;
mod reminders;
mod rules;
mod scaleout;
mod sms;
mod store_contract;
mod timestamp;
mod tsa;
mod webdriver;
