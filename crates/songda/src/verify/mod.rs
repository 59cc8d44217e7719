//! Offline verification of a service certificate: what `songda verify` and the public
//! `/verify` page run. It needs no server and no database, only the certificate, the log's
//! public key (given, or the one the certificate carries) and optionally the documents.
//!
//! A certificate has a readable part (court, case, documents, recipient, legal time and
//! rule, signature record) and a proof: the service's events as the log holds them
//! (canonical bytes), an inclusion proof for each to a tree head, and the head signed by
//! the platform's key. The verifier checks the proof, then checks every readable claim
//! against the proven events alone, recomputing the legal time of service with the same
//! rules the platform applies (`songda_core::service`). A claim the events do not back is
//! a failure, so editing the readable part is caught as surely as editing an event.

mod claims;
mod keys;

pub use keys::{PublicKey, parse_public_keys};

use crate::log::verify_head;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use songda_core::evidence::Event;
use songda_core::evidence::canonical::CANONICAL_FORM;
use songda_core::evidence::head::TreeHead;
use songda_core::merkle::{self, Hash};

/// The certificate shape this verifier reads, and the one the platform issues.
pub const CERTIFICATE_VERSION: u64 = 2;

/// How the log is built, named in each certificate so a verifier can refuse what it does
/// not know instead of failing with a wrong reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFormat {
    pub hash: String,
    pub tree: String,
    pub event_encoding: String,
}

impl LogFormat {
    pub fn current() -> Self {
        Self {
            hash: "sha256".into(),
            tree: "rfc6962".into(),
            event_encoding: CANONICAL_FORM.into(),
        }
    }
}

/// One proven event: its canonical bytes (as text), its leaf index and its audit path.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProofEntry {
    pub index: u64,
    pub leaf_hash: Hash,
    pub inclusion: Vec<Hash>,
    pub event: String,
}

/// The certificate's `proof` member.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Proof {
    pub log: LogFormat,
    pub head: TreeHead,
    pub public_key: PublicKey,
    pub entries: Vec<ProofEntry>,
    /// The head's RFC 3161 timestamp, when the platform has a timestamp authority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<HeadTimestamp>,
}

/// An RFC 3161 timestamp of the proof's head. Only the token counts; the readable fields
/// must say what it says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadTimestamp {
    /// `rfc3161`.
    pub format: String,
    /// What the token stamps: the SHA-256 of the head's signed bytes, hex.
    pub imprint: String,
    /// The authority's time.
    pub gen_time: String,
    /// Who signed the token (its certificate's common name and organisation).
    pub authority: String,
    /// The TimeStampToken (CMS ContentInfo), DER in base64.
    pub token: String,
}

/// The format name of [`HeadTimestamp`].
pub const TIMESTAMP_FORMAT: &str = "rfc3161";

/// What the reader of a certificate trusts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Trust<'a> {
    /// The log's keys (`--public-key`); None: the certificate's own key, with a warning.
    pub keys: Option<&'a [PublicKey]>,
    /// Certificates (DER) a timestamp authority must chain to (`--tsa-cert`); empty: any
    /// authority, with a warning.
    pub tsa_certificates: &'a [Vec<u8>],
}

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Not a failure, but something the reader must know (an unpinned key).
    Warning,
    Failed,
}

/// One line of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub outcome: Outcome,
    pub detail: String,
}

/// What the proven events establish, for display.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Proven {
    pub service_id: String,
    pub court: String,
    pub case_number: String,
    pub recipient: String,
    pub recipient_role: String,
    pub documents: Vec<ProvenDocument>,
    pub served_at: Option<String>,
    pub service_rule: Option<String>,
    pub signed_at: Option<String>,
    pub refused_at: Option<String>,
    pub refusal_reason: Option<String>,
    pub events: usize,
    pub head_size: u64,
    pub head_timestamp: String,
    pub key_id: String,
    /// The authority's time for the head, when a timestamp checked out.
    pub timestamped_at: Option<String>,
    pub timestamp_authority: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProvenDocument {
    pub id: String,
    pub title: String,
    pub sha256: String,
    /// The file given for it, if one matched.
    pub matched_file: Option<String>,
}

/// The verifier's answer.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub valid: bool,
    pub checks: Vec<Check>,
    /// Present when the proof itself held (signature and inclusion).
    pub proven: Option<Proven>,
}

/// Input the verifier cannot work with at all (exit code 2), as opposed to a certificate
/// that is readable but wrong (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unusable(pub String);

/// A file offered as one of the served documents.
#[derive(Clone, Debug)]
pub struct GivenDocument {
    pub name: String,
    pub sha256: String,
}

impl GivenDocument {
    pub fn new(name: impl Into<String>, bytes: &[u8]) -> Self {
        Self {
            name: name.into(),
            sha256: hex::encode(Sha256::digest(bytes)),
        }
    }
}

/// Collects checks; the report is valid when none failed.
#[derive(Default)]
struct Checks(Vec<Check>);

impl Checks {
    fn ok(&mut self, detail: impl Into<String>) {
        self.push(Outcome::Ok, detail);
    }
    fn warn(&mut self, detail: impl Into<String>) {
        self.push(Outcome::Warning, detail);
    }
    fn fail(&mut self, detail: impl Into<String>) {
        self.push(Outcome::Failed, detail);
    }
    fn push(&mut self, outcome: Outcome, detail: impl Into<String>) {
        self.0.push(Check {
            outcome,
            detail: detail.into(),
        });
    }
    fn failed(&self) -> bool {
        self.0.iter().any(|c| c.outcome == Outcome::Failed)
    }
    fn report(self, proven: Option<Proven>) -> Report {
        Report {
            valid: !self.failed(),
            checks: self.0,
            proven,
        }
    }
}

/// Verifies a certificate. `pinned` are the keys the caller trusts (from
/// `--public-key`); without them the key the certificate carries is used, with a warning.
pub fn verify(
    certificate: &[u8],
    documents: &[GivenDocument],
    pinned: Option<&[PublicKey]>,
) -> Result<Report, Unusable> {
    verify_with(
        certificate,
        documents,
        Trust {
            keys: pinned,
            tsa_certificates: &[],
        },
    )
}

/// Verifies a certificate with what the reader trusts.
pub fn verify_with(
    certificate: &[u8],
    documents: &[GivenDocument],
    trust: Trust<'_>,
) -> Result<Report, Unusable> {
    let pinned = trust.keys;
    let cert: serde_json::Value = serde_json::from_slice(certificate)
        .map_err(|e| Unusable(format!("the certificate is not JSON: {e}")))?;
    let version = cert
        .get("certificate_version")
        .and_then(|v| v.as_u64())
        .ok_or_else(|| Unusable("this is not a Songda service certificate".into()))?;
    let mut checks = Checks::default();
    if version != CERTIFICATE_VERSION {
        if version < CERTIFICATE_VERSION {
            checks.fail(format!(
                "certificate version {version} carries no proof of its events; download the certificate again"
            ));
            return Ok(checks.report(None));
        }
        return Err(Unusable(format!(
            "certificate version {version} is newer than this verifier knows ({CERTIFICATE_VERSION}); use a newer songda"
        )));
    }
    let proof: Proof = match cert.get("proof").cloned().map(serde_json::from_value) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            checks.fail(format!("the proof is malformed: {e}"));
            return Ok(checks.report(None));
        }
        None => {
            checks.fail("the certificate has no proof");
            return Ok(checks.report(None));
        }
    };
    if proof.log != LogFormat::current() {
        return Err(Unusable(format!(
            "the log format {:?} is not known to this verifier",
            proof.log
        )));
    }

    if !check_head(&proof, pinned, &mut checks) {
        return Ok(checks.report(None));
    }
    let Some(events) = check_entries(&proof, &mut checks) else {
        return Ok(checks.report(None));
    };
    let mut proven = claims::check(&cert, &events, &mut checks);
    proven.head_size = proof.head.size;
    proven.head_timestamp = proof.head.timestamp.clone();
    proven.key_id = proof.head.key_id.clone();
    match &proof.timestamp {
        Some(stamp) => check_timestamp(
            &proof.head,
            stamp,
            trust.tsa_certificates,
            &mut proven,
            &mut checks,
        ),
        None if !trust.tsa_certificates.is_empty() => checks.warn(
            "the certificate carries no RFC 3161 timestamp: the tree head's time rests on the platform's clock alone",
        ),
        None => {}
    }
    check_documents(documents, &mut proven, &mut checks);
    Ok(checks.report(Some(proven)))
}

/// The head's signature, by a trusted key or the certificate's own. False stops the run:
/// nothing below a bad signature is worth reporting.
fn check_head(proof: &Proof, pinned: Option<&[PublicKey]>, checks: &mut Checks) -> bool {
    let head = &proof.head;
    let key = match pinned {
        Some(keys) => match keys.iter().find(|k| k.key_id == head.key_id) {
            Some(k) => k.clone(),
            None => {
                let known: Vec<&str> = keys.iter().map(|k| k.key_id.as_str()).collect();
                checks.fail(format!(
                    "the tree head was signed by key {}, which is not among the given public keys ({})",
                    head.key_id,
                    known.join(", ")
                ));
                return false;
            }
        },
        None => {
            let carried = &proof.public_key;
            if carried.key_id != head.key_id || carried.algorithm != head.algorithm {
                checks.fail(format!(
                    "the certificate's public key is labelled {} ({}), but the head was signed by {} ({})",
                    carried.key_id, carried.algorithm, head.key_id, head.algorithm
                ));
                return false;
            }
            carried.clone()
        }
    };
    match verify_head(head, &key.algorithm, &key.public_key) {
        Ok(()) => {
            checks.ok(format!(
                "the tree head (log of {} entries, {}) is signed by {} key {}",
                head.size, head.timestamp, head.algorithm, head.key_id
            ));
            if pinned.is_none() {
                checks.warn(format!(
                    "the public key was taken from the certificate itself: compare key id {} with the court's published key, or pass --public-key",
                    head.key_id
                ));
            }
            true
        }
        Err(e) => {
            checks.fail(format!("tree head signature: {e}"));
            false
        }
    }
}

/// Each entry's leaf hash and inclusion in the signed head; the proven events on success.
fn check_entries(proof: &Proof, checks: &mut Checks) -> Option<Vec<(u64, Event)>> {
    let head = &proof.head;
    let Ok(root) = head.root.parse::<Hash>() else {
        checks.fail("the tree head's root is not a hash");
        return None;
    };
    if proof.entries.is_empty() {
        checks.fail("the proof has no entries");
        return None;
    }
    if proof.entries.windows(2).any(|w| w[0].index >= w[1].index) {
        checks.fail("the proof's entries are not in log order, or one is repeated");
        return None;
    }
    let mut events = Vec::with_capacity(proof.entries.len());
    let mut bad = 0;
    for entry in &proof.entries {
        let leaf = merkle::leaf_hash(entry.event.as_bytes());
        if leaf != entry.leaf_hash {
            checks.fail(format!(
                "log entry {}: its event does not hash to the leaf hash given (the event was changed)",
                entry.index
            ));
            bad += 1;
            continue;
        }
        if let Err(e) =
            merkle::verify_inclusion(&leaf, entry.index, head.size, &entry.inclusion, &root)
        {
            checks.fail(format!(
                "log entry {}: not included in the signed tree head ({e})",
                entry.index
            ));
            bad += 1;
            continue;
        }
        match serde_json::from_str::<Event>(&entry.event) {
            Ok(event) => events.push((entry.index, event)),
            Err(e) => {
                checks.fail(format!("log entry {}: not an event ({e})", entry.index));
                bad += 1;
            }
        }
    }
    if bad > 0 {
        return None;
    }
    checks.ok(format!(
        "{} events are included in the signed log (entries {})",
        events.len(),
        events
            .iter()
            .map(|(i, _)| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Some(events)
}

/// The head's timestamp: the token must stamp this head, be signed by a timestamping
/// certificate (one that chains to a trusted one, if given) and say what the readable
/// fields say.
fn check_timestamp(
    head: &TreeHead,
    stamp: &HeadTimestamp,
    trusted: &[Vec<u8>],
    proven: &mut Proven,
    checks: &mut Checks,
) {
    use base64::Engine;
    if stamp.format != TIMESTAMP_FORMAT {
        checks.fail(format!(
            "the head's timestamp has an unknown format {:?}",
            stamp.format
        ));
        return;
    }
    let imprint = crate::timestamp::imprint(head);
    if stamp.imprint != hex::encode(imprint) {
        checks.fail("the timestamp's stated imprint is not this head's");
        return;
    }
    let Ok(token) = base64::engine::general_purpose::STANDARD.decode(&stamp.token) else {
        checks.fail("the timestamp token is not base64");
        return;
    };
    let checked = match crate::timestamp::check(&token, &imprint, trusted) {
        Ok(s) => s,
        Err(e) => {
            checks.fail(format!("the head's RFC 3161 timestamp: {e}"));
            return;
        }
    };
    if checked.gen_time != stamp.gen_time || checked.authority != stamp.authority {
        checks.fail(format!(
            "the certificate says the head was timestamped at {} by {}, its token says {} by {}",
            stamp.gen_time, stamp.authority, checked.gen_time, checked.authority
        ));
        return;
    }
    if checked.trusted {
        checks.ok(format!(
            "the tree head was timestamped at {} by {} (RFC 3161, serial {}, policy {})",
            checked.gen_time, checked.authority, checked.serial, checked.policy
        ));
    } else {
        // Anyone can make a token with a certificate of their own: without a trusted
        // certificate, the time is only what the token claims.
        checks.warn(format!(
            "the tree head carries an RFC 3161 timestamp of {} by a signer calling itself {}, not checked against a trusted authority: pass --tsa-cert with the authority's certificate or its CA",
            checked.gen_time, checked.authority
        ));
        return;
    }
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    };
    if let (Some(stamped), Some(signed)) = (parse(&checked.gen_time), parse(&head.timestamp))
        && signed - stamped > time::Duration::minutes(5)
    {
        checks.warn(format!(
            "the head claims to be signed at {}, after the authority stamped it at {}: the platform's clock was ahead",
            head.timestamp, checked.gen_time
        ));
    }
    proven.timestamped_at = Some(checked.gen_time);
    proven.timestamp_authority = Some(checked.authority);
}

/// Each given file must be byte-identical to a proven document.
fn check_documents(documents: &[GivenDocument], proven: &mut Proven, checks: &mut Checks) {
    for given in documents {
        match proven
            .documents
            .iter_mut()
            .find(|d| d.sha256 == given.sha256)
        {
            Some(d) => {
                checks.ok(format!(
                    "{} is byte-identical to the served document «{}» (SHA-256 {})",
                    given.name, d.title, d.sha256
                ));
                d.matched_file = Some(given.name.clone());
            }
            None => checks.fail(format!(
                "{} (SHA-256 {}) is not a document of this service",
                given.name, given.sha256
            )),
        }
    }
}

impl Report {
    /// The report as lines for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let mark = match c.outcome {
                Outcome::Ok => "ok     ",
                Outcome::Warning => "warning",
                Outcome::Failed => "FAILED ",
            };
            out.push_str(&format!("{mark} {}\n", c.detail));
        }
        if let Some(p) = &self.proven {
            out.push_str(&format!(
                "\nproven: {} {}, served on {} ({})\n",
                p.court, p.case_number, p.recipient, p.recipient_role
            ));
            for d in &p.documents {
                out.push_str(&format!("  document «{}» SHA-256 {}\n", d.title, d.sha256));
            }
            match (&p.served_at, &p.service_rule) {
                (Some(at), Some(rule)) => {
                    out.push_str(&format!("  legal time of service {at} under rule {rule}\n"))
                }
                _ => out.push_str("  not yet served in law\n"),
            }
            if let (Some(at), Some(by)) = (&p.timestamped_at, &p.timestamp_authority) {
                out.push_str(&format!("  log head timestamped at {at} by {by}\n"));
            }
        }
        let failures = self
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Failed)
            .count();
        if self.valid {
            out.push_str("\nVALID\n");
        } else {
            out.push_str(&format!("\nINVALID: {failures} check(s) failed\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests;
