//! Cases and their numbers (案号).
//!
//! A case number follows the Supreme People's Court rules on case numbers:
//! `（收案年度）法院代字 + 类型代字 + 案件编号 + 号`, e.g. `(2026)京0105民初12345号`. Clerks type
//! both ASCII and full-width parentheses, so both are accepted; [`CaseNumber::key`] is the
//! one form used to compare and look up.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a case number was not accepted. The message is shown to clerks and parties.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseNumberError {
    #[error("case number is empty")]
    Empty,
    #[error("case number must start with the year in parentheses, e.g. (2026)")]
    Year,
    #[error("year {0} is out of range")]
    YearRange(u32),
    #[error("case number must name the court after the year, e.g. 京0105")]
    Court,
    #[error("case number must give the case type after the court, e.g. 民初")]
    CaseType,
    #[error("case number must give the sequence number, e.g. 12345")]
    Sequence,
    #[error("case number must end with 号")]
    Suffix,
}

/// Court abbreviations (法院代字) start with the province-level abbreviation, or 最高法 for
/// the Supreme People's Court; 兵 is the Xinjiang Production and Construction Corps courts.
const PROVINCES: &str = "京津冀晋蒙辽吉黑沪苏浙皖闽赣鲁豫鄂湘粤桂琼渝川贵云藏陕甘青宁新兵";

/// A validated case number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber {
    /// As the clerk wrote it, trimmed, kept for display: court documents are quoted verbatim.
    text: String,
    year: u32,
    court: String,
    case_type: String,
    sequence: u32,
}

impl CaseNumber {
    pub fn parse(input: &str) -> Result<Self, CaseNumberError> {
        let text: String = input
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if text.is_empty() {
            return Err(CaseNumberError::Empty);
        }
        let mut rest = text.as_str();
        rest = rest
            .strip_prefix('(')
            .or_else(|| rest.strip_prefix('（'))
            .ok_or(CaseNumberError::Year)?;
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if digits.len() != 4 {
            return Err(CaseNumberError::Year);
        }
        let year: u32 = digits.parse().map_err(|_| CaseNumberError::Year)?;
        if !(1949..=2200).contains(&year) {
            return Err(CaseNumberError::YearRange(year));
        }
        rest = &rest[4..];
        rest = rest
            .strip_prefix(')')
            .or_else(|| rest.strip_prefix('）'))
            .ok_or(CaseNumberError::Year)?;

        let court = if let Some(after) = rest.strip_prefix("最高法") {
            rest = after;
            "最高法".to_string()
        } else {
            let first = rest.chars().next().ok_or(CaseNumberError::Court)?;
            if !PROVINCES.contains(first) {
                return Err(CaseNumberError::Court);
            }
            rest = &rest[first.len_utf8()..];
            let code: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            if code.len() > 4 {
                return Err(CaseNumberError::Court);
            }
            rest = &rest[code.len()..];
            format!("{first}{code}")
        };

        let case_type: String = rest.chars().take_while(|c| is_cjk(*c)).collect();
        let type_len = case_type.chars().count();
        if !(1..=8).contains(&type_len) {
            return Err(CaseNumberError::CaseType);
        }
        rest = &rest[case_type.len()..];

        let seq: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        if seq.is_empty() || seq.len() > 9 || seq.starts_with('0') {
            return Err(CaseNumberError::Sequence);
        }
        let sequence: u32 = seq.parse().map_err(|_| CaseNumberError::Sequence)?;
        rest = &rest[seq.len()..];
        if rest != "号" {
            return Err(CaseNumberError::Suffix);
        }
        Ok(Self {
            text,
            year,
            court,
            case_type,
            sequence,
        })
    }

    /// As written by the clerk.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The form used for uniqueness and look-up: full-width parentheses, as the Supreme
    /// People's Court writes them, whatever the clerk or party typed.
    pub fn key(&self) -> String {
        format!(
            "（{}）{}{}{}号",
            self.year, self.court, self.case_type, self.sequence
        )
    }

    pub fn year(&self) -> u32 {
        self.year
    }
    pub fn court(&self) -> &str {
        &self.court
    }
    pub fn case_type(&self) -> &str {
        &self.case_type
    }
    pub fn sequence(&self) -> u32 {
        self.sequence
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}') && c != '号'
}

impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = CaseNumberError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CaseNumber> for String {
    fn from(n: CaseNumber) -> String {
        n.text
    }
}

/// A case title (案由 and short description), e.g. `张三诉李四买卖合同纠纷`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseTitle(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("case title must be 1 to 200 characters")]
pub struct CaseTitleError;

impl CaseTitle {
    pub fn parse(s: &str) -> Result<Self, CaseTitleError> {
        let s = s.trim();
        let n = s.chars().count();
        if n == 0 || n > 200 || s.chars().any(char::is_control) {
            return Err(CaseTitleError);
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
    fn ascii_and_full_width_parentheses_are_the_same_case() {
        let a = CaseNumber::parse("(2026)京0105民初12345号").unwrap();
        let b = CaseNumber::parse("（2026）京0105民初12345号").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key(), "（2026）京0105民初12345号");
        assert_eq!(a.as_str(), "(2026)京0105民初12345号");
        assert_eq!(a.year(), 2026);
        assert_eq!(a.court(), "京0105");
        assert_eq!(a.case_type(), "民初");
        assert_eq!(a.sequence(), 12345);
    }

    #[test]
    fn mixed_parentheses_and_spaces_are_tolerated() {
        let n = CaseNumber::parse("  (2026） 京01 民终 7 号 ").unwrap();
        assert_eq!(n.key(), "（2026）京01民终7号");
    }

    #[test]
    fn supreme_court_and_corps_courts_parse() {
        assert_eq!(
            CaseNumber::parse("(2025)最高法民申100号").unwrap().court(),
            "最高法"
        );
        assert_eq!(
            CaseNumber::parse("(2024)兵0101执55号").unwrap().case_type(),
            "执"
        );
        assert_eq!(
            CaseNumber::parse("(2024)京知民初3号").unwrap().case_type(),
            "知民初"
        );
    }

    #[test]
    fn malformed_numbers_say_what_is_wrong() {
        use CaseNumberError::*;
        let cases = [
            ("", Empty),
            ("2026京0105民初12345号", Year),
            ("(26)京0105民初12345号", Year),
            ("(2026京0105民初12345号", Year),
            ("(1900)京0105民初1号", YearRange(1900)),
            ("(2026)X0105民初1号", Court),
            ("(2026)京010501民初1号", Court),
            ("(2026)京0105-12345号", CaseType),
            ("(2026)京0105民初号", Sequence),
            ("(2026)京0105民初0012号", Sequence),
            ("(2026)京0105民初12345", Suffix),
            ("(2026)京0105民初12345号之一", Suffix),
        ];
        for (input, want) in cases {
            assert_eq!(CaseNumber::parse(input), Err(want), "{input}");
        }
    }

    #[test]
    fn titles_are_bounded() {
        assert!(CaseTitle::parse("张三诉李四买卖合同纠纷").is_ok());
        assert!(CaseTitle::parse("  ").is_err());
        assert!(CaseTitle::parse(&"长".repeat(201)).is_err());
    }
}
