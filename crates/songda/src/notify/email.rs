//! Email: SMTP through lettre when `SONGDA_SMTP_URL` is set, else `.eml` files under the
//! data dir, so that a machine with no mail server still keeps every message it would send.

use super::{Accepted, SendError, percent_decode};
use anyhow::Context;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use rustls::pki_types::ServerName;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TlsMode {
    None,
    Opportunistic,
    StartTls,
    Implicit,
}

/// What `SONGDA_SMTP_URL` says.
#[derive(Debug, PartialEq, Eq)]
struct SmtpSettings {
    host: String,
    port: u16,
    mode: TlsMode,
    credentials: Option<(String, String)>,
}

impl SmtpSettings {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let (implicit, rest) = if let Some(rest) = url.strip_prefix("smtps://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("smtp://") {
            (false, rest)
        } else {
            anyhow::bail!("SONGDA_SMTP_URL must start with smtp:// or smtps://");
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let rest = rest.trim_end_matches('/');
        let (credentials, hostport) = match rest.rsplit_once('@') {
            Some((c, h)) => {
                let (user, password) = c.split_once(':').unwrap_or((c, ""));
                (
                    Some((
                        percent_decode(user, "SONGDA_SMTP_URL")?,
                        percent_decode(password, "SONGDA_SMTP_URL")?,
                    )),
                    h,
                )
            }
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| anyhow::anyhow!("bad SMTP port {p:?}"))?,
                ),
            ),
            None => (hostport, None),
        };
        if host.is_empty() {
            anyhow::bail!("SONGDA_SMTP_URL has no host");
        }
        let mut mode = if implicit {
            TlsMode::Implicit
        } else {
            TlsMode::None
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match (key.as_ref(), value.as_ref(), implicit) {
                ("tls", "starttls", false) => mode = TlsMode::StartTls,
                ("tls", "opportunistic", false) => mode = TlsMode::Opportunistic,
                ("tls", "none", false) => mode = TlsMode::None,
                ("tls", other, _) => anyhow::bail!(
                    "SONGDA_SMTP_URL: tls={other:?} is not starttls, opportunistic or none (smtps:// is TLS from the start)"
                ),
                (other, _, _) => anyhow::bail!("SONGDA_SMTP_URL: unknown setting {other:?}"),
            }
        }
        // lettre logs in wherever it is told to: over clear text, or after an attacker
        // stripped STARTTLS from the server's answer.
        if credentials.is_some() && matches!(mode, TlsMode::None | TlsMode::Opportunistic) {
            anyhow::bail!(
                "SONGDA_SMTP_URL: a password is sent only over TLS: add ?tls=starttls, or use smtps://"
            );
        }
        Ok(Self {
            host: host.to_string(),
            port: port.unwrap_or(if implicit { 465 } else { 25 }),
            mode,
            credentials,
        })
    }
}

/// The HTML part of a message: the text, escaped, its paragraphs kept.
fn html_of(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let paragraphs: Vec<String> = escaped
        .split("\n\n")
        .map(|p| format!("<p>{}</p>", p.trim_matches('\n').replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"></head>\n<body style=\"font-family: sans-serif; line-height: 1.6\">\n{}\n</body></html>\n",
        paragraphs.join("\n")
    )
}

pub enum EmailTransport {
    Smtp { client: SmtpClient, from: Mailbox },
    Files { dir: PathBuf, from: Mailbox },
}

/// How long one message may take, connection and greeting included.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle connections kept for the next messages.
const MAX_IDLE: usize = 8;
/// A connection idle this long is checked with NOOP before it carries a message, so a
/// connection the server has closed in the meantime is replaced instead of failing one.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(5);

/// An SMTP client on connections of our own, pooled.
///
/// lettre speaks the protocol, but its own connections leave Nagle's algorithm on: it
/// writes the end-of-data marker on its own after the message, and that small write then
/// waits for the server's delayed ACK, 40 ms a message. We open the TCP connection with
/// TCP_NODELAY (and, for `smtps://`, wrap it in TLS) and hand it to lettre.
pub struct SmtpClient {
    host: String,
    port: u16,
    mode: TlsMode,
    credentials: Option<Credentials>,
    /// STARTTLS, done by lettre.
    starttls: Option<TlsParameters>,
    /// Implicit TLS, done here.
    implicit: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    hello: ClientId,
    idle: std::sync::Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl SmtpClient {
    fn new(settings: SmtpSettings, ca_file: Option<&Path>) -> anyhow::Result<Self> {
        let extra_roots = match ca_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .with_context(|| format!("reading SONGDA_SMTP_CA_FILE {}", path.display()))?;
                crate::timestamp::read_certificates(&pem)
                    .map_err(|e| anyhow::anyhow!("SONGDA_SMTP_CA_FILE {}: {e}", path.display()))?
            }
            None => Vec::new(),
        };
        let (mut starttls, mut implicit) = (None, None);
        match settings.mode {
            TlsMode::None => {}
            TlsMode::Implicit => {
                let mut roots = rustls::RootCertStore::empty();
                roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
                for der in &extra_roots {
                    roots
                        .add(der.clone().into())
                        .context("SONGDA_SMTP_CA_FILE: a certificate rustls cannot use")?;
                }
                let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()?
                    .with_root_certificates(roots)
                    .with_no_client_auth();
                let name = ServerName::try_from(settings.host.clone()).map_err(|_| {
                    anyhow::anyhow!("SONGDA_SMTP_URL: {:?} is not a host name", settings.host)
                })?;
                implicit = Some((
                    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)),
                    name,
                ));
            }
            TlsMode::StartTls | TlsMode::Opportunistic => {
                let mut params = TlsParameters::builder(settings.host.clone());
                for der in extra_roots {
                    params = params.add_root_certificate(Certificate::from_der(der)?);
                }
                starttls = Some(params.build_rustls()?);
            }
        }
        Ok(Self {
            credentials: settings
                .credentials
                .map(|(user, password)| Credentials::new(user, password)),
            host: settings.host,
            port: settings.port,
            mode: settings.mode,
            starttls,
            implicit,
            hello: ClientId::default(),
            idle: std::sync::Mutex::new(Vec::new()),
        })
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let io =
            |e: std::io::Error| SendError::transient(format!("{}:{}: {e}", self.host, self.port));
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(io)?;
        tcp.set_nodelay(true).map_err(io)?;
        let stream: Box<dyn AsyncTokioStream> = match &self.implicit {
            Some((connector, name)) => Box::new(ImplicitTls(
                connector.connect(name.clone(), tcp).await.map_err(io)?,
            )),
            None => Box::new(tcp),
        };
        // Whatever goes wrong before a message is begun (greeting, TLS, login) is the
        // server's or the operator's to fix, not the recipient's: it is retried, never a
        // permanent failure of the message, even as a 5xx (a wrong password's 535).
        let setup = |e: lettre::transport::smtp::Error| {
            SendError::transient(format!("{}:{}: {e}", self.host, self.port))
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(setup)?;
        if let Some(params) = &self.starttls {
            if conn.can_starttls() {
                conn.starttls(params.clone(), &self.hello)
                    .await
                    .map_err(setup)?;
            } else if self.mode == TlsMode::StartTls {
                conn.abort().await;
                return Err(SendError::transient(format!(
                    "{}:{} does not offer STARTTLS, which ?tls=starttls requires",
                    self.host, self.port
                )));
            }
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(setup)?;
        }
        Ok(conn)
    }

    /// An idle connection that still answers, or a new one.
    async fn connection(&self) -> Result<AsyncSmtpConnection, SendError> {
        loop {
            let idle = self.idle.lock().expect("pool lock").pop();
            let Some((mut conn, since)) = idle else {
                return self.connect().await;
            };
            if conn.has_broken() {
                continue;
            }
            if since.elapsed() < CHECK_AFTER_IDLE || conn.test_connected().await {
                return Ok(conn);
            }
            conn.abort().await;
        }
    }

    async fn send(
        &self,
        envelope: &lettre::address::Envelope,
        message: &[u8],
    ) -> Result<Response, SendError> {
        let mut conn = self.connection().await?;
        // lettre closes the connection itself after an error.
        let response = conn.send(envelope, message).await.map_err(failure)?;
        let mut idle = self.idle.lock().expect("pool lock");
        if idle.len() < MAX_IDLE {
            idle.push((conn, Instant::now()));
        }
        Ok(response)
    }
}

/// A TLS connection made by us, as lettre takes a stream.
#[derive(Debug)]
struct ImplicitTls(tokio_rustls::client::TlsStream<tokio::net::TcpStream>);

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

impl tokio::io::AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// A 5xx reply to the message (sender, recipient, content) is a permanent failure;
/// anything else (4xx, network, TLS) is tried again.
fn failure(e: lettre::transport::smtp::Error) -> SendError {
    if e.is_permanent() {
        SendError::permanent(e.to_string())
    } else {
        SendError::transient(e.to_string())
    }
}

impl EmailTransport {
    /// Parses `SONGDA_SMTP_URL`:
    ///
    /// - `smtp://[user:password@]host[:port]`: plain SMTP (port 25), for a local relay;
    ///   `?tls=starttls` requires STARTTLS (use it with port 587), `?tls=opportunistic` uses
    ///   it when the server offers it;
    /// - `smtps://[user:password@]host[:port]`: TLS from the first byte (port 465).
    ///
    /// TLS trusts the system's roots and, for a court's own relay, the certificates in
    /// `ca_file` (PEM). User and password may be percent-encoded, and are refused without
    /// TLS. Connections are pooled.
    pub fn smtp(url: &str, from: &str, ca_file: Option<&Path>) -> anyhow::Result<Self> {
        Ok(Self::Smtp {
            client: SmtpClient::new(SmtpSettings::parse(url)?, ca_file)?,
            from: from.parse()?,
        })
    }

    pub fn files(dir: PathBuf, from: &str) -> anyhow::Result<Self> {
        Ok(Self::Files {
            dir,
            from: from.parse()?,
        })
    }

    /// Sends one message; `attachments` (file name, PDF bytes; `size` bytes in all) are the
    /// documents of a court that serves by email.
    pub async fn send(
        &self,
        id: &str,
        to: &str,
        subject: &str,
        body: &str,
        attachments: Vec<(String, Vec<u8>)>,
        size: usize,
    ) -> Result<Accepted, SendError> {
        let from = match self {
            Self::Smtp { from, .. } | Self::Files { from, .. } => from.clone(),
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError::permanent(format!("bad address {to:?}: {e}")))?;
        let domain = from.email.domain().to_string();
        let message_id = format!("<{id}@{domain}>");
        let msg = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .message_id(Some(message_id.clone()));
        let text = MultiPart::alternative_plain_html(body.to_string(), html_of(body));
        let msg = if attachments.is_empty() {
            msg.multipart(text)
        } else {
            let pdf = ContentType::parse("application/pdf").expect("a valid content type");
            let mixed = attachments
                .into_iter()
                .fold(MultiPart::mixed().multipart(text), |m, (name, bytes)| {
                    m.singlepart(Attachment::new(name).body(bytes, pdf.clone()))
                });
            msg.multipart(mixed)
        }
        .map_err(|e| SendError::permanent(e.to_string()))?;
        match self {
            Self::Smtp { client, .. } => {
                // Documents take longer: 30 s, plus a second per 512 KiB attached (a
                // 15 MiB service gets 60 s, within the outbox's 120 s lease).
                let limit = SEND_TIMEOUT + Duration::from_secs((size / (512 * 1024)) as u64);
                let sent =
                    tokio::time::timeout(limit, client.send(msg.envelope(), &msg.formatted()))
                        .await;
                match sent {
                    Ok(Ok(resp)) => Ok(Accepted {
                        reference: format!(
                            "{} {}",
                            resp.code(),
                            resp.message().collect::<Vec<_>>().join(" ")
                        ),
                        message_id: Some(message_id),
                        receipts: Vec::new(),
                    }),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Err(SendError::transient(format!(
                        "no answer from the SMTP server within {} s",
                        limit.as_secs()
                    ))),
                }
            }
            Self::Files { dir, .. } => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| SendError::transient(e.to_string()))?;
                let path = dir.join(format!("{id}.eml"));
                tokio::fs::write(&path, msg.formatted())
                    .await
                    .map_err(|e| SendError::transient(e.to_string()))?;
                Ok(Accepted {
                    reference: format!("file:{}", path.display()),
                    message_id: Some(message_id),
                    receipts: Vec::new(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_say_host_port_tls_and_credentials() {
        let s = SmtpSettings::parse("smtp://relay.court.example").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.mode),
            ("relay.court.example", 25, TlsMode::None)
        );
        let s = SmtpSettings::parse("smtp://user%40court:p%3Ass@mail:587?tls=starttls").unwrap();
        assert_eq!((s.port, s.mode), (587, TlsMode::StartTls));
        assert_eq!(s.credentials, Some(("user@court".into(), "p:ss".into())));
        let s = SmtpSettings::parse("smtps://mail.example/").unwrap();
        assert_eq!((s.port, s.mode), (465, TlsMode::Implicit));
        let s = SmtpSettings::parse("smtp://mail?tls=opportunistic").unwrap();
        assert_eq!(s.mode, TlsMode::Opportunistic);
        for bad in [
            "http://mail",
            "smtp://:25",
            "smtp://mail:x",
            "smtp://mail?tls=maybe",
            "smtps://mail?tls=starttls",
            "smtp://mail?retries=3",
            "smtp://u%zz:p@mail?tls=starttls",
            "smtp://u:p@mail",
            "smtp://u:p@mail?tls=opportunistic",
        ] {
            assert!(SmtpSettings::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_html_part_is_the_text_escaped_with_its_paragraphs() {
        let html = html_of("张三：\n\n第一行\n第二行 <b>&\n\n完");
        assert!(html.contains("<p>张三：</p>"), "{html}");
        assert!(
            html.contains("<p>第一行<br>\n第二行 &lt;b&gt;&amp;</p>"),
            "{html}"
        );
        assert!(html.contains("<p>完</p>"), "{html}");
    }
}
