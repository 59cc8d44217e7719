//! Transports that carry notifications: SMS to a JSON-lines file (development and tests,
//! API.md `SONGDA_SMS_FILE`), email over SMTP or, without an SMTP server, to `.eml` files in
//! the data dir. Sending happens only in the worker, never inside a request.

mod email;
mod sms_file;

pub use email::EmailTransport;
pub use sms_file::SmsFile;

/// The outcome of one failed attempt.
#[derive(Debug)]
pub struct SendError {
    /// A permanent failure (e.g. SMTP 5xx) is not retried.
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            permanent: false,
            message: message.into(),
        }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            message: message.into(),
        }
    }
}

/// What a transport answered when it accepted a message: kept as evidence.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The transport's reference: SMTP reply text, file line, message id.
    pub reference: String,
    pub message_id: Option<String>,
}

pub struct Transports {
    pub sms: SmsFile,
    pub email: EmailTransport,
}
