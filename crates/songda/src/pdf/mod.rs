//! PDF handling for served documents: deciding whether an upload is a PDF we
//! can serve ([`inspect`]), turning a page into a PNG for phones
//! ([`render_page_png`]), and producing small sample documents for the demo
//! and for tests ([`sample_pdf`]), and printing the service certificate
//! ([`certificate_pdf`] with a [`CertificateFont`]).
//!
//! Everything here is synchronous and CPU- or disk-bound; async callers
//! should run it on `tokio::task::spawn_blocking`.

mod certificate;
mod check;
mod render;
mod sample;

pub use certificate::{CertificateFont, certificate_pdf};
pub use check::inspect;
pub use render::render_page_png;
pub use sample::sample_pdf;

/// What [`inspect`] learned about a PDF that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfInfo {
    /// Number of pages, at least 1.
    pub page_count: u32,
    /// Version from the file header, such as `1.7`.
    pub version: String,
}

/// Why a file could not be inspected or rendered.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The file is not a PDF we accept; the text says why, in words fit for
    /// the person who uploaded it.
    #[error("not a PDF: {0}")]
    NotPdf(String),
    /// A 1-based page number outside the document.
    #[error("page {0} does not exist")]
    NoSuchPage(u32),
    /// The renderer could not produce an image (including a requested size
    /// outside the limits).
    #[error("could not render: {0}")]
    Render(String),
    /// No usable font for the certificate; the text names what was looked for.
    #[error("font: {0}")]
    Font(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
