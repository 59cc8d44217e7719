//! Email: SMTP through lettre when `SONGDA_SMTP_URL` is set, else `.eml` files under the
//! data dir, so that a machine with no mail server still keeps every message it would send.

use super::{Accepted, SendError};
use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

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
                (Some((percent_decode(user)?, percent_decode(password)?)), h)
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

/// `%XX` sequences decoded, as in the user part of a URL.
fn percent_decode(text: &str) -> anyhow::Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    anyhow::anyhow!("SONGDA_SMTP_URL: a bad %-escape in the user part")
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| anyhow::anyhow!("SONGDA_SMTP_URL: the user part is not UTF-8"))
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
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    Files {
        dir: PathBuf,
        from: Mailbox,
    },
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
        let settings = SmtpSettings::parse(url)?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .timeout(Some(Duration::from_secs(30)));
        if settings.mode != TlsMode::None {
            let mut params = TlsParameters::builder(settings.host.clone());
            if let Some(path) = ca_file {
                let pem = std::fs::read(path)
                    .with_context(|| format!("reading SONGDA_SMTP_CA_FILE {}", path.display()))?;
                let certs = crate::timestamp::read_certificates(&pem)
                    .map_err(|e| anyhow::anyhow!("SONGDA_SMTP_CA_FILE {}: {e}", path.display()))?;
                for der in certs {
                    params = params.add_root_certificate(Certificate::from_der(der)?);
                }
            }
            let params = params.build_rustls()?;
            builder = builder.tls(match settings.mode {
                TlsMode::Implicit => Tls::Wrapper(params),
                TlsMode::StartTls => Tls::Required(params),
                TlsMode::Opportunistic => Tls::Opportunistic(params),
                TlsMode::None => unreachable!("checked above"),
            });
        }
        if let Some((user, password)) = settings.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self::Smtp {
            transport: builder.build(),
            from: from.parse()?,
        })
    }

    pub fn files(dir: PathBuf, from: &str) -> anyhow::Result<Self> {
        Ok(Self::Files {
            dir,
            from: from.parse()?,
        })
    }

    pub async fn send(
        &self,
        id: &str,
        to: &str,
        subject: &str,
        body: &str,
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
            .message_id(Some(message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(
                body.to_string(),
                html_of(body),
            ))
            .map_err(|e| SendError::permanent(e.to_string()))?;
        match self {
            Self::Smtp { transport, .. } => match transport.send(msg).await {
                Ok(resp) => Ok(Accepted {
                    reference: format!(
                        "{} {}",
                        resp.code(),
                        resp.message().collect::<Vec<_>>().join(" ")
                    ),
                    message_id: Some(message_id),
                }),
                Err(e) if e.is_permanent() => Err(SendError::permanent(e.to_string())),
                Err(e) => Err(SendError::transient(e.to_string())),
            },
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
