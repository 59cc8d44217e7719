//! Deciding whether an uploaded file is a PDF that we can serve, judged only
//! by parsing its bytes: the name and the declared content type prove nothing.
//!
//! Two independent parsers must agree. lopdf reads the header, the
//! cross-reference data and trailer, and tells us about encryption; hayro's
//! parser, the one `render.rs` rasterises with, walks the page tree. A file
//! that passes therefore also opens in the renderer, with the same pages.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use hayro::hayro_syntax::{LoadPdfError, Pdf};

use super::{PdfError, PdfInfo};

/// How far into the file the `%PDF-` header may start. Viewers tolerate a
/// little junk before it (some mail gateways prepend a line); anything later
/// means the file is something else that merely contains the string.
const HEADER_WINDOW: usize = 1024;

/// How far before the end the last `%%EOF` must be. A file cut short in
/// transfer loses it, and lenient parsers would otherwise rebuild the
/// cross-reference table from what is left and accept a partial document.
const TRAILER_WINDOW: usize = 1024;

/// Check that the file at `path` is a PDF we can serve and describe it.
///
/// Rejected, as [`PdfError::NotPdf`]: an empty file, anything without a PDF
/// header (HTML, PNG, ZIP, ... renamed `.pdf`), a truncated file, a file
/// whose structure does not parse, an encrypted file, and a file without
/// pages.
///
/// The whole file is read into memory. Both parsers work on a byte slice,
/// and lopdf's metadata-only loader (`Document::load_metadata`, used here
/// in its `_mem` form) reads the whole file itself too; without `unsafe`,
/// which the workspace forbids, there is no memory map to avoid that. What
/// the metadata path does save is parsing: only the cross-reference data,
/// trailer, catalog and page tree are decoded, never content streams or
/// images, so peak memory stays close to the file size.
pub fn inspect(path: &Path) -> Result<PdfInfo, PdfError> {
    let data = Arc::new(std::fs::read(path)?);
    // Both parsers meet hostile input here; should one panic rather than
    // return an error, the file is refused instead of the worker dying.
    catch_unwind(AssertUnwindSafe(|| inspect_bytes(data)))
        .unwrap_or_else(|_| Err(not_pdf("the structure could not be read")))
}

fn not_pdf(why: impl Into<String>) -> PdfError {
    PdfError::NotPdf(why.into())
}

fn encrypted() -> PdfError {
    not_pdf(
        "the file is encrypted (password-protected or with restricted permissions); \
         an encrypted document cannot be rendered for phones or preserved verifiably, \
         so please upload an unencrypted copy",
    )
}

fn inspect_bytes(data: Arc<Vec<u8>>) -> Result<PdfInfo, PdfError> {
    let bytes = data.as_slice();
    if bytes.is_empty() {
        return Err(not_pdf("the file is empty"));
    }
    // Recognising the usual mistakes (a scan saved as an image, a saved web
    // page, a Word file) gives the uploader a useful message, and settles
    // such files even when they happen to contain the text `%PDF-`.
    if let Some(kind) = sniff(bytes) {
        return Err(not_pdf(format!("the file is {kind}")));
    }
    let head = &bytes[..bytes.len().min(HEADER_WINDOW)];
    if find(head, b"%PDF-").is_none() {
        return Err(not_pdf("the file does not start with a PDF header"));
    }
    let tail = &bytes[bytes.len().saturating_sub(TRAILER_WINDOW)..];
    if find(tail, b"%%EOF").is_none() {
        return Err(not_pdf("the file is truncated: it does not end with %%EOF"));
    }

    let meta = lopdf::Document::load_metadata_mem(bytes)
        .map_err(|e| not_pdf(format!("the structure could not be read: {e}")))?;
    if meta.encrypted {
        return Err(encrypted());
    }

    let pdf = Pdf::new(Arc::clone(&data)).map_err(|e| match e {
        LoadPdfError::Decryption(_) => encrypted(),
        LoadPdfError::Invalid => not_pdf("the structure could not be read"),
    })?;
    let pages = u32::try_from(pdf.pages().len()).map_err(|_| not_pdf("too many pages"))?;
    if pages == 0 || meta.page_count == 0 {
        return Err(not_pdf("the document has no pages"));
    }
    // The page count is what people are told they were served, so a file
    // whose count depends on which program reads it is refused.
    if pages != meta.page_count {
        return Err(not_pdf(format!(
            "the page tree is damaged: it declares {} pages but {pages} can be read",
            meta.page_count
        )));
    }

    Ok(PdfInfo {
        page_count: pages,
        version: meta.version,
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What a file that is certainly not a PDF is, by its first bytes.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let trimmed = &bytes[start..];
    let lower: Vec<u8> = trimmed
        .iter()
        .take(16)
        .map(u8::to_ascii_lowercase)
        .collect();
    let kind = if trimmed.starts_with(b"\x89PNG") {
        "a PNG image"
    } else if trimmed.starts_with(b"\xFF\xD8\xFF") {
        "a JPEG image"
    } else if trimmed.starts_with(b"PK\x03\x04") {
        "a ZIP archive (or a Word/WPS/OFD document)"
    } else if trimmed.starts_with(b"\xD0\xCF\x11\xE0") {
        "an old-style Office document"
    } else if lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html") {
        "a web page"
    } else {
        return None;
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::sample_pdf;
    use lopdf::{EncryptionState, EncryptionVersion, Permissions, dictionary};

    fn inspect_file(bytes: &[u8]) -> Result<PdfInfo, PdfError> {
        // Through the real entry point, with a `.pdf` name to show the name is ignored.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload.pdf");
        std::fs::write(&path, bytes).unwrap();
        inspect(&path)
    }

    fn assert_rejected(bytes: &[u8], expected: &str) {
        match inspect_file(bytes) {
            Err(PdfError::NotPdf(why)) => {
                assert!(why.contains(expected), "{why:?} lacks {expected:?}")
            }
            other => panic!("expected NotPdf containing {expected:?}, got {other:?}"),
        }
    }

    fn lines(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("第{i}行 line {i}")).collect()
    }

    #[test]
    fn accepts_samples_and_counts_pages() {
        for (n, pages) in [(1, 1), (60, 3)] {
            let body = lines(n);
            let body: Vec<&str> = body.iter().map(String::as_str).collect();
            let info = inspect_file(&sample_pdf("民事传票", &body)).unwrap();
            assert_eq!(
                info,
                PdfInfo {
                    page_count: pages,
                    version: "1.7".into()
                }
            );
        }
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let err = inspect(Path::new("/nonexistent/songda/upload.pdf")).unwrap_err();
        assert!(matches!(err, PdfError::Io(_)), "{err:?}");
    }

    #[test]
    fn rejects_empty_file() {
        assert_rejected(b"", "empty");
    }

    #[test]
    fn rejects_other_formats_renamed_to_pdf() {
        assert_rejected(
            b"<!DOCTYPE html><html><body>%PDF-1.7 %%EOF</body></html>",
            "web page",
        );
        assert_rejected(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR%%EOF", "PNG");
        assert_rejected(b"PK\x03\x04\x14\0\0\0\0\0%%EOF", "ZIP");
        assert_rejected(b"\xFF\xD8\xFF\xE0\0\x10JFIF%PDF-1.4%%EOF", "JPEG");
        // The header string far into the file does not make it a PDF.
        let mut padded = b"Just some text.\n".repeat(100);
        padded.extend(sample_pdf("x", &[]));
        assert_rejected(&padded, "does not start with a PDF header");
        // A little junk before the header is tolerated, as viewers do.
        let mut prefixed = b"\r\n".to_vec();
        prefixed.extend(sample_pdf("x", &[]));
        assert_eq!(inspect_file(&prefixed).unwrap().page_count, 1);
    }

    #[test]
    fn rejects_truncated_pdf() {
        let pdf = sample_pdf("民事传票", &["被传唤人：张三"]);
        assert_rejected(&pdf[..pdf.len() / 2], "truncated");
        // Cut just before the end: the %%EOF marker is gone.
        assert_rejected(&pdf[..pdf.len() - 7], "truncated");
    }

    #[test]
    fn rejects_header_only_and_garbage_structure() {
        assert_rejected(b"%PDF-1.7\n%%EOF\n", "structure");
        assert_rejected(
            b"%PDF-1.7\nthis is not a pdf body\ntrailer\n<<>>\n%%EOF\n",
            "structure",
        );
    }

    #[test]
    fn rejects_pdf_without_pages() {
        let mut doc = lopdf::Document::with_version("1.7");
        let pages = doc.add_object(dictionary! {
            "Type" => "Pages", "Kids" => Vec::<lopdf::Object>::new(), "Count" => 0,
        });
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        assert_rejected(&bytes, "no pages");
    }

    #[test]
    fn rejects_pdf_whose_page_count_lies() {
        let mut doc = lopdf::Document::load_mem(&sample_pdf("x", &["y"])).unwrap();
        let pages_id = doc
            .catalog()
            .unwrap()
            .get(b"Pages")
            .unwrap()
            .as_reference()
            .unwrap();
        doc.get_dictionary_mut(pages_id).unwrap().set("Count", 5);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        assert_rejected(&bytes, "page tree is damaged");
    }

    #[test]
    fn rejects_encrypted_pdf() {
        // Both a real password and an owner-only password (opens without one) are refused.
        for user_password in ["secret", ""] {
            let mut doc = lopdf::Document::load_mem(&sample_pdf("民事传票", &["机密"])).unwrap();
            let id = lopdf::Object::string_literal(*b"0123456789abcdef");
            doc.trailer.set("ID", vec![id.clone(), id]);
            let state = EncryptionState::try_from(EncryptionVersion::V2 {
                document: &doc,
                owner_password: "owner",
                user_password,
                key_length: 128,
                permissions: Permissions::all(),
            })
            .unwrap();
            doc.encrypt(&state).unwrap();
            let mut bytes = Vec::new();
            doc.save_to(&mut bytes).unwrap();
            assert_rejected(&bytes, "encrypted");
        }
    }
}
