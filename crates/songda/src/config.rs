//! Command line and environment. Every option has an environment equivalent (API.md);
//! secrets in URLs never print.

use crate::store::Location;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "songda",
    version,
    about = "Electronic service of court documents (送达)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web UI, the JSON API and the notification worker.
    Serve(ServeArgs),
    /// Like serve, on a fresh demo data set; prints the URL and the demo logins.
    Demo(ServeArgs),
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Apply database migrations and exit.
    Migrate(DataArgs),
    /// Manage courts.
    Court {
        #[command(subcommand)]
        command: CourtCommand,
    },
    /// The notification texts: export the built-in ones to edit, or check a folder of
    /// edited ones (as the server does at start).
    Messages {
        #[command(subcommand)]
        command: MessagesCommand,
    },
    /// Check a service certificate offline: the signed tree head, each event's inclusion,
    /// every claim against the events, and that each given file is a served document.
    /// Exit 0 valid, 1 invalid (the reasons printed), 2 unusable input.
    Verify(VerifyArgs),
    /// Recompute the whole evidence log from the stored events and check every stored
    /// node, tree head and document against it. Exit 0 clean, 1 with the first bad entry.
    Audit(AuditArgs),
}

#[derive(Subcommand, Debug)]
pub enum MessagesCommand {
    /// Write the built-in texts into DIR (existing files are left alone), to edit and
    /// then name with SONGDA_MESSAGES_DIR.
    Export { dir: PathBuf },
    /// Check the texts in DIR and print each message rendered with sample values.
    Check { dir: PathBuf },
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Where the documents are (as for serve). Default: the folder blobs/ in the data dir.
    #[arg(long, env = "SONGDA_BLOB_URL")]
    pub blob_url: Option<String>,
    /// Check the log only, not the documents' bytes.
    #[arg(long)]
    pub skip_documents: bool,
    /// The timestamp authority's certificate or its CA (as for serve): every stored
    /// RFC 3161 token must chain to it.
    #[arg(long, env = "SONGDA_TSA_CERT")]
    pub tsa_cert: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The certificate JSON (GET /services/{id}/certificate).
    pub certificate: PathBuf,
    /// A file to check against the served documents; repeat for several.
    #[arg(long = "document", value_name = "FILE")]
    pub documents: Vec<PathBuf>,
    /// The log's public key(s): the JSON of GET /log/public-key, a PEM public key or hex.
    /// Without it the key inside the certificate is used, and the report says so.
    #[arg(long, value_name = "FILE")]
    pub public_key: Option<PathBuf>,
    /// The timestamp authority's certificate or its CA (PEM or DER): the head's RFC 3161
    /// timestamp must chain to it. Without it any authority's token is checked, and the
    /// report says so.
    #[arg(long, value_name = "FILE")]
    pub tsa_cert: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum CourtCommand {
    /// Fix a court to one regime of electronic service, or back to choosing by dispatch date.
    SetRegime(SetRegimeArgs),
    /// Whether a court also serves by email: notices to a confirmed email address carry the
    /// documents, and the mail server's acceptance completes service on that channel.
    SetEmailDocuments(SetEmailDocumentsArgs),
}

#[derive(Args, Debug)]
pub struct SetEmailDocumentsArgs {
    #[arg(long)]
    pub court: String,
    /// on or off.
    #[arg(long, value_parser = ["on", "off"])]
    pub email_documents: String,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Args, Debug)]
pub struct SetRegimeArgs {
    #[arg(long)]
    pub court: String,
    /// by_dispatch_date, CPL2017-A87 or CPL2021-A90.
    #[arg(long)]
    pub regime: String,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a staff account (and the court, if new).
    Add(UserAddArgs),
}

#[derive(Args, Clone)]
pub struct DataArgs {
    /// Where the database, documents and keys live.
    #[arg(long, env = "SONGDA_DATA_DIR", default_value = "songda-data")]
    pub data_dir: PathBuf,
    /// The database: postgres://USER:PASSWORD@HOST:PORT/DB for scale-out. Default: the
    /// SQLite file songda.db in the data dir.
    #[arg(long, env = "SONGDA_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl std::fmt::Debug for DataArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataArgs")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .finish()
    }
}

impl DataArgs {
    /// Where the database is: the URL if given, else the SQLite file in the data dir.
    pub fn database(&self) -> anyhow::Result<Location> {
        Location::from_config(self.database_url.as_deref(), &self.data_dir)
    }
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on.
    #[arg(long, env = "SONGDA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The address users reach the server at, used in links sent by SMS and email.
    #[arg(long, env = "SONGDA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Append each SMS as a JSON line to this file (default: sms.jsonl in the data dir).
    #[arg(long, env = "SONGDA_SMS_FILE")]
    pub sms_file: Option<PathBuf>,
    /// The SMS gateway: smpp://SYSTEM_ID:PASSWORD@HOST:PORT?source=NUMBER for a carrier's
    /// SMS centre (SMPP 3.4), or http(s)://... for an HTTP gateway (requests signed with
    /// SONGDA_SMS_SECRET). Default: SONGDA_SMS_FILE.
    #[arg(long, env = "SONGDA_SMS_URL")]
    pub sms_url: Option<String>,
    /// The secret shared with an HTTP SMS gateway: it signs our requests and the gateway's
    /// delivery reports (HMAC-SHA256).
    #[arg(long, env = "SONGDA_SMS_SECRET", hide_env_values = true)]
    pub sms_secret: Option<String>,
    /// Attempts at a notification before it fails for good (then the recipient's other
    /// channel is tried and the clerk alerted); retries wait 2, 4, 8 ... s plus jitter.
    #[arg(long, env = "SONGDA_NOTIFY_ATTEMPTS", default_value_t = 6)]
    pub notify_attempts: u32,
    /// Remind a recipient who has not signed: hours after service, comma-separated
    /// (each a further reminder), or "off".
    #[arg(long, env = "SONGDA_REMIND_AFTER_HOURS", default_value = "48,120")]
    pub remind_after_hours: String,
    /// Court-time hours in which reminders wait (codes and first notices do not):
    /// HH:MM-HH:MM, or "off".
    #[arg(long, env = "SONGDA_QUIET_HOURS", default_value = "22:00-08:00")]
    pub quiet_hours: String,
    /// At most this many SMS to one number in an hour; more wait for the next hour.
    #[arg(long, env = "SONGDA_SMS_PER_NUMBER_PER_HOUR", default_value_t = 10)]
    pub sms_per_number_per_hour: u32,
    /// At most this many emails to one address in an hour; more wait.
    #[arg(long, env = "SONGDA_EMAIL_PER_ADDRESS_PER_HOUR", default_value_t = 30)]
    pub email_per_address_per_hour: u32,
    /// A folder of edited notification texts: each file replaces the built-in one of its
    /// name (`songda messages export DIR` writes those out). Checked at start.
    #[arg(long, env = "SONGDA_MESSAGES_DIR")]
    pub messages_dir: Option<PathBuf>,
    /// Outgoing email server: smtp://[user:password@]host[:port][?tls=starttls|opportunistic]
    /// or smtps://... for TLS from the start (default: .eml files in the data dir).
    #[arg(long, env = "SONGDA_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Certificates (PEM) to trust for the SMTP server's TLS besides the system's: a
    /// court's own relay with a private CA.
    #[arg(long, env = "SONGDA_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Sender of outgoing email.
    #[arg(
        long,
        env = "SONGDA_MAIL_FROM",
        default_value = "Songda <noreply@songda.localhost>"
    )]
    pub mail_from: String,
    /// Largest document upload, in MiB.
    #[arg(long, env = "SONGDA_MAX_UPLOAD_MB", default_value_t = 100)]
    pub max_upload_mb: u64,
    /// Where document files are kept: s3://BUCKET?endpoint=URL&region=REGION for
    /// S3-compatible object storage (credentials from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY). Default: the folder blobs/ in the data dir.
    #[arg(long, env = "SONGDA_BLOB_URL")]
    pub blob_url: Option<String>,
    /// The server key (HMACs of codes and tokens). Every process of one deployment needs
    /// the same file. Default: secret.key in the data dir, created at first start.
    #[arg(long, env = "SONGDA_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// The key that signs the evidence log's tree heads (PKCS#8 DER). Default:
    /// log-signing.key (Ed25519) or log-signing-sm2.key (SM2) in the data dir, created at
    /// first start.
    #[arg(long, env = "SONGDA_LOG_KEY_FILE")]
    pub log_key_file: Option<PathBuf>,
    /// How tree heads are signed: ed25519, or sm2 (SM2 over SM3, national cryptography).
    /// Changing it starts a new key; heads signed by the old one still verify.
    #[arg(long, env = "SONGDA_LOG_ALGORITHM", default_value = "ed25519", value_parser = ["ed25519", "sm2"])]
    pub log_algorithm: String,
    /// An RFC 3161 timestamp authority (http:// or https://) that stamps each signed tree
    /// head; certificates then carry its token. Needs SONGDA_TSA_CERT. Default: none.
    #[arg(long, env = "SONGDA_TSA_URL")]
    pub tsa_url: Option<String>,
    /// The timestamp authority's certificate or its CA (PEM or DER): tokens that do not
    /// chain to it are refused, and /verify and the audit check tokens against it.
    #[arg(long, env = "SONGDA_TSA_CERT")]
    pub tsa_cert: Option<PathBuf>,
    /// How long a worker may hold a claimed notification before another may take it.
    /// Longer than the slowest send; a process killed mid-send delays its messages by
    /// this much on PostgreSQL (on SQLite they are re-queued at restart).
    #[arg(long, env = "SONGDA_OUTBOX_LEASE_SECS", default_value_t = 120)]
    pub outbox_lease_secs: u32,
    /// The CJK font the printable certificate embeds (a subset of it): PATH or
    /// PATH#FACE for a collection. Default: Noto Serif CJK SC from Debian's
    /// fonts-noto-cjk, else Noto Sans CJK SC or WenQuanYi Micro Hei.
    #[arg(long, env = "SONGDA_CERTIFICATE_FONT")]
    pub certificate_font: Option<PathBuf>,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("data", &self.data)
            .field("listen", &self.listen)
            .field("public_url", &self.public_url)
            .field("sms_file", &self.sms_file)
            .field("sms_url", &self.sms_url.as_deref().map(redact_url))
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("max_upload_mb", &self.max_upload_mb)
            .field("blob_url", &self.blob_url)
            .field("secret_key_file", &self.secret_key_file)
            .finish()
    }
}

#[derive(Args, Debug)]
pub struct UserAddArgs {
    #[arg(long, value_parser = ["admin", "clerk"])]
    pub role: String,
    #[arg(long)]
    pub name: String,
    #[arg(long)]
    pub login: String,
    #[arg(long)]
    pub password: String,
    /// The clerk's court; created if new. Required for clerks.
    #[arg(long)]
    pub court: Option<String>,
    /// Where the clerk's alerts go (notices that failed, refusals). Optional.
    #[arg(long)]
    pub email: Option<String>,
    #[command(flatten)]
    pub data: DataArgs,
}

/// `48,120` -> 48 h and 120 h; `off` or empty -> none.
fn parse_reminders(text: &str) -> anyhow::Result<Vec<time::Duration>> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("off") {
        return Ok(Vec::new());
    }
    let mut hours = text
        .split(',')
        .map(|h| {
            h.trim()
                .parse::<u32>()
                .ok()
                .filter(|&h| h > 0)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "SONGDA_REMIND_AFTER_HOURS: {h:?} is not a number of hours (e.g. 48,120, or off)"
                    )
                })
        })
        .collect::<anyhow::Result<Vec<u32>>>()?;
    hours.sort_unstable();
    hours.dedup();
    Ok(hours
        .into_iter()
        .map(|h| time::Duration::hours(h.into()))
        .collect())
}

/// A daily window of court time (`22:00-08:00` runs over midnight) in which reminders wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub from: time::Time,
    pub until: time::Time,
}

impl QuietHours {
    pub fn parse(text: &str) -> anyhow::Result<Option<Self>> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad = || {
            anyhow::anyhow!(
                "SONGDA_QUIET_HOURS: {text:?} is not HH:MM-HH:MM (e.g. 22:00-08:00) or off"
            )
        };
        let (a, b) = text.split_once('-').ok_or_else(bad)?;
        let time = |t: &str| {
            let (h, m) = t.trim().split_once(':')?;
            time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
        };
        let (from, until) = (time(a).ok_or_else(bad)?, time(b).ok_or_else(bad)?);
        if from == until {
            return Err(bad());
        }
        Ok(Some(Self { from, until }))
    }

    /// When the window that `now` falls in ends; None when `now` is outside it.
    pub fn ends_after(&self, now: time::OffsetDateTime) -> Option<time::OffsetDateTime> {
        let local = now.to_offset(songda_core::timefmt::COURT_OFFSET);
        let t = local.time();
        let inside = if self.from < self.until {
            self.from <= t && t < self.until
        } else {
            t >= self.from || t < self.until
        };
        if !inside {
            return None;
        }
        let mut end = local.replace_time(self.until);
        if end <= local {
            end += time::Duration::days(1);
        }
        Some(end)
    }
}

/// `smtp://user:secret@host` -> `smtp://user:***@host`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Settings of a running server, resolved from [`ServeArgs`].
#[derive(Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    /// None: the SQLite file in the data dir.
    pub database_url: Option<String>,
    pub blob_url: Option<String>,
    /// None: secret.key in the data dir.
    pub secret_key_file: Option<PathBuf>,
    /// None: the algorithm's default key file in the data dir.
    pub log_key_file: Option<PathBuf>,
    pub log_algorithm: crate::log::Algorithm,
    /// None: heads are not timestamped.
    pub tsa_url: Option<String>,
    pub tsa_cert: Option<PathBuf>,
    pub outbox_lease: time::Duration,
    /// None: the first CJK font found in the usual places.
    pub certificate_font: Option<PathBuf>,
    pub listen: SocketAddr,
    pub public_url: Option<String>,
    pub sms_file: PathBuf,
    /// None: SMS go to `sms_file`.
    pub sms_url: Option<String>,
    pub sms_secret: Option<String>,
    /// None: the built-in notification texts.
    pub messages_dir: Option<PathBuf>,
    /// Attempts at a notification before it fails for good.
    pub notify_attempts: u32,
    /// When reminders are due, after the service; empty: none.
    pub remind_after: Vec<time::Duration>,
    /// Court-time window in which reminders wait.
    pub quiet_hours: Option<QuietHours>,
    pub sms_per_number_per_hour: u32,
    pub email_per_address_per_hour: u32,
    pub smtp_url: Option<String>,
    pub smtp_ca_file: Option<PathBuf>,
    pub mail_from: String,
    pub max_upload_bytes: u64,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("blob_url", &self.blob_url)
            .field("secret_key_file", &self.secret_key_file)
            .field("tsa_url", &self.tsa_url)
            .field("listen", &self.listen)
            .field("sms_file", &self.sms_file)
            .field("sms_url", &self.sms_url.as_deref().map(redact_url))
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("max_upload_bytes", &self.max_upload_bytes)
            .finish()
    }
}

impl Settings {
    pub fn from_args(a: &ServeArgs) -> anyhow::Result<Self> {
        a.data.database()?;
        Ok(Self {
            data_dir: a.data.data_dir.clone(),
            database_url: a.data.database_url.clone().filter(|s| !s.is_empty()),
            blob_url: a.blob_url.clone().filter(|s| !s.is_empty()),
            secret_key_file: a.secret_key_file.clone(),
            log_key_file: a.log_key_file.clone(),
            log_algorithm: crate::log::Algorithm::from_setting(&a.log_algorithm)
                .map_err(anyhow::Error::msg)?,
            tsa_url: a.tsa_url.clone().filter(|s| !s.is_empty()),
            tsa_cert: a.tsa_cert.clone(),
            outbox_lease: time::Duration::seconds(a.outbox_lease_secs.max(1).into()),
            certificate_font: a.certificate_font.clone(),
            listen: a.listen,
            public_url: a.public_url.clone(),
            sms_file: a
                .sms_file
                .clone()
                .unwrap_or_else(|| a.data.data_dir.join("sms.jsonl")),
            sms_url: a.sms_url.clone().filter(|s| !s.is_empty()),
            sms_secret: a.sms_secret.clone().filter(|s| !s.is_empty()),
            messages_dir: a.messages_dir.clone(),
            notify_attempts: a.notify_attempts.clamp(1, 20),
            remind_after: parse_reminders(&a.remind_after_hours)?,
            quiet_hours: QuietHours::parse(&a.quiet_hours)?,
            sms_per_number_per_hour: a.sms_per_number_per_hour.max(1),
            email_per_address_per_hour: a.email_per_address_per_hour.max(1),
            smtp_url: a.smtp_url.clone().filter(|s| !s.is_empty()),
            smtp_ca_file: a.smtp_ca_file.clone(),
            mail_from: a.mail_from.clone(),
            max_upload_bytes: a.max_upload_mb.saturating_mul(1024 * 1024),
        })
    }

    /// Settings for a server on `data_dir`, listening on a free port; for tests.
    pub fn database(&self) -> anyhow::Result<Location> {
        Location::from_config(self.database_url.as_deref(), &self.data_dir)
    }

    pub fn secret_key_file(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }

    pub fn log_key_file(&self) -> PathBuf {
        self.log_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join(self.log_algorithm.default_key_file()))
    }

    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            sms_file: data_dir.join("sms.jsonl"),
            sms_url: None,
            sms_secret: None,
            messages_dir: None,
            notify_attempts: 6,
            remind_after: vec![time::Duration::hours(48), time::Duration::hours(120)],
            quiet_hours: None,
            sms_per_number_per_hour: 10,
            email_per_address_per_hour: 30,
            database_url: None,
            blob_url: None,
            secret_key_file: None,
            log_key_file: None,
            log_algorithm: crate::log::Algorithm::Ed25519,
            tsa_url: None,
            tsa_cert: None,
            outbox_lease: time::Duration::seconds(120),
            certificate_font: None,
            data_dir,
            listen: "127.0.0.1:0".parse().expect("valid address"),
            public_url: None,
            smtp_url: None,
            smtp_ca_file: None,
            mail_from: "Songda <noreply@songda.localhost>".into(),
            max_upload_bytes: 100 * 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_redacted() {
        assert_eq!(redact_url("smtp://u:secret@h:25"), "smtp://u:***@h:25");
        assert_eq!(redact_url("smtp://h:25"), "smtp://h:25");
    }

    #[test]
    fn reminders_and_quiet_hours_are_read_and_the_window_may_run_over_midnight() {
        use time::macros::datetime;
        assert_eq!(
            parse_reminders("120, 48").unwrap(),
            [time::Duration::hours(48), time::Duration::hours(120)]
        );
        assert!(parse_reminders("off").unwrap().is_empty());
        assert!(parse_reminders("48,x").is_err());
        assert!(parse_reminders("0").is_err());
        let q = QuietHours::parse("22:00-08:00").unwrap().unwrap();
        // 23:30 court time is 15:30 UTC: quiet until 08:00 court time the next morning.
        assert_eq!(
            q.ends_after(datetime!(2026-12-05 15:30 UTC)),
            Some(datetime!(2026-12-06 08:00 +8))
        );
        // 07:59 court time: still quiet, until 08:00 the same morning.
        assert_eq!(
            q.ends_after(datetime!(2026-12-05 23:59 UTC)),
            Some(datetime!(2026-12-06 08:00 +8))
        );
        assert_eq!(q.ends_after(datetime!(2026-12-06 00:00 UTC)), None);
        let day = QuietHours::parse("12:00-13:30").unwrap().unwrap();
        assert_eq!(
            day.ends_after(datetime!(2026-12-05 04:10 UTC)),
            Some(datetime!(2026-12-05 13:30 +8))
        );
        assert_eq!(day.ends_after(datetime!(2026-12-05 05:30 UTC)), None);
        assert!(QuietHours::parse("off").unwrap().is_none());
        for bad in ["22-08", "25:00-08:00", "08:00-08:00", "22:00"] {
            assert!(QuietHours::parse(bad).is_err(), "{bad}");
        }
    }
}
