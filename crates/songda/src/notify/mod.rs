//! Transports that carry notifications: SMS over SMPP to a carrier's SMS centre, through an
//! HTTP gateway, or to a JSON-lines file (development and tests, API.md `SONGDA_SMS_FILE`);
//! email over SMTP or, without an SMTP server, to `.eml` files in the data dir. Sending
//! happens only in the worker, never inside a request.

mod email;
pub mod smpp;
mod sms_file;
pub mod sms_http;
pub mod templates;

pub use email::EmailTransport;
pub use sms_file::SmsFile;

/// The outcome of one failed attempt.
#[derive(Debug)]
pub struct SendError {
    /// A permanent failure (e.g. SMTP 5xx) is not retried.
    pub permanent: bool,
    pub message: String,
    /// The gateway's ids of the parts it did accept before the failure: their delivery
    /// reports still come, and must find the message.
    pub receipts: Vec<String>,
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            permanent: false,
            message: message.into(),
            receipts: Vec::new(),
        }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            permanent: true,
            message: message.into(),
            receipts: Vec::new(),
        }
    }
}

/// What a transport answered when it accepted a message: kept as evidence.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The transport's reference: SMTP reply text, file line, message id.
    pub reference: String,
    pub message_id: Option<String>,
    /// The gateway's ids that delivery reports will name (one per part of a long SMS).
    pub receipts: Vec<String>,
}

/// Where SMS go: `SONGDA_SMS_URL`, else the file.
pub enum SmsTransport {
    File(SmsFile),
    Smpp(smpp::Smpp),
    Http(sms_http::HttpGateway),
}

impl SmsTransport {
    pub fn from_settings(settings: &crate::config::Settings) -> anyhow::Result<Self> {
        Ok(match settings.sms_url.as_deref() {
            None => Self::File(SmsFile::new(settings.sms_file.clone())),
            Some(url) if url.starts_with("smpp://") => {
                Self::Smpp(smpp::Smpp::new(smpp::SmppSettings::parse(url)?))
            }
            Some(url) => Self::Http(sms_http::HttpGateway::new(
                url,
                settings.sms_secret.as_deref(),
            )?),
        })
    }

    /// The name delivery reports are filed under: reports name the gateway's ids, which
    /// are unique only within one gateway.
    pub fn gateway(&self) -> &'static str {
        match self {
            Self::File(_) => "file",
            Self::Smpp(_) => "smpp",
            Self::Http(_) => "http",
        }
    }
}

pub struct Transports {
    pub sms: SmsTransport,
    pub email: EmailTransport,
}

/// `%XX` sequences decoded, as in the user part of a URL; `setting` names it in errors.
pub(crate) fn percent_decode(text: &str, setting: &str) -> anyhow::Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| anyhow::anyhow!("{setting}: a bad %-escape in the user part"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| anyhow::anyhow!("{setting}: the user part is not UTF-8"))
}

/// What a notification event's gateway record adds to its title in a timeline: the
/// purpose (reminder, another channel instead), a carrier's delivery report, a retry or
/// the channel it was escalated to. Empty for a plain first notice.
pub fn attempt_note(gateway: Option<&serde_json::Value>, en: bool) -> String {
    let Some(g) = gateway else {
        return String::new();
    };
    let t = |zh: &'static str, english: &'static str| if en { english } else { zh };
    let mut parts: Vec<String> = Vec::new();
    match g.get("purpose").and_then(|p| p.as_str()) {
        Some("reminder") => parts.push(t("签收提醒", "reminder").into()),
        Some("escalation") => parts.push(t("改用此方式通知", "sent instead").into()),
        _ => {}
    }
    if let Some(state) = g.pointer("/delivery_report/state").and_then(|s| s.as_str()) {
        parts.push(if state == "DELIVRD" {
            t("运营商回执：已送达", "carrier report: delivered").into()
        } else {
            format!(
                "{}{state}",
                t("运营商回执：未送达 ", "carrier report: not delivered, ")
            )
        });
    }
    if g.get("final").and_then(|f| f.as_bool()) == Some(false) {
        parts.push(t("将重试", "will be retried").into());
    }
    match g.get("escalated_to").and_then(|c| c.as_str()) {
        Some("email") => parts.push(t("已改用电子邮件", "told by email instead").into()),
        Some("sms") => parts.push(t("已改用短信", "told by SMS instead").into()),
        _ => {}
    }
    if parts.is_empty() {
        String::new()
    } else if en {
        format!(" ({})", parts.join("; "))
    } else {
        format!("（{}）", parts.join("；"))
    }
}
