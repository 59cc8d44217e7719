//! The one byte encoding of an evidence event, the bytes that are hashed into the Merkle
//! log and signed over: the JSON Canonicalization Scheme of RFC 8785 (`CANONICAL_FORM`).
//!
//! Object members are sorted by the UTF-16 code units of their names; there is no
//! whitespace; strings escape only `"`, `\` and control characters (`\b \t \n \f \r`, the
//! others as `\u00xx` in lower case) and keep every other character as UTF-8; literals are
//! `null`, `true`, `false`. Numbers are restricted to integers of magnitude at most 2^53,
//! which RFC 8785 writes as plain decimals: events carry no fractions, and refusing them
//! keeps this encoder short enough to check by reading. Anyone can recompute the bytes
//! from an event's JSON with any RFC 8785 implementation.

use serde::Serialize;
use serde_json::Value;

/// The name of the encoding, carried next to canonical bytes (certificates, the log), so
/// that a later encoding can be told apart.
pub const CANONICAL_FORM: &str = "jcs-rfc8785";

/// The largest integer magnitude that has a canonical form here (IEEE 754 doubles hold
/// every integer up to it exactly).
const MAX_SAFE_INTEGER: u64 = 1 << 53;

#[derive(Debug, thiserror::Error)]
pub enum CanonicalError {
    #[error("the number {0} has no canonical form here: only integers up to 2^53 are allowed")]
    Number(String),
    #[error("cannot encode as JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The canonical bytes of any serializable value.
pub fn to_canonical<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let value = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(256);
    write_value(&value, &mut out)?;
    Ok(out)
}

fn write_value(v: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, (name, value)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(name, out);
                out.push(b':');
                write_value(value, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    let text = if let Some(u) = n.as_u64().filter(|&u| u <= MAX_SAFE_INTEGER) {
        u.to_string()
    } else if let Some(i) = n.as_i64().filter(|&i| i.unsigned_abs() <= MAX_SAFE_INTEGER) {
        i.to_string()
    } else {
        return Err(CanonicalError::Number(n.to_string()));
    };
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    // Every byte to escape is ASCII, never part of a multi-byte character, so the string is
    // copied in runs between them.
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            0x08 => b"\\b",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            0x0c => b"\\f",
            b'\r' => b"\\r",
            0x00..=0x1f => &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ],
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        out.extend_from_slice(escaped);
        run = i + 1;
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(json: &str) -> String {
        let v: Value = serde_json::from_str(json).unwrap();
        String::from_utf8(to_canonical(&v).unwrap()).unwrap()
    }

    #[test]
    fn strings_and_literals_follow_the_rfc_8785_example() {
        // RFC 8785 section 3.2.2, without its fractional numbers.
        let input = r#"{
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        assert_eq!(
            canon(input),
            r#"{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn members_sort_by_utf16_code_units_not_by_utf8_bytes() {
        // RFC 8785 section 3.2.3: the emoji (a surrogate pair, D83D...) sorts before
        // U+FB33, although its UTF-8 bytes sort after.
        let input = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let out = canon(input);
        let names: Vec<&str> = ["\\r", "1", "\u{80}", "ö", "€", "😀", "\u{fb33}"].to_vec();
        let mut at = 0;
        for name in names {
            let pos = out[at..]
                .find(&format!("\"{name}\":"))
                .unwrap_or_else(|| panic!("{name:?} out of order in {out}"));
            at += pos + 1;
        }
    }

    #[test]
    fn nested_values_have_no_whitespace_and_integers_are_plain() {
        assert_eq!(
            canon(r#"{ "b" : [ 1 , -2 , { "z": 0, "a": 9007199254740992 } ], "a": "中文" }"#),
            r#"{"a":"中文","b":[1,-2,{"a":9007199254740992,"z":0}]}"#
        );
    }

    #[test]
    fn fractions_and_huge_integers_are_refused_not_guessed() {
        for n in ["1.5", "9007199254740993", "-9007199254740993", "1e400"] {
            let v: Result<Value, _> = serde_json::from_str(n);
            if let Ok(v) = v {
                assert!(
                    matches!(to_canonical(&v), Err(CanonicalError::Number(_))),
                    "{n}"
                );
            }
        }
    }

    #[test]
    fn the_same_value_gives_the_same_bytes_whatever_the_input_order() {
        let a = canon(r#"{"x":{"q":1,"p":[true,null]},"c":"\u0001"}"#);
        let b = canon(r#"{"c":"\u0001","x":{"p":[true,null],"q":1}}"#);
        assert_eq!(a, b);
        assert_eq!(a, r#"{"c":"\u0001","x":{"p":[true,null],"q":1}}"#);
    }
}
