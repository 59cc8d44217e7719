//! Parties of a case and how they are reached: names, roles, phone numbers, email addresses.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The part a party plays in a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    Plaintiff,
    Defendant,
    ThirdParty,
    /// A litigation agent, designated recipient or receiving officer (CPL Art. 88).
    Agent,
}

impl PartyRole {
    pub const ALL: [PartyRole; 4] = [
        PartyRole::Plaintiff,
        PartyRole::Defendant,
        PartyRole::ThirdParty,
        PartyRole::Agent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PartyRole::Plaintiff => "plaintiff",
            PartyRole::Defendant => "defendant",
            PartyRole::ThirdParty => "third_party",
            PartyRole::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PartyRole::Plaintiff => "原告",
            PartyRole::Defendant => "被告",
            PartyRole::ThirdParty => "第三人",
            PartyRole::Agent => "诉讼代理人",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("name must be 1 to 100 characters")]
    Name,
    #[error(
        "phone must be a mainland mobile number (11 digits starting with 1) or +country number"
    )]
    Phone,
    #[error("email address is not valid")]
    Email,
}

/// A person's or organisation's name as the court records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(s: &str) -> Result<Self, ContactError> {
        let s = s.trim();
        let n = s.chars().count();
        if n == 0 || n > 100 || s.chars().any(char::is_control) {
            return Err(ContactError::Name);
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number able to receive SMS, normalised: mainland mobiles as 11 digits
/// (`13800138000`), others in E.164 (`+85291234567`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(s: &str) -> Result<Self, ContactError> {
        let compact: String = s
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let mainland = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .unwrap_or(&compact);
        let b = mainland.as_bytes();
        if b.len() == 11
            && b[0] == b'1'
            && (b'3'..=b'9').contains(&b[1])
            && b.iter().all(u8::is_ascii_digit)
        {
            return Ok(Self(mainland.to_string()));
        }
        if let Some(intl) = compact.strip_prefix('+')
            && (8..=15).contains(&intl.len())
            && intl.bytes().all(|c| c.is_ascii_digit())
            && !intl.starts_with('0')
        {
            return Ok(Self(compact));
        }
        Err(ContactError::Phone)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// `138****8000`: for screens that should not show a full number to onlookers.
    pub fn masked(&self) -> String {
        let s = &self.0;
        let n = s.len();
        if n < 8 {
            return s.clone();
        }
        format!("{}****{}", &s[..n - 8], &s[n - 4..])
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, with the domain lower-cased. Deliberately permissive beyond the
/// basic shape: the mail server is the judge of deliverability, and its answer is evidence.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, ContactError> {
        let s = s.trim();
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ContactError::Email);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(ContactError::Email)?;
        let labels_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local.is_empty() || local.len() > 64 || local.contains('@') || !labels_ok {
            return Err(ContactError::Email);
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_mobiles_are_normalised() {
        for s in ["13800138000", "+86 138 0013 8000", "0086-138-0013-8000"] {
            assert_eq!(PhoneNumber::parse(s).unwrap().as_str(), "13800138000");
        }
        assert_eq!(
            PhoneNumber::parse("+852 9123 4567").unwrap().as_str(),
            "+85291234567"
        );
        for bad in [
            "",
            "12800138000",
            "1380013800",
            "1380013800a",
            "+0123456789",
            "010-12345678",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PhoneNumber::parse("13800138000").unwrap().masked(),
            "138****8000"
        );
    }

    #[test]
    fn emails_keep_the_local_part_and_lower_the_domain() {
        assert_eq!(
            EmailAddress::parse(" Li.Si@Example.COM ").unwrap().as_str(),
            "Li.Si@example.com"
        );
        assert!(EmailAddress::parse("李四@法院.中国").is_ok());
        for bad in ["", "a", "a@b", "@b.cn", "a b@c.cn", "a@-b.cn", "a@b..cn"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_round_trip() {
        for r in PartyRole::ALL {
            assert_eq!(PartyRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(PartyRole::parse("judge"), None);
    }
}
