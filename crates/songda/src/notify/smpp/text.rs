//! A message's text as SMS parts: the SMSC's default alphabet where every character is one
//! that GSM 03.38 and ASCII agree on, else UCS-2 (UTF-16BE), which Chinese needs. A text too
//! long for one SMS is cut into parts that carry a concatenation header (a user data header
//! with information element 0x00: reference, total, number), which the phone reassembles.

/// `data_coding`: the SMSC's default alphabet.
pub const DEFAULT_ALPHABET: u8 = 0x00;
/// `data_coding`: UCS-2.
pub const UCS2: u8 = 0x08;
/// `esm_class`: the message starts with a user data header.
pub const UDHI: u8 = 0x40;

/// One SMS: what goes into one `submit_sm`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub data_coding: u8,
    pub esm_class: u8,
    pub short_message: Vec<u8>,
}

/// Characters that are the same octet in ASCII and in the GSM 7-bit default alphabet, so
/// they arrive unchanged however the SMSC reads the default alphabet. `@`, `$`, `_` and
/// brackets are not among them.
fn same_in_gsm(c: char) -> bool {
    c.is_ascii_alphanumeric() || " \n\r!\"#%&'()*+,-./:;<=>?".contains(c)
}

/// The parts of `text`; `reference` ties the parts of one message together.
pub fn parts(text: &str, reference: u8) -> Result<Vec<Part>, String> {
    if text.chars().all(same_in_gsm) {
        let bytes = text.as_bytes();
        if bytes.len() <= 160 {
            return Ok(vec![single(DEFAULT_ALPHABET, bytes.to_vec())]);
        }
        let chunks: Vec<Vec<u8>> = bytes.chunks(153).map(<[u8]>::to_vec).collect();
        return concatenated(DEFAULT_ALPHABET, chunks, reference);
    }
    let units: Vec<u16> = text.encode_utf16().collect();
    let be = |units: &[u16]| units.iter().flat_map(|u| u.to_be_bytes()).collect();
    if units.len() <= 70 {
        return Ok(vec![single(UCS2, be(&units))]);
    }
    let mut chunks = Vec::new();
    let mut rest = &units[..];
    while !rest.is_empty() {
        let mut n = rest.len().min(67);
        // Never part a surrogate pair: a character outside the BMP stays whole.
        if n < rest.len() && (0xD800..0xDC00).contains(&rest[n - 1]) {
            n -= 1;
        }
        chunks.push(be(&rest[..n]));
        rest = &rest[n..];
    }
    concatenated(UCS2, chunks, reference)
}

fn single(data_coding: u8, short_message: Vec<u8>) -> Part {
    Part {
        data_coding,
        esm_class: 0,
        short_message,
    }
}

fn concatenated(data_coding: u8, chunks: Vec<Vec<u8>>, reference: u8) -> Result<Vec<Part>, String> {
    let total = u8::try_from(chunks.len())
        .map_err(|_| format!("a text of {} SMS parts is longer than 255", chunks.len()))?;
    Ok(chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut sm = vec![0x05, 0x00, 0x03, reference, total, i as u8 + 1];
            sm.extend_from_slice(&chunk);
            Part {
                data_coding,
                esm_class: UDHI,
                short_message: sm,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ucs2_text(bytes: &[u8]) -> String {
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).unwrap()
    }

    #[test]
    fn plain_latin_text_goes_in_the_default_alphabet_and_chinese_in_ucs2() {
        let p = parts("Your code is 123456.", 1).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].data_coding, DEFAULT_ALPHABET);
        assert_eq!(p[0].short_message, b"Your code is 123456.");
        // '@' is another character in GSM 03.38: such text goes as UCS-2.
        assert_eq!(parts("mail me@court", 1).unwrap()[0].data_coding, UCS2);
        let p = parts("【某某法院】验证码 123456", 1).unwrap();
        assert_eq!((p.len(), p[0].data_coding, p[0].esm_class), (1, UCS2, 0));
        assert_eq!(ucs2_text(&p[0].short_message), "【某某法院】验证码 123456");
    }

    #[test]
    fn long_text_is_cut_into_numbered_parts_that_reassemble() {
        let text: String = "送达通知：".repeat(30); // 150 characters
        let p = parts(&text, 42).unwrap();
        assert_eq!(p.len(), 3); // 67 + 67 + 16
        let mut joined = String::new();
        for (i, part) in p.iter().enumerate() {
            assert_eq!(part.esm_class, UDHI);
            assert_eq!(&part.short_message[..6], &[5, 0, 3, 42, 3, i as u8 + 1]);
            assert!(part.short_message.len() <= 140);
            joined.push_str(&ucs2_text(&part.short_message[6..]));
        }
        assert_eq!(joined, text);
        let latin = "a".repeat(161);
        let p = parts(&latin, 1).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].short_message.len(), 6 + 153);
        assert_eq!(parts(&"a".repeat(160), 1).unwrap().len(), 1);
        assert_eq!(parts(&"字".repeat(70), 1).unwrap().len(), 1);
        assert_eq!(parts(&"字".repeat(71), 1).unwrap().len(), 2);
    }

    #[test]
    fn a_character_outside_the_bmp_is_never_split() {
        // 66 characters, then an emoji (two UTF-16 units) across the 67-unit boundary.
        let text = format!("{}😀{}", "字".repeat(66), "字".repeat(10));
        let p = parts(&text, 1).unwrap();
        assert_eq!(p[0].short_message.len(), 6 + 66 * 2);
        let joined: String = p.iter().map(|x| ucs2_text(&x.short_message[6..])).collect();
        assert_eq!(joined, text);
    }
}
