//! Text as the certificate sets it: shaped with rustybuzz into glyphs krilla can place,
//! and broken greedily into lines the way Chinese is typeset, between any two
//! characters but never before closing or after opening punctuation, at spaces in
//! Latin text, and inside a word only when the word alone is wider than the line.

use std::ops::Range;

use krilla::text::{GlyphId, KrillaGlyph};

use super::font::{CertificateFont, Face};
use super::{FaceKind, LEADING, MAX_FIELD_CHARS, PdfError, Style};

/// One line of text, shaped and positioned relative to its start.
#[derive(Clone)]
pub(super) struct Line {
    pub(super) text: String,
    pub(super) glyphs: Vec<KrillaGlyph>,
    /// In points at `style.size`.
    pub(super) width: f32,
    pub(super) style: Style,
}

impl Line {
    pub(super) fn height(&self) -> f32 {
        self.style.size * LEADING
    }
}

/// The fonts parsed for shaping, for the length of one rendering.
pub(super) struct Shaper<'f> {
    regular: rustybuzz::Face<'f>,
    bold: Option<rustybuzz::Face<'f>>,
    mono: Option<rustybuzz::Face<'f>>,
}

impl<'f> Shaper<'f> {
    pub(super) fn new(font: &'f CertificateFont) -> Result<Self, PdfError> {
        let parse = |f: &'f Face| rustybuzz::Face::from_slice(&f.data, f.index);
        Ok(Self {
            regular: parse(&font.regular)
                .ok_or_else(|| PdfError::Font("the certificate font cannot be shaped".into()))?,
            bold: font.bold.as_ref().and_then(parse),
            mono: font.mono.as_ref().and_then(parse),
        })
    }

    fn face(&self, kind: FaceKind) -> &rustybuzz::Face<'f> {
        match kind {
            FaceKind::Regular => &self.regular,
            FaceKind::Bold => self.bold.as_ref().unwrap_or(&self.regular),
            FaceKind::Mono => self.mono.as_ref().unwrap_or(&self.regular),
        }
    }

    /// Glyphs in em units, each with the byte range of its cluster in `text`.
    fn shape(&self, kind: FaceKind, text: &str) -> Vec<KrillaGlyph> {
        if text.is_empty() {
            return Vec::new();
        }
        let face = self.face(kind);
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        // Our line breaking walks clusters left to right; right-to-left runs (a name in
        // Arabic, say) come out in logical order, which is readable enough here.
        buffer.set_direction(rustybuzz::Direction::LeftToRight);
        let output = rustybuzz::shape(face, &[], buffer);
        let upem = face.units_per_em().max(1) as f32;
        let infos = output.glyph_infos();
        let positions = output.glyph_positions();
        let starts: Vec<usize> = infos
            .iter()
            .map(|i| (i.cluster as usize).min(text.len()))
            .collect();
        (0..infos.len())
            .map(|i| {
                let start = starts[i];
                let end = starts[i..]
                    .iter()
                    .copied()
                    .find(|&s| s > start)
                    .unwrap_or(text.len());
                let p = positions[i];
                KrillaGlyph::new(
                    GlyphId::new(infos[i].glyph_id),
                    p.x_advance as f32 / upem,
                    p.x_offset as f32 / upem,
                    p.y_offset as f32 / upem,
                    p.y_advance as f32 / upem,
                    start..end,
                    None,
                )
            })
            .collect()
    }

    /// One line, however long.
    pub(super) fn line(&self, text: &str, style: Style) -> Line {
        let text = clean(text);
        let glyphs = self.shape(style.face, &text);
        let width = glyphs.iter().map(|g| g.x_advance * style.size).sum();
        Line {
            text,
            glyphs,
            width,
            style,
        }
    }

    /// One line no wider than `max`, cut with an ellipsis if need be.
    pub(super) fn fit(&self, text: &str, style: Style, max: f32) -> Line {
        let mut lines = self.wrap(text, style, (max - style.size).max(style.size));
        if lines.len() <= 1 {
            return lines.pop().unwrap_or_else(|| self.line("", style));
        }
        self.line(&format!("{}…", lines[0].text), style)
    }

    /// `text` broken into lines no wider than `max` (but for a single glyph wider than
    /// `max`). Newlines start new lines; an empty paragraph is an empty line.
    pub(super) fn wrap(&self, text: &str, style: Style, max: f32) -> Vec<Line> {
        let text = clean(text);
        let mut out = Vec::new();
        for para in text.split('\n') {
            let glyphs = self.shape(style.face, para);
            let chars: Vec<(usize, char)> = para.char_indices().collect();
            if chars.is_empty() {
                out.push(self.line("", style));
                continue;
            }
            // Width of each character (the whole cluster's on its first character), and
            // which characters begin a cluster: breaks never split a cluster.
            let mut widths = vec![0.0_f32; chars.len()];
            let mut cluster_start = vec![false; chars.len()];
            for g in &glyphs {
                let ci = chars
                    .partition_point(|&(b, _)| b < g.text_range.start)
                    .min(chars.len() - 1);
                widths[ci] += g.x_advance * style.size;
                cluster_start[ci] = true;
            }
            let cs: Vec<char> = chars.iter().map(|&(_, c)| c).collect();
            for range in break_lines(&cs, &widths, &cluster_start, max) {
                let from = chars[range.start].0;
                let to = chars.get(range.end).map_or(para.len(), |&(b, _)| b);
                out.push(slice_line(para, &glyphs, from..to, style));
            }
        }
        out
    }
}

/// Text as we draw it: control characters (other than newlines) become spaces, and
/// the length is capped.
fn clean(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_FIELD_CHARS)
        .map(|c| match c {
            '\r' => ' ',
            '\n' => '\n',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    if text.chars().nth(MAX_FIELD_CHARS).is_some() {
        out.push('…');
    }
    out
}

fn slice_line(para: &str, glyphs: &[KrillaGlyph], bytes: Range<usize>, style: Style) -> Line {
    let glyphs: Vec<KrillaGlyph> = glyphs
        .iter()
        .filter(|g| bytes.contains(&g.text_range.start))
        .map(|g| {
            let mut g = g.clone();
            g.text_range =
                (g.text_range.start - bytes.start)..(g.text_range.end.min(bytes.end) - bytes.start);
            g
        })
        .collect();
    let width = glyphs.iter().map(|g| g.x_advance * style.size).sum();
    Line {
        text: para[bytes].to_owned(),
        glyphs,
        width,
        style,
    }
}

/// Greedy line breaking over characters with known widths. Returns character ranges
/// with leading and trailing spaces left out.
fn break_lines(
    chars: &[char],
    widths: &[f32],
    cluster_start: &[bool],
    max: f32,
) -> Vec<Range<usize>> {
    let n = chars.len();
    let breakable: Vec<bool> = (0..n)
        .map(|i| i > 0 && cluster_start[i] && may_break_between(chars[i - 1], chars[i]))
        .collect();
    let mut lines = Vec::new();
    let mut start = 0;
    loop {
        while start < n && chars[start] == ' ' {
            start += 1;
        }
        if start >= n {
            break;
        }
        let mut width = 0.0;
        let mut end = start;
        let mut last_break = None;
        while end < n {
            if end > start && breakable[end] {
                last_break = Some(end);
            }
            // Spaces may hang past the margin: they are dropped at the break.
            if end > start && chars[end] != ' ' && width + widths[end] > max {
                break;
            }
            width += widths[end];
            end += 1;
        }
        let cut = if end >= n {
            n
        } else if let Some(b) = last_break {
            b
        } else {
            // One word wider than the line (a hash, a URL): break it where it overflows,
            // at the nearest cluster boundary.
            (start + 1..=end)
                .rev()
                .find(|&k| cluster_start[k])
                .unwrap_or(end)
        };
        let mut stop = cut;
        while stop > start && chars[stop - 1] == ' ' {
            stop -= 1;
        }
        if stop > start {
            lines.push(start..stop);
        }
        start = cut;
    }
    if lines.is_empty() {
        lines.push(0..0);
    }
    lines
}

fn may_break_between(before: char, after: char) -> bool {
    // Chinese typesetting keeps closing punctuation off the start of a line and
    // opening punctuation off its end.
    const NO_START: &str = "，。、；：？！）》」』】〕〉”’…—％·,.;:!?)]}%";
    const NO_END: &str = "（《「『【〔〈“‘([{";
    if NO_START.contains(after) || NO_END.contains(before) || after == ' ' {
        return false;
    }
    before == ' ' || is_cjk(before) || is_cjk(after) || "/?&=-_".contains(before)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F
        | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}
