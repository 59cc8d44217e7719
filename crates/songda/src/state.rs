//! The application as a value: storage, blobs, secrets, settings, clock and transports,
//! shared by the HTTP handlers and the worker.

use crate::blob::BlobStore;
use crate::config::Settings;
use crate::notify::{EmailTransport, SmsTransport, Transports};
use crate::secrets::Secrets;
use crate::store::Store;
use anyhow::Context;
use songda_core::Clock;
use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    pub blobs: BlobStore,
    pub secrets: Secrets,
    pub log_signer: crate::log::LogSigner,
    /// The timestamp authority of signed heads, if configured.
    pub timestamper: Option<crate::log::Timestamper>,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    pub transports: Transports,
    /// The notification texts, checked at start.
    pub templates: crate::notify::templates::Templates,
    /// Wakes the worker when something is queued.
    pub wake: Notify,
    public_url: OnceLock<String>,
    /// The certificate font, loaded at the first printable certificate (tens of MB).
    certificate_font: tokio::sync::OnceCell<Result<crate::pdf::CertificateFont, String>>,
    /// Held while the process runs: one server per data dir.
    _lock: std::fs::File,
}

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Opens the data dir: database (migrated), blob folder, server secret, transports.
    pub async fn open(settings: Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let dir = &settings.data_dir;
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating data dir {}", dir.display()))?;
        let lock = lock_data_dir(dir)?;
        let location = settings.database()?;
        let store = Store::open(&location)
            .await
            .with_context(|| format!("opening the {}", location.describe()))?;
        let blobs = BlobStore::open(dir, settings.blob_url.as_deref())?;
        blobs.check().await?;
        let secrets = Secrets::load_or_create(&settings.secret_key_file())?;
        let stored = store
            .deployment_fact("server_key_fingerprint", &secrets.fingerprint())
            .await?;
        if stored != secrets.fingerprint() {
            anyhow::bail!(
                "the server key {} is not the one this database was first used with; every process of a deployment needs the same key file (SONGDA_SECRET_KEY_FILE)",
                settings.secret_key_file().display()
            );
        }
        let log_signer = crate::log::LogSigner::load_or_create(
            &settings.log_key_file(),
            settings.log_algorithm,
        )?;
        crate::log::publish_key(&store, &log_signer, clock.now()).await?;
        let timestamper = match (&settings.tsa_url, &settings.tsa_cert) {
            (Some(url), Some(path)) => {
                let bytes = std::fs::read(path)
                    .with_context(|| format!("reading SONGDA_TSA_CERT {}", path.display()))?;
                let trusted = crate::timestamp::read_certificates(&bytes)
                    .map_err(|e| anyhow::anyhow!("SONGDA_TSA_CERT {}: {e}", path.display()))?;
                Some(crate::log::Timestamper::new(
                    crate::timestamp::Authority::new(url, trusted)?,
                ))
            }
            // A token is only worth what its signer is: anyone can sign one with a
            // certificate of their own.
            (Some(url), None) => anyhow::bail!(
                "SONGDA_TSA_URL {url} needs SONGDA_TSA_CERT: the authority's certificate or its CA (PEM), which every token must chain to"
            ),
            (None, _) => None,
        };
        let email = match &settings.smtp_url {
            Some(url) => {
                EmailTransport::smtp(url, &settings.mail_from, settings.smtp_ca_file.as_deref())?
            }
            None => EmailTransport::files(dir.join("mail"), &settings.mail_from)?,
        };
        let templates =
            crate::notify::templates::Templates::load(settings.messages_dir.as_deref())?;
        let transports = Transports {
            sms: SmsTransport::from_settings(&settings)?,
            email,
        };
        Ok(Self(Arc::new(Inner {
            store,
            blobs,
            secrets,
            log_signer,
            timestamper,
            settings,
            clock,
            transports,
            templates,
            wake: Notify::new(),
            public_url: OnceLock::new(),
            certificate_font: tokio::sync::OnceCell::new(),
            _lock: lock,
        })))
    }

    pub fn now(&self) -> time::OffsetDateTime {
        self.clock.now()
    }

    /// The base URL put into links, without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.public_url
            .get()
            .map(String::as_str)
            .unwrap_or("http://127.0.0.1:8080")
    }

    /// The font of printable certificates, found and read once; the error says what is
    /// missing and how to install it.
    pub async fn certificate_font(&self) -> Result<crate::pdf::CertificateFont, String> {
        self.certificate_font
            .get_or_init(|| async {
                let explicit = self.settings.certificate_font.clone();
                let found = tokio::task::spawn_blocking(move || {
                    crate::pdf::CertificateFont::discover(explicit.as_deref())
                })
                .await;
                match found {
                    Ok(Ok(font)) => {
                        tracing::info!(font = %font.describe(), "certificate font loaded");
                        Ok(font)
                    }
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            })
            .await
            .clone()
    }

    pub fn set_public_url(&self, url: String) {
        let _ = self.public_url.set(url.trim_end_matches('/').to_string());
    }

    /// Whether cookies should carry `Secure`: yes behind HTTPS and on loopback (browsers
    /// treat http://localhost as a secure context); not on plain HTTP elsewhere, where a
    /// browser would drop them.
    pub fn secure_cookies(&self) -> bool {
        let url = self.public_url();
        url.starts_with("https://")
            || url.starts_with("http://127.")
            || url.starts_with("http://localhost")
            || url.starts_with("http://[::1]")
    }
}

/// Takes the data dir for this process. The embedded database has one writer and the
/// worker's claims assume one process; a second server on the same folder would break
/// both, so it is refused with a clear message instead.
pub fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let path = dir.join("songda.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another songda server is already using {}; stop it first or choose another --data-dir",
            dir.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}
