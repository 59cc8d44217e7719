//! RFC 3161 timestamps of signed heads, when an authority is configured (`SONGDA_TSA_URL`).
//!
//! Signing never waits for the authority: a head is signed and stored first, and its token
//! is added when the authority answers. A background task asks for the newest head's token
//! within a second of its signing; a certificate whose head has none yet asks once itself.
//! After a failure the authority is left alone for a while (1 s doubling to 5 minutes), so
//! an authority that is down slows neither certificates nor the log. While it is down,
//! heads go unstamped; the first head stamped after it returns covers every event before
//! it, since each head covers the whole log up to its size.

use crate::state::AppState;
use crate::store::StoreError;
use crate::timestamp::Authority;
use base64::Engine;
use songda_core::evidence::head::TreeHead;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const LONGEST_PAUSE: Duration = Duration::from_secs(300);

/// The configured authority and when it may be asked again.
#[derive(Debug)]
pub struct Timestamper {
    authority: Authority,
    pause: Mutex<Pause>,
    /// One request to the authority at a time: a burst of certificates for a new head
    /// costs one token, not one each.
    asking: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Pause {
    until: Option<Instant>,
    failures: u32,
}

impl Timestamper {
    pub fn new(authority: Authority) -> Self {
        Self {
            authority,
            pause: Mutex::new(Pause::default()),
            asking: tokio::sync::Mutex::new(()),
        }
    }

    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    fn resting(&self) -> bool {
        let pause = self.pause.lock().expect("pause lock");
        pause.until.is_some_and(|t| Instant::now() < t)
    }

    fn failed(&self) {
        let mut pause = self.pause.lock().expect("pause lock");
        pause.failures = pause.failures.saturating_add(1);
        let wait = Duration::from_secs(1 << pause.failures.min(10).saturating_sub(1));
        pause.until = Some(Instant::now() + wait.min(LONGEST_PAUSE));
    }

    fn succeeded(&self) {
        *self.pause.lock().expect("pause lock") = Pause::default();
    }
}

/// The token (DER, base64) of a stored head: the one kept, or one asked for now if an
/// authority is configured and not resting after a failure. None without a token.
pub async fn head_timestamp(
    state: &AppState,
    head: &TreeHead,
) -> Result<Option<String>, StoreError> {
    let Some(stamper) = &state.timestamper else {
        return Ok(None);
    };
    if let Some(token) = state.store.head_timestamp(head).await? {
        return Ok(Some(token));
    }
    if stamper.resting() {
        return Ok(None);
    }
    let _turn = stamper.asking.lock().await;
    // Whoever asked before us may have stamped this head, or found the authority down.
    if let Some(token) = state.store.head_timestamp(head).await? {
        return Ok(Some(token));
    }
    if stamper.resting() {
        return Ok(None);
    }
    match stamper.authority().stamp(head).await {
        Ok(token) => {
            stamper.succeeded();
            let token = base64::engine::general_purpose::STANDARD.encode(token);
            state.store.set_head_timestamp(head, &token).await?;
            // A concurrent request may have stored its token first; the stored one counts.
            state.store.head_timestamp(head).await
        }
        Err(e) => {
            stamper.failed();
            tracing::warn!(
                authority = stamper.authority().url(),
                size = head.size,
                error = %e,
                "could not timestamp a tree head; it stays signed, and a later head will be stamped"
            );
            Ok(None)
        }
    }
}

/// Stamps the newest head once a second while heads are signed, until the process stops.
pub async fn run_timestamper(state: AppState) {
    if state.timestamper.is_none() {
        return;
    }
    loop {
        match state.store.latest_tree_head().await {
            Ok(Some(head)) => {
                if let Err(e) = head_timestamp(&state, &head).await {
                    tracing::warn!(error = %e, "could not keep a head's timestamp; retrying");
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "could not read the newest head; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
