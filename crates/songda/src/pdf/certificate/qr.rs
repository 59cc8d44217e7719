//! The QR code of the verification address, printed large enough for a phone camera
//! at arm's length and with its quiet zone, as filled rectangles ready to draw.

use qrcode::{EcLevel, QrCode};

use super::CONTENT_W;

/// The QR code of `data` at error-correction level M as rows of dark modules, or
/// `None` if it does not fit in a QR code.
pub(super) fn qr_matrix(data: &str) -> Option<(usize, Vec<bool>)> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).ok()?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some((code.width(), dark))
}

/// Side of the printed QR code including its quiet zone: 36 mm reads well from
/// phone cameras at arm's length; codes of long addresses grow to keep modules 1 pt.
pub(super) const QR_SIDE: f32 = 102.0;
pub(super) const QR_QUIET: usize = 4;

/// The printed side, quiet zone included, of a code `n` modules wide; never more
/// than half the line, so the box keeps room for its text.
pub(super) fn printed_side(n: usize) -> f32 {
    QR_SIDE.max((n + 2 * QR_QUIET) as f32).min(CONTENT_W / 2.0)
}

/// The dark modules of a code `n` modules wide as rectangles (x, y, w, h), the code
/// printed `side` wide (quiet zone included) with its top left corner at (`x0`, `y0`).
pub(super) fn module_rects(n: usize, dark: &[bool], x0: f32, y0: f32, side: f32) -> Vec<[f32; 4]> {
    let m = side / (n + 2 * QR_QUIET) as f32;
    // Runs of dark modules as one rectangle each: fewer path segments, and no
    // hairline seams between neighbours in any viewer.
    let mut rects = Vec::new();
    for row in 0..n {
        let mut col = 0;
        while col < n {
            if dark[row * n + col] {
                let start = col;
                while col < n && dark[row * n + col] {
                    col += 1;
                }
                rects.push([
                    x0 + (start + QR_QUIET) as f32 * m,
                    y0 + (row + QR_QUIET) as f32 * m,
                    (col - start) as f32 * m,
                    m,
                ]);
            } else {
                col += 1;
            }
        }
    }
    rects
}
