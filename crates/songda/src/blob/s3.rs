//! S3-compatible object storage (AWS S3, MinIO, Ceph, cloud vendors' S3 APIs).
//!
//! Write-once relies on conditional create (`If-None-Match: *`): a second put of a hash
//! that exists answers "already exists", which is success here, and never replaces the
//! object. Credentials come from the standard AWS environment variables.

use super::{BlobError, BlobStream};
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    RetryConfig,
};
use songda_core::document::Sha256Hex;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The object written by the start-up check.
const MARKER: &str = "songda-bucket";

#[derive(Clone, Debug)]
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
    endpoint: Option<String>,
}

impl S3Blobs {
    /// `s3://BUCKET[/PREFIX][?endpoint=URL][&region=REGION]`.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        let rest = url.strip_prefix("s3://").ok_or_else(|| {
            anyhow::anyhow!("SONGDA_BLOB_URL must look like s3://BUCKET?endpoint=URL&region=REGION")
        })?;
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
        if bucket.is_empty() {
            anyhow::bail!("SONGDA_BLOB_URL names no bucket: {url}");
        }
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let mut endpoint = None;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "endpoint" => {
                    builder = builder.with_endpoint(value.to_string());
                    endpoint = Some(value.to_string());
                }
                "region" => builder = builder.with_region(value.to_string()),
                other => anyhow::bail!(
                    "SONGDA_BLOB_URL: unknown parameter {other:?} (known: endpoint, region)"
                ),
            }
        }
        // Fail an upload within seconds rather than hold the request for minutes.
        let retry = RetryConfig {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
        };
        let store = builder
            .with_retry(retry)
            .with_client_options(
                ClientOptions::new()
                    // Plain http only when the operator wrote an http:// endpoint (a
                    // storage server on the local network or a test server).
                    .with_allow_http(
                        endpoint
                            .as_deref()
                            .is_some_and(|e| e.starts_with("http://")),
                    )
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(300)),
            )
            .build()
            .map_err(|e| anyhow::anyhow!("SONGDA_BLOB_URL: {e}"))?;
        Ok(Self {
            store: Arc::new(store),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint,
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "S3 bucket {}{}{}",
            self.bucket,
            if self.prefix.is_empty() { "" } else { "/" },
            self.prefix
        ) + &self
            .endpoint
            .as_ref()
            .map(|e| format!(" at {e}"))
            .unwrap_or_default()
    }

    fn key(&self, sha: &Sha256Hex) -> ObjectPath {
        let s = sha.as_str();
        let name = format!("{}/{s}", &s[..2]);
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// The bucket takes writes: a small marker object is created at the first start
    /// (outside the blobs' names), so a missing bucket or read-only credentials show at
    /// once, not at the first upload.
    pub async fn check(&self) -> anyhow::Result<()> {
        let marker = if self.prefix.is_empty() {
            ObjectPath::from(MARKER)
        } else {
            ObjectPath::from(format!("{}/{MARKER}", self.prefix))
        };
        let note = PutPayload::from_static(
            b"songda: this bucket holds documents; never edit or delete them\n",
        );
        // Created once and never overwritten; later starts get "already exists" (S3
        // checks permission first, so read-only credentials still fail here).
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self.store.put_opts(&marker, note, opts).await {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(e) => anyhow::bail!("cannot write to the {}: {}", self.describe(), one_line(&e)),
        }
    }

    pub async fn commit(&self, tmp: &Path, sha: &Sha256Hex) -> Result<(), BlobError> {
        let bytes = tokio::fs::read(tmp).await?;
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        match self
            .store
            .put_opts(&self.key(sha), PutPayload::from(bytes), opts)
            .await
        {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => {
                tokio::fs::remove_file(tmp).await?;
                Ok(())
            }
            Err(e) => Err(BlobError::Unavailable(one_line(&e))),
        }
    }

    pub async fn exists(&self, sha: &Sha256Hex) -> Result<bool, BlobError> {
        match self.store.head(&self.key(sha)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(BlobError::Unavailable(one_line(&e))),
        }
    }

    pub async fn list(&self) -> Result<Vec<String>, BlobError> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let metas: Vec<_> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(|e| BlobError::Unavailable(one_line(&e)))?;
        Ok(metas
            .into_iter()
            .filter_map(|m| m.location.filename().map(str::to_string))
            .filter(|name| name != MARKER)
            .collect())
    }

    pub async fn stream(&self, sha: &Sha256Hex) -> Result<BlobStream, BlobError> {
        match self.store.get(&self.key(sha)).await {
            Ok(got) => Ok(got.into_stream().map_err(std::io::Error::other).boxed()),
            Err(object_store::Error::NotFound { .. }) => Err(BlobError::NotFound(sha.to_string())),
            Err(e) => Err(BlobError::Unavailable(one_line(&e))),
        }
    }
}

/// object_store errors nest their causes; one line is what an operator reads.
fn one_line(e: &object_store::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text.replace('\n', " ")
}
