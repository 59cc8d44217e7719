//! The printable service certificate (电子送达凭证): the certificate JSON built by
//! `actions::certificate` laid out as an A4 PDF that a clerk can file in the case
//! dossier like the paper 送达回证. The first page repeats the classic form, field for
//! field, filled in from the electronic record; after it come the evidence the form
//! rests on (document hashes, the timeline of events, the notifications, the signed head
//! of the evidence log) and a box with the verification code and a QR code of the
//! verification address, so that whoever holds the paper can check it against the
//! platform or, with `songda verify`, against the JSON certificate offline.
//!
//! The PDF embeds a subset of a system CJK font ([`CertificateFont`], loaded once per
//! process) so that it prints and extracts the same everywhere. Layout is done here:
//! text is shaped with rustybuzz, wrapped (between any two CJK characters, at spaces
//! or, for over-long Latin and hex, anywhere), placed into bordered tables that flow
//! onto as many pages as the record needs, and handed to krilla as positioned glyphs,
//! so what was measured is exactly what is drawn. The certificate JSON comes from our
//! own code but is read defensively: any field may be missing or of the wrong type,
//! and shows as "—".
//!
//! This file holds the entry point and the page plan every part shares (geometry,
//! colours, type styles). The rest is split by concern: `font` finds and loads the
//! font, `text` shapes and breaks lines, `layout` flows tables onto pages as drawing
//! ops, `draw` hands those ops to krilla, `labels` reads the JSON and puts it in
//! Chinese, `content` and `proof` lay out the certificate's sections, and `qr` draws
//! the QR code.

mod content;
mod draw;
mod font;
mod labels;
mod layout;
mod proof;
mod qr;
#[cfg(test)]
mod tests;
mod text;

use std::panic::{AssertUnwindSafe, catch_unwind};

use krilla::Document;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use serde_json::Value;

use super::PdfError;
use content::layout_certificate;
use labels::text_at;
use layout::Flow;
use text::Shaper;

pub use font::CertificateFont;

/// Renders the certificate JSON (version 2, see `actions::certificate`) to an A4 PDF.
/// Synchronous and CPU-bound (tens of milliseconds); call it from a blocking thread.
pub fn certificate_pdf(cert: &Value, font: &CertificateFont) -> Result<Vec<u8>, PdfError> {
    // Layout of arbitrary text meets corner cases no test thought of; such a case must
    // cost this one certificate, not the worker.
    catch_unwind(AssertUnwindSafe(|| render(cert, font))).unwrap_or_else(|_| {
        Err(PdfError::Render(
            "the certificate layout failed on this record".into(),
        ))
    })
}

fn render(cert: &Value, font: &CertificateFont) -> Result<Vec<u8>, PdfError> {
    let shaper = Shaper::new(font)?;
    let mut flow = Flow::new(&shaper);
    layout_certificate(&mut flow, cert);
    let pages = flow.finish(cert);

    let mut document = Document::new();
    let title = format!(
        "电子送达凭证 {}",
        text_at(cert, "/case/case_number").unwrap_or_default()
    );
    document.set_metadata(
        Metadata::new()
            .title(title.trim().to_owned())
            .language("zh-CN".to_owned())
            .creator("Songda".to_owned()),
    );
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| PdfError::Render("bad page size".into()))?;
    for ops in &pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            draw::draw(&mut surface, font, op);
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Render(format!("writing the certificate PDF: {e}")))
}

// Page geometry and styles, in PDF points with the origin top left.

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const LEFT: f32 = 56.0;
const RIGHT: f32 = PAGE_W - 56.0;
const CONTENT_W: f32 = RIGHT - LEFT;
/// Top of the content on the first page and, below the running header, on the others.
const FIRST_TOP: f32 = 52.0;
const TOP: f32 = 66.0;
/// Nothing but the footer goes below this.
const BOTTOM: f32 = PAGE_H - 64.0;
const LEADING: f32 = 1.42;
const PAD_X: f32 = 6.0;
const PAD_Y: f32 = 4.0;
/// Each free-text field is cut here: a certificate is paper, and a runaway field must
/// not turn it into a book.
const MAX_FIELD_CHARS: usize = 2000;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Rgb(u8, u8, u8);

const BLACK: Rgb = Rgb(0, 0, 0);
const GREY: Rgb = Rgb(85, 85, 85);
const RULE: Rgb = Rgb(60, 60, 60);
const SHADE: Rgb = Rgb(240, 240, 240);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FaceKind {
    Regular,
    Bold,
    Mono,
}

#[derive(Clone, Copy, Debug)]
struct Style {
    face: FaceKind,
    size: f32,
    color: Rgb,
}

const fn style(face: FaceKind, size: f32, color: Rgb) -> Style {
    Style { face, size, color }
}

const BODY: Style = style(FaceKind::Regular, 10.0, BLACK);
const LABEL: Style = style(FaceKind::Bold, 10.5, BLACK);
const SMALL: Style = style(FaceKind::Regular, 8.5, BLACK);
const SMALL_BOLD: Style = style(FaceKind::Bold, 8.5, BLACK);
const NOTE: Style = style(FaceKind::Regular, 8.5, GREY);
const FOOTNOTE: Style = style(FaceKind::Regular, 7.5, GREY);
const HASH: Style = style(FaceKind::Mono, 8.0, BLACK);
const HEADING: Style = style(FaceKind::Bold, 12.0, BLACK);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Center,
    Right,
}

impl Align {
    /// Where a line `line_w` wide starts in a box `width` wide at `x`; a line wider
    /// than the box starts at its left edge whatever the alignment.
    fn start(self, x: f32, width: f32, line_w: f32) -> f32 {
        match self {
            Align::Left => x,
            Align::Center => x + (width - line_w).max(0.0) / 2.0,
            Align::Right => x + (width - line_w).max(0.0),
        }
    }
}
