//! Email: SMTP through lettre when `SONGDA_SMTP_URL` is set, else `.eml` files under the
//! data dir, so that a machine with no mail server still keeps every message it would send.

use super::{Accepted, SendError};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;

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
    /// `smtp://[user:password@]host[:port]`: plain SMTP to a local relay. TLS arrives with
    /// the notifications work.
    pub fn smtp(url: &str, from: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| anyhow::anyhow!("SONGDA_SMTP_URL must start with smtp://"))?;
        let rest = rest.trim_end_matches('/');
        let (creds, hostport) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| anyhow::anyhow!("bad SMTP port {p:?}"))?,
            ),
            None => (hostport, 25),
        };
        if host.is_empty() {
            anyhow::bail!("SONGDA_SMTP_URL has no host");
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port);
        if let Some(c) = creds {
            let (user, pass) = c.split_once(':').unwrap_or((c, ""));
            builder = builder.credentials(Credentials::new(user.into(), pass.into()));
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
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
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
