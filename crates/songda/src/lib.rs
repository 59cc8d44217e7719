//! Songda, the program: HTTP API and pages, storage, blobs, notification worker, CLI.
//! The domain lives in `songda-core`; this crate adapts it to the outside world.

pub mod actions;
pub mod app;
pub mod audit;
pub mod blob;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod jobs;
pub mod log;
pub mod messages;
pub mod notify;
pub mod pdf;
pub mod pem;
pub mod secrets;
pub mod state;
pub mod store;
pub mod timestamp;
pub mod verify;
