//! PEM (RFC 7468): the base64 blocks between `-----BEGIN LABEL-----` and
//! `-----END LABEL-----`, as keys and certificates are handed to Songda.

use base64::Engine;

/// The bytes of every block labelled `label`, in order. A block that is not valid base64
/// is an error.
pub fn blocks(text: &str, label: &str) -> Result<Vec<Vec<u8>>, String> {
    let (begin, end) = (
        format!("-----BEGIN {label}-----"),
        format!("-----END {label}-----"),
    );
    let mut found = Vec::new();
    let mut block: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match &mut block {
            None if line == begin => block = Some(String::new()),
            Some(b) if line == end => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b.as_bytes())
                    .map_err(|_| format!("a PEM {label} is not valid base64"))?;
                found.push(bytes);
                block = None;
            }
            Some(b) => b.push_str(line),
            None => {}
        }
    }
    Ok(found)
}

/// The bytes of the first block labelled `label`, if there is a valid one.
pub fn first(text: &str, label: &str) -> Option<Vec<u8>> {
    blocks(text, label).ok()?.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_of_the_label_are_read_in_order_and_others_skipped() {
        let text = "junk\n-----BEGIN PUBLIC KEY-----\nAAEC\n-----END PUBLIC KEY-----\n\
                    -----BEGIN CERTIFICATE-----\nAw==\n-----END CERTIFICATE-----\n\
                    -----BEGIN CERTIFICATE-----\n BA==\n-----END CERTIFICATE-----\n";
        assert_eq!(blocks(text, "CERTIFICATE").unwrap(), [vec![3], vec![4]]);
        assert_eq!(first(text, "PUBLIC KEY"), Some(vec![0, 1, 2]));
        assert_eq!(first(text, "PRIVATE KEY"), None);
        let bad = "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n";
        assert!(blocks(bad, "CERTIFICATE").is_err());
    }
}
