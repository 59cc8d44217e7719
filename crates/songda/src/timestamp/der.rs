//! Just enough DER (ITU-T X.690) for RFC 3161: reading the tag-length-value items of a
//! timestamp token and its certificates, and writing a timestamp request. Single-byte tags
//! and definite lengths only, which is all DER allows for these structures.

pub const BOOLEAN: u8 = 0x01;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;
pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
/// `[n]` constructed (explicit, or implicit over a constructed type).
pub const fn context(n: u8) -> u8 {
    0xa0 | n
}
/// `[n]` primitive (implicit over a primitive type).
pub const fn context_primitive(n: u8) -> u8 {
    0x80 | n
}

/// One item: its tag, its contents and its whole encoding.
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// The items inside a constructed item.
    pub fn items(&self) -> Der<'a> {
        Der::new(self.value)
    }
}

/// A cursor over consecutive items.
#[derive(Clone, Copy, Debug)]
pub struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// The next item, whatever its tag.
    pub fn next_item(&mut self, what: &str) -> Result<Tlv<'a>, String> {
        let bad = || format!("{what}: malformed DER");
        let (&tag, after_tag) = self
            .rest
            .split_first()
            .ok_or_else(|| format!("{what}: missing"))?;
        if tag & 0x1f == 0x1f {
            return Err(bad());
        }
        let (&first, mut after_len) = after_tag.split_first().ok_or_else(bad)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || after_len.len() < n || after_len[0] == 0 {
                return Err(bad());
            }
            let len = after_len[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            // DER: the long form only when the short one cannot say it.
            if len < 0x80 {
                return Err(bad());
            }
            after_len = &after_len[n..];
            len
        };
        if after_len.len() < len {
            return Err(bad());
        }
        let header = self.rest.len() - after_len.len();
        let raw = &self.rest[..header + len];
        self.rest = &after_len[len..];
        Ok(Tlv {
            tag,
            value: &raw[header..],
            raw,
        })
    }

    /// The next item, which must have `tag`.
    pub fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, String> {
        let item = self.next_item(what)?;
        if item.tag != tag {
            return Err(format!(
                "{what}: expected tag {tag:#04x}, found {:#04x}",
                item.tag
            ));
        }
        Ok(item)
    }

    /// The next item if it has `tag`.
    pub fn optional(&mut self, tag: u8, what: &str) -> Result<Option<Tlv<'a>>, String> {
        if self.peek_tag() == Some(tag) {
            self.expect(tag, what).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Checks that nothing follows.
    pub fn finish(&self, what: &str) -> Result<(), String> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(format!("{what}: unexpected bytes after the end"))
        }
    }
}

/// Reads a whole encoding that must be exactly one item with `tag`.
pub fn single<'a>(bytes: &'a [u8], tag: u8, what: &str) -> Result<Tlv<'a>, String> {
    let mut der = Der::new(bytes);
    let item = der.expect(tag, what)?;
    der.finish(what)?;
    Ok(item)
}

/// An OBJECT IDENTIFIER's contents in dotted form, for messages.
pub fn oid_string(contents: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for b in contents {
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// An AlgorithmIdentifier: its OID contents (the parameters are not needed here).
pub fn algorithm(item: &Tlv<'_>, what: &str) -> Result<Vec<u8>, String> {
    if item.tag != SEQUENCE {
        return Err(format!("{what}: not an algorithm identifier"));
    }
    Ok(item.items().expect(OID, what)?.value.to_vec())
}

/// Writes one item.
pub fn write(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(contents);
    out
}

/// Writes a constructed item from its parts.
pub fn write_all(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    write(tag, &parts.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn write_unsigned(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = {
        let skip = magnitude
            .iter()
            .take_while(|b| **b == 0)
            .count()
            .min(magnitude.len().saturating_sub(1));
        magnitude[skip..].to_vec()
    };
    let mut contents = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        contents.push(0);
    }
    contents.extend_from_slice(&trimmed);
    write(INTEGER, &contents)
}

/// A time (UTCTime or GeneralizedTime, as DER requires them: UTC, `Z`).
pub fn time(item: &Tlv<'_>, what: &str) -> Result<time::OffsetDateTime, String> {
    let text = std::str::from_utf8(item.value)
        .ok()
        .filter(|t| t.is_ascii())
        .ok_or_else(|| format!("{what}: the time is not ASCII text"))?;
    let bad = || format!("{what}: the time {text:?} is not a UTC time");
    let body = text.strip_suffix('Z').ok_or_else(bad)?;
    let full = match item.tag {
        UTC_TIME if body.len() == 12 => {
            let yy: u32 = body[..2].parse().map_err(|_| bad())?;
            format!("{}{body}", if yy >= 50 { "19" } else { "20" })
        }
        GENERALIZED_TIME if body.len() >= 14 => body.to_string(),
        _ => return Err(bad()),
    };
    let (digits, fraction) = full.split_at(14);
    if !digits.bytes().all(|b| b.is_ascii_digit())
        || !(fraction.is_empty()
            || (fraction.len() > 1
                && fraction.len() <= 10
                && fraction.starts_with('.')
                && fraction[1..].bytes().all(|b| b.is_ascii_digit())))
    {
        return Err(bad());
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}{fraction}Z",
        &digits[..4],
        &digits[4..6],
        &digits[6..8],
        &digits[8..10],
        &digits[10..12],
        &digits[12..14]
    );
    time::OffsetDateTime::parse(&rfc3339, &time::format_description::well_known::Rfc3339)
        .map_err(|_| bad())
}

/// A time as certificates and reports show it: RFC 3339 UTC, fraction only if there is one.
pub fn format_time(t: time::OffsetDateTime) -> String {
    let whole = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match t.nanosecond() {
        0 => format!("{whole}Z"),
        n => format!("{whole}.{}Z", format!("{n:09}").trim_end_matches('0')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_with_short_and_long_lengths() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let contents = vec![7u8; len];
            let encoded = write(OCTET_STRING, &contents);
            let item = single(&encoded, OCTET_STRING, "test").unwrap();
            assert_eq!(item.value, contents.as_slice());
            assert_eq!(item.raw, encoded.as_slice());
        }
    }

    #[test]
    fn truncated_or_trailing_bytes_are_refused() {
        let encoded = write(SEQUENCE, &write(INTEGER, &[1]));
        assert!(single(&encoded[..encoded.len() - 1], SEQUENCE, "x").is_err());
        let mut longer = encoded.clone();
        longer.push(0);
        assert!(single(&longer, SEQUENCE, "x").is_err());
        assert!(single(&[0x1f, 0x01, 0x00], 0x1f, "x").is_err());
        assert!(single(&[0x04, 0x80], OCTET_STRING, "x").is_err());
        // Lengths in the long form that the short form could say, or with a leading zero.
        assert!(single(&[0x04, 0x81, 0x01, 0x00], OCTET_STRING, "x").is_err());
        let mut padded = vec![0x04, 0x82, 0x00, 0x80];
        padded.extend([0u8; 0x80]);
        assert!(single(&padded, OCTET_STRING, "x").is_err());
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(write_unsigned(&[0, 0, 5]), vec![2, 1, 5]);
        assert_eq!(write_unsigned(&[0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(write_unsigned(&[0]), vec![2, 1, 0]);
    }

    #[test]
    fn oids_and_times_read_as_people_write_them() {
        // 2.16.840.1.101.3.4.2.1, SHA-256.
        assert_eq!(
            oid_string(&[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]),
            "2.16.840.1.101.3.4.2.1"
        );
        let read = |tag: u8, text: &[u8]| {
            let encoded = write(tag, text);
            time(&single(&encoded, tag, "t").unwrap(), "t").map(format_time)
        };
        assert_eq!(
            read(UTC_TIME, b"261129083000Z").unwrap(),
            "2026-11-29T08:30:00Z"
        );
        assert_eq!(
            read(GENERALIZED_TIME, b"20261129083000.25Z").unwrap(),
            "2026-11-29T08:30:00.25Z"
        );
        // Local times, impossible dates and text that is not ASCII digits are refused, never
        // a panic.
        for (tag, text) in [
            (GENERALIZED_TIME, &b"20261129083000"[..]),
            (GENERALIZED_TIME, b"20261329083000Z"),
            (GENERALIZED_TIME, b"20261129250000Z"),
            (UTC_TIME, "1\u{e9}345678901Z".as_bytes()),
            (GENERALIZED_TIME, "2026112908300\u{e9}Z".as_bytes()),
            (GENERALIZED_TIME, b"20261129083000.Z"),
        ] {
            assert!(
                read(tag, text).is_err(),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }
}
