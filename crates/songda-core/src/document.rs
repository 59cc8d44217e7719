//! Documents served by a court: their controlled type vocabulary and content hashes.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The controlled vocabulary of document types (DOMAIN.md section 4). Policy rules are
/// stated per type, so free text is never accepted here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocType {
    Summons,
    Notice,
    ComplaintCopy,
    Evidence,
    Judgment,
    Ruling,
    MediationDocument,
    Decision,
    Other,
}

impl DocType {
    pub const ALL: [DocType; 9] = [
        DocType::Summons,
        DocType::Notice,
        DocType::ComplaintCopy,
        DocType::Evidence,
        DocType::Judgment,
        DocType::Ruling,
        DocType::MediationDocument,
        DocType::Decision,
        DocType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Summons => "summons",
            DocType::Notice => "notice",
            DocType::ComplaintCopy => "complaint_copy",
            DocType::Evidence => "evidence",
            DocType::Judgment => "judgment",
            DocType::Ruling => "ruling",
            DocType::MediationDocument => "mediation_document",
            DocType::Decision => "decision",
            DocType::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            DocType::Summons => "传票",
            DocType::Notice => "通知书",
            DocType::ComplaintCopy => "起诉状副本",
            DocType::Evidence => "证据材料",
            DocType::Judgment => "判决书",
            DocType::Ruling => "裁定书",
            DocType::MediationDocument => "调解书",
            DocType::Decision => "决定书",
            DocType::Other => "其他诉讼文书",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            DocType::Summons => "Summons",
            DocType::Notice => "Notice",
            DocType::ComplaintCopy => "Copy of complaint",
            DocType::Evidence => "Evidence",
            DocType::Judgment => "Judgment",
            DocType::Ruling => "Ruling",
            DocType::MediationDocument => "Mediation document",
            DocType::Decision => "Decision",
            DocType::Other => "Other document",
        }
    }
}

impl fmt::Display for DocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SHA-256 digest as 64 lowercase hex characters: the identity of a document's bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hex(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a SHA-256 hex digest")]
pub struct InvalidDigest;

impl Sha256Hex {
    pub fn parse(s: &str) -> Result<Self, InvalidDigest> {
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(s.to_string()))
        } else {
            Err(InvalidDigest)
        }
    }
    pub fn from_bytes(digest: &[u8; 32]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in digest {
            s.push(HEX[(b >> 4) as usize] as char);
            s.push(HEX[(b & 15) as usize] as char);
        }
        Self(s)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Sha256Hex {
    type Error = InvalidDigest;
    fn try_from(s: String) -> Result<Self, InvalidDigest> {
        Self::parse(&s)
    }
}

impl From<Sha256Hex> for String {
    fn from(h: Sha256Hex) -> String {
        h.0
    }
}

/// A document title as shown to the recipient, e.g. `民事传票`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentTitle(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("document title must be 1 to 200 characters")]
pub struct DocumentTitleError;

impl DocumentTitle {
    pub fn parse(s: &str) -> Result<Self, DocumentTitleError> {
        let s = s.trim();
        let n = s.chars().count();
        if n == 0 || n > 200 || s.chars().any(char::is_control) {
            return Err(DocumentTitleError);
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_types_round_trip_and_reject_unknown() {
        for t in DocType::ALL {
            assert_eq!(DocType::parse(t.as_str()), Some(t));
        }
        assert_eq!(DocType::parse("Judgment"), None);
    }

    #[test]
    fn digests_are_lowercase_hex_of_32_bytes() {
        let h = Sha256Hex::from_bytes(&[0xab; 32]);
        assert_eq!(h.as_str(), "ab".repeat(32));
        assert!(Sha256Hex::parse(&"AB".repeat(32)).is_err());
        assert!(Sha256Hex::parse("abc").is_err());
    }
}
