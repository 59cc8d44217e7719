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

use std::collections::HashMap;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{GlyphId, KrillaGlyph};
use qrcode::{EcLevel, QrCode};
use rustybuzz::ttf_parser;
use serde_json::Value;
use songda_core::consent::ConsentBasis;
use songda_core::document::DocType;
use songda_core::evidence::EventType;
use songda_core::party::PartyRole;
use songda_core::service::{RefusalReason, ServiceRule};
use songda_core::timefmt::{COURT_OFFSET, parse_rfc3339};

use super::PdfError;

// ---------------------------------------------------------------------------
// Fonts
// ---------------------------------------------------------------------------

/// A CJK font loaded once (tens of MB): shared bytes and face index, cheap to clone.
///
/// Holds a regular face, a bold face when the family has one (otherwise bold text is
/// drawn as a stroked regular face) and a monospaced face for hashes when Noto Sans
/// Mono CJK is installed (otherwise hashes use the regular face).
#[derive(Clone)]
pub struct CertificateFont {
    regular: Face,
    bold: Option<Face>,
    mono: Option<Face>,
}

#[derive(Clone)]
struct Face {
    data: Arc<Vec<u8>>,
    index: u32,
    path: PathBuf,
    family: String,
    pdf: krilla::text::Font,
}

/// A system font to try, in order of preference.
struct Candidate {
    regular: &'static str,
    bold: Option<&'static str>,
    index: u32,
    /// The family-name ending of the face we want. Noto CJK collections hold one face
    /// per region (JP, KR, SC, TC, HK); only SC has the mainland's glyph forms, which a
    /// mainland court's paper must use. `None` for single-face files.
    family_suffix: Option<&'static str>,
}

const CANDIDATES: [Candidate; 3] = [
    Candidate {
        regular: "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        bold: Some("/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"),
        index: 2,
        family_suffix: Some(" CJK SC"),
    },
    Candidate {
        regular: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        bold: Some("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
        index: 2,
        family_suffix: Some(" CJK SC"),
    },
    Candidate {
        regular: "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        bold: None,
        index: 0,
        family_suffix: None,
    },
];

/// Noto Sans Mono CJK SC, face 7 of the Sans collection: half-width Latin of one
/// advance, so the 64 hex digits of a hash line up and are easy to compare.
const MONO: Candidate = Candidate {
    regular: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    bold: None,
    index: 7,
    family_suffix: Some("Mono CJK SC"),
};

impl CertificateFont {
    /// Loads `explicit` (`PATH` or `PATH#INDEX`) if given, else the first that exists
    /// of Noto Serif CJK SC, Noto Sans CJK SC (both from Debian's `fonts-noto-cjk`) and
    /// WenQuanYi Micro Hei. For the Noto collections the face is checked by its family
    /// name and, should the collection be ordered differently, the SC face is found by
    /// name instead.
    pub fn discover(explicit: Option<&Path>) -> Result<Self, PdfError> {
        let mut files = FontFiles::default();
        if let Some(spec) = explicit {
            let (path, index) = split_face_spec(spec);
            let regular = Face::load(&mut files, &path, index, None)?;
            return Ok(Self {
                regular,
                bold: None,
                mono: None,
            });
        }
        Self::discover_among(&mut files, &CANDIDATES)
    }

    fn discover_among(files: &mut FontFiles, candidates: &[Candidate]) -> Result<Self, PdfError> {
        let Some(found) = candidates.iter().find(|c| Path::new(c.regular).is_file()) else {
            let looked_for: Vec<String> = candidates
                .iter()
                .map(|c| format!("{} (face {})", c.regular, c.index))
                .collect();
            return Err(PdfError::Font(format!(
                "no CJK font for the certificate: looked for {}; install the Debian package \
                 fonts-noto-cjk or name a font file",
                looked_for.join(", ")
            )));
        };
        let regular = Face::load(
            files,
            Path::new(found.regular),
            found.index,
            found.family_suffix,
        )?;
        // Bold and mono only make the paper nicer; without them it is still complete.
        let bold = found.bold.filter(|p| Path::new(p).is_file()).and_then(|p| {
            Face::load(files, Path::new(p), found.index, found.family_suffix)
                .inspect_err(|e| tracing::warn!("certificate bold font not used: {e}"))
                .ok()
        });
        let mono = Path::new(MONO.regular).is_file().then(|| {
            Face::load(
                files,
                Path::new(MONO.regular),
                MONO.index,
                MONO.family_suffix,
            )
            .inspect_err(|e| tracing::warn!("certificate mono font not used: {e}"))
            .ok()
        });
        Ok(Self {
            regular,
            bold,
            mono: mono.flatten(),
        })
    }

    /// Which files and faces were chosen, for logs.
    pub fn describe(&self) -> String {
        let face = |f: &Face| format!("{} ({}#{})", f.family, f.path.display(), f.index);
        let mut out = face(&self.regular);
        match &self.bold {
            Some(b) => out.push_str(&format!("; bold {}", face(b))),
            None => out.push_str("; bold drawn as stroked regular"),
        }
        match &self.mono {
            Some(m) => out.push_str(&format!("; hashes {}", face(m))),
            None => out.push_str("; hashes in the regular face"),
        }
        out
    }
}

/// Files read during one discovery: the mono face lives in the same collection as
/// the Sans regular face, and must not cost a second copy.
#[derive(Default)]
struct FontFiles(HashMap<PathBuf, Arc<Vec<u8>>>);

impl FontFiles {
    fn read(&mut self, path: &Path) -> Result<Arc<Vec<u8>>, PdfError> {
        if let Some(data) = self.0.get(path) {
            return Ok(data.clone());
        }
        let data = std::fs::read(path).map_err(|e| {
            PdfError::Font(format!(
                "cannot read the certificate font {}: {e}",
                path.display()
            ))
        })?;
        let data = Arc::new(data);
        self.0.insert(path.to_path_buf(), data.clone());
        Ok(data)
    }
}

/// `PATH#INDEX` → (PATH, INDEX); a `#` not followed by a number is part of the path.
fn split_face_spec(spec: &Path) -> (PathBuf, u32) {
    if let Some(text) = spec.to_str()
        && let Some((path, index)) = text.rsplit_once('#')
        && let Ok(index) = index.parse::<u32>()
    {
        return (PathBuf::from(path), index);
    }
    (spec.to_path_buf(), 0)
}

impl Face {
    fn load(
        files: &mut FontFiles,
        path: &Path,
        index: u32,
        family_suffix: Option<&str>,
    ) -> Result<Self, PdfError> {
        let data = files.read(path)?;
        let index = match family_suffix {
            Some(suffix) => face_with_family(&data, index, suffix, path),
            None => index,
        };
        let parsed = ttf_parser::Face::parse(&data, index).map_err(|e| {
            PdfError::Font(format!(
                "{} has no readable font face {index}: {e}",
                path.display()
            ))
        })?;
        let family = family_name(&parsed).unwrap_or_else(|| "unnamed face".to_owned());
        if parsed.glyph_index('送').is_none() {
            return Err(PdfError::Font(format!(
                "{}#{index} ({family}) has no Chinese characters",
                path.display()
            )));
        }
        let usable = rustybuzz::Face::from_slice(&data, index).is_some();
        let pdf = krilla::text::Font::new(data.clone().into(), index).filter(|_| usable);
        let Some(pdf) = pdf else {
            return Err(PdfError::Font(format!(
                "{}#{index} ({family}) cannot be embedded",
                path.display()
            )));
        };
        Ok(Self {
            data,
            index,
            path: path.to_path_buf(),
            family,
            pdf,
        })
    }
}

/// The face of a collection whose family name ends in `suffix`: `preferred` when it
/// does, else the first that does, else `preferred` all the same.
fn face_with_family(data: &[u8], preferred: u32, suffix: &str, path: &Path) -> u32 {
    let family_of = |i| {
        ttf_parser::Face::parse(data, i)
            .ok()
            .and_then(|f| family_name(&f))
    };
    if family_of(preferred).is_some_and(|f| f.ends_with(suffix)) {
        return preferred;
    }
    let count = ttf_parser::fonts_in_collection(data).unwrap_or(1);
    match (0..count).find(|&i| family_of(i).is_some_and(|f| f.ends_with(suffix))) {
        Some(found) => {
            tracing::warn!(
                "{} face {preferred} is not the *{suffix} face; using face {found}",
                path.display()
            );
            found
        }
        None => preferred,
    }
}

/// The face's family name from the `name` table, in English where there is a choice.
fn family_name(face: &ttf_parser::Face) -> Option<String> {
    let names = face.names();
    let pick = |id: u16| {
        names
            .into_iter()
            .filter(|n| n.name_id == id && n.is_unicode())
            .max_by_key(|n| n.language() == ttf_parser::Language::English_UnitedStates)
            .and_then(|n| n.to_string())
    };
    pick(ttf_parser::name_id::TYPOGRAPHIC_FAMILY).or_else(|| pick(ttf_parser::name_id::FAMILY))
}

// ---------------------------------------------------------------------------
// Rendering entry point
// ---------------------------------------------------------------------------

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
            draw(&mut surface, font, op);
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Render(format!("writing the certificate PDF: {e}")))
}

// ---------------------------------------------------------------------------
// Page geometry and styles (PDF points, origin top left)
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Shaping and line breaking
// ---------------------------------------------------------------------------

/// One line of text, shaped and positioned relative to its start.
#[derive(Clone)]
struct Line {
    text: String,
    glyphs: Vec<KrillaGlyph>,
    /// In points at `style.size`.
    width: f32,
    style: Style,
}

impl Line {
    fn height(&self) -> f32 {
        self.style.size * LEADING
    }
}

/// The fonts parsed for shaping, for the length of one rendering.
struct Shaper<'f> {
    regular: rustybuzz::Face<'f>,
    bold: Option<rustybuzz::Face<'f>>,
    mono: Option<rustybuzz::Face<'f>>,
}

impl<'f> Shaper<'f> {
    fn new(font: &'f CertificateFont) -> Result<Self, PdfError> {
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
    fn line(&self, text: &str, style: Style) -> Line {
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
    fn fit(&self, text: &str, style: Style, max: f32) -> Line {
        let mut lines = self.wrap(text, style, (max - style.size).max(style.size));
        if lines.len() <= 1 {
            return lines.pop().unwrap_or_else(|| self.line("", style));
        }
        self.line(&format!("{}…", lines[0].text), style)
    }

    /// `text` broken into lines no wider than `max` (but for a single glyph wider than
    /// `max`). Newlines start new lines; an empty paragraph is an empty line.
    fn wrap(&self, text: &str, style: Style, max: f32) -> Vec<Line> {
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

// ---------------------------------------------------------------------------
// Flowing content onto pages
// ---------------------------------------------------------------------------

/// Something to draw, in page coordinates.
enum Op {
    Text {
        x: f32,
        baseline: f32,
        line: Line,
    },
    /// Filled rectangles (x, y, w, h) as one path, so that touching ones show no seams.
    Rects {
        rects: Vec<[f32; 4]>,
        color: Rgb,
    },
    /// Straight segments (x0, y0, x1, y1).
    Lines {
        segs: Vec<[f32; 4]>,
        width: f32,
        color: Rgb,
    },
}

fn rect_outline(x: f32, y: f32, w: f32, h: f32) -> Vec<[f32; 4]> {
    vec![
        [x, y, x + w, y],
        [x + w, y, x + w, y + h],
        [x + w, y + h, x, y + h],
        [x, y + h, x, y],
    ]
}

/// Content laid out page by page; the page decorations come last, when the number of
/// pages is known.
struct Flow<'s, 'f> {
    shaper: &'s Shaper<'f>,
    pages: Vec<Vec<Op>>,
    y: f32,
    /// Nothing drawn on this page yet: moving on would not make more room.
    fresh: bool,
}

/// A table cell before layout: paragraphs, each in its own style.
struct Cell {
    paras: Vec<(String, Style)>,
    align: Align,
    /// Centre vertically (form labels); otherwise top-aligned.
    middle: bool,
    fill: Option<Rgb>,
}

fn cell(paras: Vec<(String, Style)>) -> Cell {
    Cell {
        paras,
        align: Align::Left,
        middle: false,
        fill: None,
    }
}

fn text_cell(text: impl Into<String>, style: Style) -> Cell {
    cell(vec![(text.into(), style)])
}

fn label_cell(text: &str, style: Style) -> Cell {
    Cell {
        paras: vec![(text.to_owned(), style)],
        align: Align::Center,
        middle: true,
        fill: Some(SHADE),
    }
}

struct CellLayout {
    lines: Vec<Line>,
    align: Align,
    middle: bool,
    fill: Option<Rgb>,
}

impl CellLayout {
    fn content_height(&self) -> f32 {
        self.lines.iter().map(Line::height).sum()
    }
}

struct RowLayout {
    cells: Vec<CellLayout>,
    height: f32,
}

impl RowLayout {
    fn new(cells: Vec<CellLayout>) -> Self {
        let content = cells
            .iter()
            .map(CellLayout::content_height)
            .fold(0.0, f32::max);
        Self {
            cells,
            height: content + 2.0 * PAD_Y,
        }
    }

    /// The part of the row that fits in `avail`, and the rest; `None` if not even one
    /// line fits.
    fn split(&self, avail: f32) -> Option<(RowLayout, RowLayout)> {
        let limit = avail - 2.0 * PAD_Y;
        let mut first = Vec::new();
        let mut rest = Vec::new();
        let mut any = false;
        for c in &self.cells {
            let mut used = 0.0;
            let mut take = 0;
            while take < c.lines.len() && used + c.lines[take].height() <= limit {
                used += c.lines[take].height();
                take += 1;
            }
            any |= take > 0;
            let (head, tail) = c.lines.split_at(take);
            first.push(CellLayout {
                lines: head.to_vec(),
                align: c.align,
                middle: false,
                fill: c.fill,
            });
            rest.push(CellLayout {
                lines: tail.to_vec(),
                align: c.align,
                middle: false,
                fill: c.fill,
            });
        }
        any.then(|| (RowLayout::new(first), RowLayout::new(rest)))
    }
}

impl<'s, 'f> Flow<'s, 'f> {
    fn new(shaper: &'s Shaper<'f>) -> Self {
        Self {
            shaper,
            pages: vec![Vec::new()],
            y: FIRST_TOP,
            fresh: true,
        }
    }

    fn room(&self) -> f32 {
        BOTTOM - self.y
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
        self.fresh = true;
    }

    /// Starts a new page unless `height` fits on this one (or this one is empty).
    fn ensure(&mut self, height: f32) {
        if height > self.room() && !self.fresh {
            self.new_page();
        }
    }

    fn push(&mut self, op: Op) {
        self.fresh = false;
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    fn gap(&mut self, h: f32) {
        self.y = (self.y + h).min(BOTTOM);
    }

    fn text_at(&mut self, line: Line, x: f32, top: f32) {
        if line.glyphs.is_empty() {
            return;
        }
        // Centres the CJK ideographic box (about -0.12 to 0.88 em) in the line.
        let baseline = top + line.height() / 2.0 + 0.38 * line.style.size;
        self.push(Op::Text { x, baseline, line });
    }

    fn aligned(&mut self, line: Line, align: Align, x: f32, width: f32, top: f32) {
        let x = match align {
            Align::Left => x,
            Align::Center => x + (width - line.width).max(0.0) / 2.0,
            Align::Right => x + (width - line.width).max(0.0),
        };
        self.text_at(line, x, top);
    }

    /// Full-width text, flowing line by line.
    fn paragraph(&mut self, text: &str, style: Style, align: Align) {
        for line in self.shaper.wrap(text, style, CONTENT_W) {
            let h = line.height();
            self.ensure(h);
            let top = self.y;
            self.aligned(line, align, LEFT, CONTENT_W, top);
            self.y += h;
        }
    }

    /// A section heading, kept with the start of what follows.
    fn heading(&mut self, text: &str) {
        let h = HEADING.size * LEADING;
        self.ensure(h + 60.0);
        self.gap(8.0);
        self.paragraph(text, HEADING, Align::Left);
        self.gap(3.0);
    }

    fn layout_row(&self, widths: &[f32], cells: Vec<Cell>) -> RowLayout {
        let cells = widths
            .iter()
            .zip(cells)
            .map(|(&w, c)| CellLayout {
                lines: c
                    .paras
                    .iter()
                    .flat_map(|(t, s)| self.shaper.wrap(t, *s, w - 2.0 * PAD_X))
                    .collect(),
                align: c.align,
                middle: c.middle,
                fill: c.fill,
            })
            .collect();
        RowLayout::new(cells)
    }

    fn draw_row(&mut self, widths: &[f32], row: &RowLayout) {
        let top = self.y;
        let mut fills = Vec::new();
        let mut borders = Vec::new();
        let mut x = LEFT;
        for (&w, c) in widths.iter().zip(&row.cells) {
            if c.fill.is_some() {
                fills.push([x, top, w, row.height]);
            }
            borders.extend(rect_outline(x, top, w, row.height));
            x += w;
        }
        if !fills.is_empty() {
            self.push(Op::Rects {
                rects: fills,
                color: SHADE,
            });
        }
        let mut x = LEFT;
        for (&w, c) in widths.iter().zip(&row.cells) {
            let slack = row.height - 2.0 * PAD_Y - c.content_height();
            let mut line_top = top + PAD_Y + if c.middle { slack / 2.0 } else { 0.0 };
            for line in &c.lines {
                let h = line.height();
                self.aligned(line.clone(), c.align, x + PAD_X, w - 2.0 * PAD_X, line_top);
                line_top += h;
            }
            x += w;
        }
        self.push(Op::Lines {
            segs: borders,
            width: 0.5,
            color: RULE,
        });
        self.y += row.height;
    }

    /// A bordered table whose rows flow onto new pages, the header row repeated on
    /// each; a row taller than a page is split between lines.
    fn table(&mut self, widths: &[f32], header: Option<Vec<Cell>>, rows: Vec<Vec<Cell>>) {
        let header = header.map(|h| self.layout_row(widths, h));
        let header_h = header.as_ref().map_or(0.0, |h| h.height);
        let table_w: f32 = widths.iter().sum();
        let mut segment_top: Option<f32> = None;
        let close = |flow: &mut Self, top: &mut Option<f32>| {
            if let Some(t) = top.take() {
                let h = flow.y - t;
                flow.push(Op::Lines {
                    segs: rect_outline(LEFT, t, table_w, h),
                    width: 1.0,
                    color: BLACK,
                });
            }
        };
        for cells in rows {
            let mut row = self.layout_row(widths, cells);
            loop {
                let head = if segment_top.is_none() { header_h } else { 0.0 };
                let open = |flow: &mut Self, top: &mut Option<f32>| {
                    if top.is_none() {
                        *top = Some(flow.y);
                        if let Some(h) = &header {
                            flow.draw_row(widths, h);
                        }
                    }
                };
                if head + row.height <= self.room() {
                    open(self, &mut segment_top);
                    self.draw_row(widths, &row);
                    break;
                }
                let fits_a_page = header_h + row.height <= BOTTOM - TOP;
                if (fits_a_page || self.room() - head < 40.0) && !self.fresh {
                    close(self, &mut segment_top);
                    self.new_page();
                    continue;
                }
                match row.split(self.room() - head) {
                    Some((first, rest)) => {
                        open(self, &mut segment_top);
                        self.draw_row(widths, &first);
                        close(self, &mut segment_top);
                        self.new_page();
                        row = rest;
                    }
                    None => {
                        // Not even one line fits on an empty page: cannot happen with
                        // our sizes, but never loop for it.
                        open(self, &mut segment_top);
                        self.draw_row(widths, &row);
                        break;
                    }
                }
            }
        }
        close(self, &mut segment_top);
    }

    /// Running header, footer and page numbers, once the page count is known.
    fn finish(mut self, cert: &Value) -> Vec<Vec<Op>> {
        let total = self.pages.len();
        let service_id = text_at(cert, "/service_id").unwrap_or_else(dash);
        let code = text_at(cert, "/verification_code").unwrap_or_else(dash);
        let court = text_at(cert, "/court/name").unwrap_or_default();
        let case_number = text_at(cert, "/case/case_number").unwrap_or_else(dash);
        let sh = self.shaper;
        for (i, page) in self.pages.iter_mut().enumerate() {
            let mut put = |line: Line, align: Align, x: f32, w: f32, baseline: f32| {
                let x = match align {
                    Align::Left => x,
                    Align::Center => x + (w - line.width).max(0.0) / 2.0,
                    Align::Right => x + (w - line.width).max(0.0),
                };
                if !line.glyphs.is_empty() {
                    page.push(Op::Text { x, baseline, line });
                }
            };
            let footer_rule = PAGE_H - 52.0;
            put(
                sh.line(&format!("第 {} 页 / 共 {total} 页", i + 1), SMALL),
                Align::Center,
                LEFT,
                CONTENT_W,
                PAGE_H - 38.0,
            );
            put(
                sh.fit(
                    &format!("送达编号 {service_id}　核验码 {code}"),
                    FOOTNOTE,
                    CONTENT_W,
                ),
                Align::Center,
                LEFT,
                CONTENT_W,
                PAGE_H - 26.0,
            );
            let mut rules = vec![[LEFT, footer_rule, RIGHT, footer_rule]];
            if i > 0 {
                let head_base = 42.0;
                put(
                    sh.fit(&format!("{court} 电子送达凭证（续）"), NOTE, 280.0),
                    Align::Left,
                    LEFT,
                    280.0,
                    head_base,
                );
                put(
                    sh.fit(&format!("案号 {case_number}"), NOTE, 190.0),
                    Align::Right,
                    RIGHT - 190.0,
                    190.0,
                    head_base,
                );
                rules.push([LEFT, 50.0, RIGHT, 50.0]);
            }
            page.push(Op::Lines {
                segs: rules,
                width: 0.5,
                color: GREY,
            });
        }
        self.pages
    }
}

// ---------------------------------------------------------------------------
// Drawing with krilla
// ---------------------------------------------------------------------------

fn fill(color: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn draw(surface: &mut Surface, font: &CertificateFont, op: &Op) {
    match op {
        Op::Text { x, baseline, line } => {
            let st = line.style;
            let (face, faux_bold) = match st.face {
                FaceKind::Regular => (&font.regular, false),
                FaceKind::Bold => font
                    .bold
                    .as_ref()
                    .map_or((&font.regular, true), |b| (b, false)),
                FaceKind::Mono => (font.mono.as_ref().unwrap_or(&font.regular), false),
            };
            surface.set_fill(Some(fill(st.color)));
            surface.set_stroke(faux_bold.then(|| Stroke {
                paint: rgb::Color::new(st.color.0, st.color.1, st.color.2).into(),
                width: st.size * 0.04,
                ..Stroke::default()
            }));
            surface.draw_glyphs(
                Point::from_xy(*x, *baseline),
                &line.glyphs,
                face.pdf.clone(),
                &line.text,
                st.size,
                false,
            );
            surface.set_stroke(None);
        }
        Op::Rects { rects, color } => {
            let mut pb = PathBuilder::new();
            for r in rects {
                if let Some(rect) = Rect::from_xywh(r[0], r[1], r[2], r[3]) {
                    pb.push_rect(rect);
                }
            }
            if let Some(path) = pb.finish() {
                surface.set_stroke(None);
                surface.set_fill(Some(fill(*color)));
                surface.draw_path(&path);
            }
        }
        Op::Lines { segs, width, color } => {
            let mut pb = PathBuilder::new();
            for s in segs {
                pb.move_to(s[0], s[1]);
                pb.line_to(s[2], s[3]);
            }
            if let Some(path) = pb.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: rgb::Color::new(color.0, color.1, color.2).into(),
                    width: *width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Reading the certificate JSON
// ---------------------------------------------------------------------------

fn dash() -> String {
    "—".to_owned()
}

/// The value at a JSON pointer as display text: strings trimmed (empty is absent),
/// numbers and booleans written out, anything else absent.
fn text_at(v: &Value, pointer: &str) -> Option<String> {
    text_of(v.pointer(pointer)?)
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn list_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `2026年11月29日 16:00:00`, in Beijing time. Text that is not an RFC 3339 time is
/// shown as it is, so an odd record is still visible rather than blank.
fn beijing(utc: &str) -> String {
    match parse_rfc3339(utc) {
        Some(t) => {
            let t = t.to_offset(COURT_OFFSET);
            format!(
                "{}年{:02}月{:02}日 {:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        }
        None => utc.to_owned(),
    }
}

/// `2026年11月29日 16:00:00（北京时间）`.
fn beijing_full(utc: &str) -> String {
    if parse_rfc3339(utc).is_some() {
        format!("{}（北京时间）", beijing(utc))
    } else {
        utc.to_owned()
    }
}

fn time_at(v: &Value, pointer: &str) -> Option<String> {
    text_at(v, pointer).map(|t| beijing_full(&t))
}

fn label(raw: Option<&str>, known: impl Fn(&str) -> Option<&'static str>) -> String {
    match raw {
        Some(r) => known(r).unwrap_or(r).to_owned(),
        None => dash(),
    }
}

fn role_zh(raw: &str) -> Option<&'static str> {
    PartyRole::parse(raw).map(PartyRole::label_zh)
}

fn doc_type_zh(raw: &str) -> Option<&'static str> {
    DocType::parse(raw).map(DocType::label_zh)
}

fn provenance_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "confirmed" => Some("受送达人确认的地址"),
        "court_obtained" => Some("法院获取的地址"),
        _ => None,
    }
}

fn channel_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "platform" => Some("电子送达平台"),
        "sms" => Some("短信"),
        "email" => Some("电子邮件"),
        _ => None,
    }
}

fn actor_kind_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "clerk" => Some("书记员"),
        "party" => Some("当事人"),
        "admin" => Some("管理员"),
        "system" => Some("系统"),
        _ => None,
    }
}

fn status_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "signed" => Some("已签收"),
        "refused" => Some("已拒收"),
        "pending" => Some("待签收"),
        _ => None,
    }
}

fn purpose_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "new_service" => Some("送达提醒"),
        "phone_code" => Some("手机验证码"),
        "binding_code" => Some("案件绑定码"),
        _ => None,
    }
}

fn notification_status_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "sent" => Some("已发送"),
        "failed" => Some("发送失败"),
        "sending" => Some("发送中"),
        "queued" | "pending" => Some("排队中"),
        _ => None,
    }
}

fn refusal_zh(raw: &str) -> Option<&'static str> {
    RefusalReason::parse(raw).map(RefusalReason::label_zh)
}

fn event_zh(raw: &str) -> Option<&'static str> {
    EventType::parse(raw).map(EventType::label_zh)
}

/// `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------
// The certificate
// ---------------------------------------------------------------------------

fn layout_certificate(flow: &mut Flow, cert: &Value) {
    title_block(flow, cert);
    form(flow, cert);
    flow.gap(14.0);
    flow.ensure(40.0);
    flow.paragraph(
        "电子证据",
        style(FaceKind::Bold, 14.0, BLACK),
        Align::Center,
    );
    flow.paragraph(
        "以下记录取自送达平台的证据日志，是上表所填内容的依据。",
        NOTE,
        Align::Center,
    );
    documents(flow, cert);
    timeline(flow, cert);
    notifications(flow, cert);
    evidence_log(flow, cert);
    verification(flow, cert);
}

fn title_block(flow: &mut Flow, cert: &Value) {
    let court = text_at(cert, "/court/name").unwrap_or_else(dash);
    flow.paragraph(&court, style(FaceKind::Bold, 16.0, BLACK), Align::Center);
    flow.gap(4.0);
    flow.paragraph(
        "电子送达凭证",
        style(FaceKind::Bold, 24.0, BLACK),
        Align::Center,
    );
    flow.paragraph(
        "（送达回证 · 电子送达）",
        style(FaceKind::Regular, 10.5, BLACK),
        Align::Center,
    );
    flow.gap(10.0);
}

const FORM_LABEL_W: f32 = 118.0;

fn form(flow: &mut Flow, cert: &Value) {
    let widths = [FORM_LABEL_W, CONTENT_W - FORM_LABEL_W];
    let row =
        |label: &str, paras: Vec<(String, Style)>| vec![label_cell(label, LABEL), cell(paras)];
    let body = |t: String| (t, BODY);
    let note = |t: String| (t, NOTE);

    let docs = list_at(cert, "/documents");
    let titles: Vec<String> = docs
        .iter()
        .map(|d| text_at(d, "/title").unwrap_or_else(dash))
        .collect();
    let documents = if titles.is_empty() {
        "—（共0件）".to_owned()
    } else {
        format!("{}（共{}件）", titles.join("、"), titles.len())
    };

    let recipient = {
        let name = text_at(cert, "/recipient/name").unwrap_or_else(dash);
        match text_at(cert, "/recipient/role") {
            Some(r) => format!("{name}（{}）", role_zh(&r).unwrap_or(&r)),
            None => name,
        }
    };

    let mut place = vec![
        body(format!(
            "电子送达地址：{}",
            text_at(cert, "/address/address").unwrap_or_else(dash)
        )),
        body(format!(
            "送达渠道：{}",
            label(text_at(cert, "/address/channel").as_deref(), channel_zh)
        )),
        body(format!(
            "地址来源：{}",
            label(
                text_at(cert, "/address/provenance").as_deref(),
                provenance_zh
            )
        )),
    ];
    if let Some(basis) = text_at(cert, "/address/consent_basis") {
        let basis = ConsentBasis::parse(&basis).map_or(basis.clone(), |b| b.label_zh().to_owned());
        let version = text_at(cert, "/address/consent_version")
            .map(|v| format!("（地址确认书版本 {v}）"))
            .unwrap_or_default();
        place.push(note(format!("同意电子送达的依据：{basis}{version}")));
    }

    let mut signature = Vec::new();
    if let Some(at) = time_at(cert, "/signature/signed_at") {
        signature.push(body(format!("已于 {at} 电子签收")));
    }
    if let Some(at) = time_at(cert, "/signature/refused_at") {
        let reason = label(
            text_at(cert, "/signature/refusal_reason").as_deref(),
            refusal_zh,
        );
        let mut s = format!("已于 {at} 拒收，理由：{reason}");
        if let Some(n) = text_at(cert, "/signature/refusal_note") {
            s.push_str(&format!("；说明：{n}"));
        }
        signature.push(body(s));
    }
    if signature.is_empty() {
        signature.push(body("尚未签收".to_owned()));
    }
    if let Some(at) = time_at(cert, "/signature/first_viewed_at") {
        signature.push(note(format!("首次查阅：{at}")));
    }

    let mut served = vec![(
        time_at(cert, "/served_at").unwrap_or_else(|| "尚未送达".to_owned()),
        style(FaceKind::Bold, 10.0, BLACK),
    )];
    let rule = text_at(cert, "/service_rule_text/zh").or_else(|| {
        text_at(cert, "/service_rule")
            .map(|r| ServiceRule::parse(&r).map_or(r.clone(), |rule| rule.label_zh().to_owned()))
    });
    served.push(body(format!("依据：{}", rule.unwrap_or_else(dash))));
    if let Some(at) = time_at(cert, "/deposited_at") {
        served.push(note(format!("文书到达受送达人平台账户：{at}")));
    }

    let court = text_at(cert, "/court/name").unwrap_or_else(dash);
    let mut remarks = vec![body(format!(
        "适用规定：{}",
        text_at(cert, "/regime/citation_zh").unwrap_or_else(dash)
    ))];
    remarks.push(body(format!(
        "送达状态：{}",
        label(text_at(cert, "/status").as_deref(), status_zh)
    )));
    remarks.push(note(
        "本凭证由送达平台依据证据日志生成，真伪以核验结果为准。".to_owned(),
    ));

    let rows = vec![
        row(
            "案由",
            vec![body(text_at(cert, "/case/title").unwrap_or_else(dash))],
        ),
        row(
            "案号",
            vec![body(
                text_at(cert, "/case/case_number").unwrap_or_else(dash),
            )],
        ),
        row("送达文书名称和件数", vec![body(documents)]),
        row("受送达人", vec![body(recipient)]),
        row("送达地点", place),
        row("受送达人签名或盖章", signature),
        row("送达时间及依据", served),
        row("代收人及代收理由", vec![body("无（电子送达）".to_owned())]),
        row(
            "送达人",
            vec![body(format!("{court}（经 Songda 电子送达平台送达）"))],
        ),
        row("备注", remarks),
        row(
            "填发时间",
            vec![body(time_at(cert, "/issued_at").unwrap_or_else(dash))],
        ),
    ];
    flow.table(&widths, None, rows);
}

fn header_row(labels: &[&str]) -> Vec<Cell> {
    labels
        .iter()
        .map(|l| {
            let mut c = label_cell(l, SMALL_BOLD);
            c.middle = true;
            c
        })
        .collect()
}

fn documents(flow: &mut Flow, cert: &Value) {
    flow.heading("一、送达文书");
    let docs = list_at(cert, "/documents");
    if docs.is_empty() {
        flow.paragraph("无", BODY, Align::Left);
        return;
    }
    let widths = [30.0, CONTENT_W - 30.0];
    let rows = docs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let kind = label(text_at(d, "/doc_type").as_deref(), doc_type_zh);
            let pages = text_at(d, "/pages").map_or_else(dash, |p| format!("{p} 页"));
            let size = match d.pointer("/size").and_then(Value::as_u64) {
                Some(n) => format!("{} 字节", thousands(n)),
                None => text_at(d, "/size").unwrap_or_else(dash),
            };
            let mut number = text_cell((i + 1).to_string(), SMALL);
            number.align = Align::Center;
            vec![
                number,
                cell(vec![
                    (
                        text_at(d, "/title").unwrap_or_else(dash),
                        style(FaceKind::Bold, 9.5, BLACK),
                    ),
                    (format!("类型：{kind}　页数：{pages}　大小：{size}"), SMALL),
                    (
                        format!("SHA-256 {}", text_at(d, "/sha256").unwrap_or_else(dash)),
                        HASH,
                    ),
                ]),
            ]
        })
        .collect();
    flow.table(
        &widths,
        Some(header_row(&["序号", "文书名称、类型及内容摘要（SHA-256）"])),
        rows,
    );
}

fn timeline(flow: &mut Flow, cert: &Value) {
    flow.heading("二、送达过程");
    let events = list_at(cert, "/events");
    if events.is_empty() {
        flow.paragraph("无记录", BODY, Align::Left);
        return;
    }
    let widths = [
        30.0,
        112.0,
        136.0,
        96.0,
        CONTENT_W - 30.0 - 112.0 - 136.0 - 96.0,
    ];
    let rows = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let kind = text_at(e, "/type");
            let mut what = vec![(
                label(kind.as_deref(), event_zh),
                style(FaceKind::Bold, 8.5, BLACK),
            )];
            let titles: Vec<String> = list_at(e, "/documents")
                .iter()
                .filter_map(|d| text_at(d, "/title"))
                .collect();
            if !titles.is_empty() {
                let shown = titles
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("、");
                let more = if titles.len() > 3 {
                    format!("等{}件", titles.len())
                } else {
                    String::new()
                };
                what.push((format!("{shown}{more}"), NOTE));
            }
            if let Some(code) = text_at(e, "/reason_code") {
                what.push((
                    format!("理由：{}", refusal_zh(&code).unwrap_or(&code)),
                    NOTE,
                ));
            }
            if let Some(n) = text_at(e, "/note") {
                what.push((format!("说明：{n}"), NOTE));
            }
            let actor = {
                let name = text_at(e, "/actor/name").unwrap_or_else(dash);
                match text_at(e, "/actor/kind") {
                    Some(k) => format!("{name}（{}）", actor_kind_zh(&k).unwrap_or(&k)),
                    None => name,
                }
            };
            let mut via = vec![(label(text_at(e, "/channel").as_deref(), channel_zh), SMALL)];
            if let Some(ip) = text_at(e, "/client/ip") {
                via.push((format!("IP {ip}"), SMALL));
            }
            let mut number = text_cell((i + 1).to_string(), SMALL);
            number.align = Align::Center;
            vec![
                number,
                text_cell(text_at(e, "/at").map_or_else(dash, |t| beijing(&t)), SMALL),
                cell(what),
                text_cell(actor, SMALL),
                cell(via),
            ]
        })
        .collect();
    flow.table(
        &widths,
        Some(header_row(&[
            "序号",
            "时间（北京时间）",
            "事件",
            "操作人",
            "渠道 / 来源",
        ])),
        rows,
    );
}

fn notifications(flow: &mut Flow, cert: &Value) {
    flow.heading("三、提醒记录");
    let list = list_at(cert, "/notifications");
    if list.is_empty() {
        flow.paragraph("无", BODY, Align::Left);
        return;
    }
    let widths = [112.0, 46.0, 52.0, 88.0, 46.0, 32.0, CONTENT_W - 376.0];
    let rows = list
        .iter()
        .map(|n| {
            let mut attempts = text_cell(text_at(n, "/attempts").unwrap_or_else(dash), SMALL);
            attempts.align = Align::Center;
            vec![
                text_cell(
                    text_at(n, "/sent_at").map_or_else(dash, |t| beijing(&t)),
                    SMALL,
                ),
                text_cell(label(text_at(n, "/channel").as_deref(), channel_zh), SMALL),
                text_cell(label(text_at(n, "/purpose").as_deref(), purpose_zh), SMALL),
                text_cell(text_at(n, "/recipient").unwrap_or_else(dash), SMALL),
                text_cell(
                    label(text_at(n, "/status").as_deref(), notification_status_zh),
                    SMALL,
                ),
                attempts,
                text_cell(text_at(n, "/reference").unwrap_or_else(dash), SMALL),
            ]
        })
        .collect();
    flow.table(
        &widths,
        Some(header_row(&[
            "发送时间（北京时间）",
            "渠道",
            "用途",
            "接收方",
            "状态",
            "次数",
            "回执编号",
        ])),
        rows,
    );
}

/// `text` in lines of `n` characters: signatures are too long for one line and read
/// best in fixed blocks.
fn chunked(text: &str, n: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(n)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

fn evidence_log(flow: &mut Flow, cert: &Value) {
    flow.heading("四、证据日志");
    let p = |ptr: &str| text_at(cert, &format!("/proof{ptr}"));
    let entries = list_at(cert, "/proof/entries");
    let indices: Vec<String> = entries
        .iter()
        .map(|e| text_at(e, "/index").unwrap_or_else(dash))
        .collect();
    let proven = if indices.is_empty() {
        "无".to_owned()
    } else {
        format!("共 {} 条；日志序号：{}", indices.len(), indices.join("、"))
    };
    let method = format!(
        "哈希 {}；树 {}；事件编码 {}",
        p("/log/hash").unwrap_or_else(dash),
        p("/log/tree").unwrap_or_else(dash),
        p("/log/event_encoding").unwrap_or_else(dash)
    );
    let hex = |v: Option<String>| (v.map_or_else(dash, |s| chunked(&s, 64)), HASH);
    let rows_data: Vec<(&str, Vec<(String, Style)>)> = vec![
        ("记账方法", vec![(method, SMALL)]),
        (
            "日志大小",
            vec![(
                p("/head/size").map_or_else(dash, |s| format!("{s} 条事件")),
                SMALL,
            )],
        ),
        ("根哈希", vec![hex(p("/head/root"))]),
        (
            "树头时间",
            vec![(
                p("/head/timestamp").map_or_else(dash, |t| beijing_full(&t)),
                SMALL,
            )],
        ),
        (
            "签名算法 / 密钥编号",
            vec![(
                format!(
                    "{} / {}",
                    p("/head/algorithm").unwrap_or_else(dash),
                    p("/head/key_id").unwrap_or_else(dash)
                ),
                SMALL,
            )],
        ),
        ("公钥", vec![hex(p("/public_key/public_key"))]),
        ("树头签名", vec![hex(p("/head/signature"))]),
        ("本凭证证明的事件", vec![(proven, SMALL)]),
    ];
    let rows = rows_data
        .into_iter()
        .map(|(l, paras)| vec![label_cell(l, SMALL_BOLD), cell(paras)])
        .collect();
    flow.table(&[FORM_LABEL_W, CONTENT_W - FORM_LABEL_W], None, rows);
    flow.gap(3.0);
    flow.paragraph(
        "每条事件的叶哈希与包含证明载于 JSON 版本凭证，可据此验证上述事件均已记入签名的日志。",
        NOTE,
        Align::Left,
    );
}

/// The QR code of `data` at error-correction level M as rows of dark modules, or
/// `None` if it does not fit in a QR code.
fn qr_matrix(data: &str) -> Option<(usize, Vec<bool>)> {
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
const QR_SIDE: f32 = 102.0;
const QR_QUIET: usize = 4;

fn verification(flow: &mut Flow, cert: &Value) {
    let url = text_at(cert, "/verify_url");
    let code = text_at(cert, "/verification_code").unwrap_or_else(dash);
    let qr = url.as_deref().and_then(qr_matrix);
    // Without a code the box gives its text the full width instead of an empty square.
    let qr_side = qr.as_ref().map_or(0.0, |(n, _)| {
        QR_SIDE.max((n + 2 * QR_QUIET) as f32).min(CONTENT_W / 2.0)
    });
    let pad = 10.0;
    let text_w = CONTENT_W - 2.0 * pad - if qr.is_some() { qr_side + 12.0 } else { 0.0 };
    let sh = flow.shaper;
    let mut lines = Vec::new();
    lines.extend(sh.wrap("凭证核验", HEADING, text_w));
    lines.extend(sh.wrap("核验码", NOTE, text_w));
    lines.extend(sh.wrap(&code, style(FaceKind::Bold, 22.0, BLACK), text_w));
    lines.extend(sh.wrap("核验网址", NOTE, text_w));
    let shown_url: String = url.clone().unwrap_or_else(dash).chars().take(600).collect();
    lines.extend(sh.wrap(&shown_url, style(FaceKind::Mono, 8.5, BLACK), text_w));
    lines.extend(sh.wrap(
        "可在上述网址或使用 songda verify 离线核验本凭证（JSON 版本）",
        SMALL,
        text_w,
    ));
    if url.is_some() && qr.is_none() {
        lines.extend(sh.wrap("核验网址过长，无法生成二维码。", NOTE, text_w));
    }
    let text_h: f32 = lines.iter().map(Line::height).sum();
    let box_h = text_h.max(qr_side) + 2.0 * pad;

    flow.gap(12.0);
    flow.ensure(box_h);
    let top = flow.y;
    flow.push(Op::Lines {
        segs: rect_outline(LEFT, top, CONTENT_W, box_h),
        width: 1.0,
        color: BLACK,
    });
    let mut y = top + pad + (box_h - 2.0 * pad - text_h) / 2.0;
    for line in lines {
        let h = line.height();
        flow.text_at(line, LEFT + pad, y);
        y += h;
    }
    if let Some((n, dark)) = qr {
        let side = n + 2 * QR_QUIET;
        let m = qr_side / side as f32;
        let x0 = RIGHT - pad - qr_side;
        let y0 = top + (box_h - qr_side) / 2.0;
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
        flow.push(Op::Rects {
            rects,
            color: BLACK,
        });
    }
    flow.y = (top + box_h).min(BOTTOM);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::io::Cursor;
    use std::process::Command;
    use std::sync::OnceLock;
    use std::time::Instant;

    /// Discovery reads tens of MB; once per test binary is enough.
    fn font() -> &'static CertificateFont {
        static FONT: OnceLock<CertificateFont> = OnceLock::new();
        FONT.get_or_init(|| {
            CertificateFont::discover(None)
                .expect("a CJK font (apt-get install fonts-noto-cjk; scripts/test installs it)")
        })
    }

    const SHA_A: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const SHA_B: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";
    const URL: &str = "http://127.0.0.1:8080/verify?code=7KQ2-M9XD-4HRT";

    fn event(i: usize, kind: &str, at: &str) -> Value {
        let (actor_kind, name) = match kind {
            "SubmissionAcceptance" | "SubmissionRejection" | "ContentConsignment" => {
                ("clerk", "王书记员")
            }
            "ConsignmentNotification" | "ConsignmentNotificationFailure" => ("system", "Songda"),
            _ => ("party", "李四"),
        };
        json!({
            "v": 1,
            "id": format!("0190f3a2-7c4e-7d21-9b3a-{i:012}"),
            "type": kind,
            "at": at,
            "actor": {"kind": actor_kind, "name": name},
            "channel": "platform",
            "client": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"},
        })
    }

    fn sample() -> Value {
        json!({
            "certificate_version": 2,
            "service_id": "0190f3a2-7c4e-7d21-9b3a-5f2e8c1d4a6b",
            "issued_at": "2026-11-29T08:00:00.000000Z",
            "verification_code": "7KQ2-M9XD-4HRT",
            "verify_url": URL,
            "court": {"name": "北京市海淀区人民法院"},
            "case": {"id": "0190f3a2-0000-7000-8000-000000000001", "case_number": "（2026）京0108民初12345号", "title": "张三诉李四买卖合同纠纷"},
            "documents": [
                {"id": "d1", "title": "民事判决书", "doc_type": "judgment", "sha256": SHA_A, "size": 123456, "pages": 3},
                {"id": "d2", "title": "上诉权利告知书", "doc_type": "notice", "sha256": SHA_B, "size": 2345, "pages": 1},
            ],
            "recipient": {"party_id": "p1", "name": "李四", "role": "defendant"},
            "address": {"channel": "platform", "address": "platform-inbox:0190f3a2-1111-7000-8000-000000000002", "provenance": "confirmed", "consent_basis": "express", "consent_version": "2026-11-v1"},
            "regime": {"id": "CPL2021-A90", "citation_zh": "《中华人民共和国民事诉讼法》（2021年修正）第九十条", "citation_en": "Civil Procedure Law (2021 amendment), Art. 90"},
            "status": "signed", "stage": "signed",
            "deposited_at": "2026-11-28T02:15:30.000000Z",
            "served_at": "2026-11-28T02:15:30.000000Z",
            "service_rule": "inbox_deposit_confirmed_address",
            "service_rule_text": {"id": "inbox_deposit_confirmed_address", "zh": "受送达人确认的电子送达地址，文书到达受送达人平台账户之时为送达时间（《中华人民共和国民事诉讼法》（2021年修正）第九十条第二款；《人民法院在线诉讼规则》第三十一条）", "en": "Confirmed electronic address: served on deposit"},
            "signature": {"first_viewed_at": "2026-11-28T06:00:00Z", "signed_at": "2026-11-28T06:05:09Z", "refused_at": null, "refusal_reason": null, "refusal_note": null},
            "notifications": [
                {"channel": "sms", "purpose": "new_service", "recipient": "138****0000", "status": "sent", "attempts": 1, "sent_at": "2026-11-28T02:16:00Z", "reference": "SMS-20261128-0001"},
                {"channel": "email", "purpose": "new_service", "recipient": "l***@example.com", "status": "failed", "attempts": 3, "sent_at": null, "reference": null},
            ],
            "events": [
                event(0, "SubmissionAcceptance", "2026-11-28T02:15:29Z"),
                event(1, "ContentConsignment", "2026-11-28T02:15:30Z"),
                event(2, "ConsignmentNotification", "2026-11-28T02:16:00Z"),
                event(3, "ContentAccessTracking", "2026-11-28T06:00:00Z"),
                event(4, "ConsignmentAcceptance", "2026-11-28T06:05:09Z"),
            ],
            "proof": {
                "log": {"hash": "sha256", "tree": "rfc6962", "event_encoding": "jcs-rfc8785"},
                "head": {"size": 42, "root": SHA_B, "timestamp": "2026-11-29T07:59:59Z", "algorithm": "ed25519", "key_id": "a1b2c3d4e5f60718", "signature": format!("{SHA_A}{SHA_B}")},
                "public_key": {"algorithm": "ed25519", "key_id": "a1b2c3d4e5f60718", "public_key": SHA_A},
                "entries": [
                    {"index": 7, "leaf_hash": SHA_A, "inclusion": [SHA_B], "event": "{}"},
                    {"index": 8, "leaf_hash": SHA_B, "inclusion": [SHA_A], "event": "{}"},
                ],
            },
        })
    }

    fn write_temp(pdf: &[u8]) -> tempfile::NamedTempFile {
        let file = tempfile::Builder::new().suffix(".pdf").tempfile().unwrap();
        std::fs::write(file.path(), pdf).unwrap();
        file
    }

    fn run(tool: &str, args: &[&str], pdf: &[u8]) -> String {
        let file = write_temp(pdf);
        let out = Command::new(tool)
            .args(args)
            .arg(file.path())
            .arg("-")
            .output()
            .unwrap_or_else(|e| panic!("{tool} (poppler-utils) must be installed: {e}"));
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pdftotext(pdf: &[u8]) -> String {
        run("pdftotext", &["-layout"], pdf)
    }

    /// The text without spaces: pdftotext keeps or drops a narrow space depending on
    /// its neighbours, which says nothing about the certificate.
    fn compact(text: &str) -> String {
        text.replace(' ', "")
    }

    /// Set `SONGDA_KEEP_CERTIFICATES` to a folder to look at what the tests render.
    fn keep(name: &str, pdf: &[u8]) {
        if let Some(dir) = std::env::var_os("SONGDA_KEEP_CERTIFICATES") {
            std::fs::write(Path::new(&dir).join(name), pdf).unwrap();
        }
    }

    fn pdffonts(pdf: &[u8]) -> String {
        let file = write_temp(pdf);
        let out = Command::new("pdffonts")
            .arg(file.path())
            .output()
            .expect("pdffonts (poppler-utils) must be installed");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Rows of `pdffonts` as (name, emb, sub), read from the right: long names push
    /// the columns out of their places, and the type column contains spaces.
    fn font_rows(listing: &str) -> Vec<(String, String, String)> {
        let mut lines = listing.lines();
        let header = lines.next().unwrap_or_default();
        assert!(header.ends_with("emb sub uni object ID"), "{listing}");
        lines
            .skip(1)
            .map(|row| {
                let t: Vec<&str> = row.split_whitespace().collect();
                assert!(t.len() >= 8, "{row}");
                let n = t.len();
                (t[0].to_owned(), t[n - 5].to_owned(), t[n - 4].to_owned())
            })
            .collect()
    }

    fn page_count(text: &str) -> usize {
        // pdftotext ends every page with a form feed.
        text.matches('\u{c}').count()
    }

    #[test]
    fn the_sample_certificate_shows_the_form_and_the_evidence_in_embedded_subset_fonts() {
        let cert = sample();
        let started = Instant::now();
        let pdf = certificate_pdf(&cert, font()).unwrap();
        let took = started.elapsed();
        eprintln!(
            "sample certificate: {} bytes in {took:?} ({})",
            pdf.len(),
            font().describe()
        );
        keep("sample.pdf", &pdf);
        let text = compact(&pdftotext(&pdf));
        for expected in [
            "北京市海淀区人民法院",
            "电子送达凭证",
            "送达回证",
            "案由",
            "张三诉李四买卖合同纠纷",
            "案号",
            "（2026）京0108民初12345号",
            "送达文书名称和件数",
            "民事判决书、上诉权利告知书（共2件）",
            "受送达人",
            "李四（被告）",
            "送达地点",
            "受送达人确认的地址",
            "受送达人签名或盖章",
            "已于 2026年11月28日 14:05:09（北京时间） 电子签收",
            "送达时间及依据",
            "2026年11月28日 10:15:30（北京时间）",
            "依据：受送达人确认的电子送达地址",
            "代收人及代收理由",
            "无（电子送达）",
            "送达人",
            "备注",
            "第九十条",
            "填发时间",
            "2026年11月29日 16:00:00（北京时间）",
            SHA_A,
            SHA_B,
            "文书送达至平台",
            "受送达人签收",
            "138****0000",
            "a1b2c3d4e5f60718",
            "7KQ2-M9XD-4HRT",
            URL,
            "songda verify",
            "第 1 页 / 共 2 页",
            "0190f3a2-7c4e-7d21-9b3a-5f2e8c1d4a6b",
        ] {
            let expected = compact(expected);
            assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
        }
        let rows = font_rows(&pdffonts(&pdf));
        assert!(!rows.is_empty(), "no fonts listed");
        for (name, emb, sub) in &rows {
            assert_eq!((emb.as_str(), sub.as_str()), ("yes", "yes"), "font {name}");
        }
        assert!(pdf.len() < 300_000, "{} bytes", pdf.len());
    }

    #[test]
    fn the_qr_code_decodes_to_the_verification_address() {
        let pdf = certificate_pdf(&sample(), font()).unwrap();
        let mut decoded = Vec::new();
        for page in 1.. {
            let png = match crate::pdf::render_page_png(pdf.clone(), page, 1240) {
                Ok(png) => png,
                Err(PdfError::NoSuchPage(_)) => break,
                Err(e) => panic!("page {page}: {e}"),
            };
            let pixmap = hayro::vello_cpu::Pixmap::from_png(Cursor::new(png)).unwrap();
            let (w, h) = (usize::from(pixmap.width()), usize::from(pixmap.height()));
            let data = pixmap.data();
            let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
                let p = data[y * w + x];
                ((u16::from(p.r) + u16::from(p.g) + u16::from(p.b)) / 3) as u8
            });
            for grid in image.detect_grids() {
                if let Ok((_, content)) = grid.decode() {
                    decoded.push((page, content));
                }
            }
        }
        assert_eq!(decoded.len(), 1, "{decoded:?}");
        assert_eq!(decoded[0].1, URL);
    }

    #[test]
    fn the_qr_code_is_wide_enough_and_keeps_its_quiet_zone() {
        let (n, dark) = qr_matrix(URL).unwrap();
        assert_eq!(dark.len(), n * n);
        let side_mm = QR_SIDE.max((n + 2 * QR_QUIET) as f32) / 72.0 * 25.4;
        assert!(side_mm >= 30.0, "{side_mm} mm");
        let code = QrCode::with_error_correction_level(URL.as_bytes(), EcLevel::M).unwrap();
        assert_eq!(code.error_correction_level(), EcLevel::M);
        assert_eq!(QR_QUIET, 4);
    }

    fn long_certificate() -> Value {
        let mut cert = sample();
        let kinds = [
            "SubmissionAcceptance",
            "SubmissionRejection",
            "ContentConsignment",
            "ConsignmentNotification",
            "ConsignmentNotificationFailure",
            "ContentAccessTracking",
            "ContentHandover",
            "ConsignmentAcceptance",
            "ConsignmentRejection",
            "CaseBinding",
            "AddressConfirmation",
            "ConsentWithdrawal",
        ];
        let events: Vec<Value> = (0..60)
            .map(|i| {
                let mut e = event(i, kinds[i % kinds.len()], &format!("2026-11-28T{:02}:{:02}:00Z", i / 6, i % 60));
                if i.is_multiple_of(7) {
                    e["note"] = json!("受送达人称手机号码已于上月变更，要求改为邮寄送达纸质文书，并附上新的联系地址：北京市海淀区中关村大街一号院五号楼三单元八〇一室");
                }
                e
            })
            .collect();
        let documents: Vec<Value> = (0..10)
            .map(|i| json!({
                "id": format!("d{i}"),
                "title": format!("关于张三诉李四买卖合同纠纷一案追加第三人北京某某科技发展有限公司参加诉讼及变更诉讼请求的通知书（第{}号）", i + 1),
                "doc_type": "notice",
                "sha256": if i % 2 == 0 { SHA_A } else { SHA_B },
                "size": 1000 * (i + 1),
                "pages": i + 1,
            }))
            .collect();
        cert["events"] = json!(events);
        cert["documents"] = json!(documents);
        cert["case"]["title"] = json!(
            "张三诉李四、王五、赵六及北京某某科技发展有限公司买卖合同纠纷、借款合同纠纷及保证合同纠纷一案（本案经二审发回重审）"
        );
        cert
    }

    #[test]
    fn a_long_certificate_flows_onto_more_pages() {
        let cert = long_certificate();
        let pdf = certificate_pdf(&cert, font()).unwrap();
        keep("long.pdf", &pdf);
        let text = pdftotext(&pdf);
        let pages = page_count(&text);
        assert!(pages > 1, "{pages} pages");
        for kind in list_at(&cert, "/events")
            .iter()
            .filter_map(|e| text_at(e, "/type"))
        {
            let label = event_zh(&kind).unwrap();
            assert!(text.contains(label), "missing {label}");
        }
        assert!(
            compact(&text).contains(&format!("第{pages}页/共{pages}页")),
            "{text}"
        );
        // The timeline numbers every event, across pages.
        for i in 1..=60 {
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{i} "))
                        && l.contains("2026年11月28日")),
                "event {i} not numbered"
            );
        }
        assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
    }

    /// Every drawn op stays inside its page's content area, no two text lines overlap,
    /// and no rule or border runs through text.
    #[test]
    fn nothing_is_drawn_outside_the_page_or_over_other_text() {
        let shaper = Shaper::new(font()).unwrap();
        let mut flow = Flow::new(&shaper);
        layout_certificate(&mut flow, &long_certificate());
        assert!(flow.pages.len() > 2, "{} pages", flow.pages.len());
        let inside = |v: f32, lo: f32, hi: f32| v > lo + 0.01 && v < hi - 0.01;
        for (p, ops) in flow.pages.iter().enumerate() {
            // Ink boxes of text: the ideographic box, -0.12 to 0.88 em around the baseline.
            let mut boxes: Vec<([f32; 4], &str)> = Vec::new();
            let mut segs: Vec<[f32; 4]> = Vec::new();
            for op in ops {
                match op {
                    Op::Text { x, baseline, line } => {
                        let b = [
                            *x,
                            baseline - line.style.size * 0.88,
                            x + line.width,
                            baseline + line.style.size * 0.12,
                        ];
                        assert!(
                            b[0] >= LEFT - 0.01 && b[2] <= RIGHT + 0.01,
                            "page {p}: {:?} runs past the margin",
                            line.text
                        );
                        assert!(
                            b[1] >= FIRST_TOP - 0.01 && b[3] <= BOTTOM + 0.01,
                            "page {p}: {:?} at {b:?}",
                            line.text
                        );
                        boxes.push((b, &line.text));
                    }
                    Op::Rects { rects, .. } => {
                        for r in rects {
                            assert!(
                                r[1] >= FIRST_TOP - 0.01 && r[1] + r[3] <= BOTTOM + 0.01,
                                "page {p}: rect {r:?}"
                            );
                        }
                    }
                    Op::Lines { segs: s, .. } => segs.extend(s),
                }
            }
            for (i, (b, text)) in boxes.iter().enumerate() {
                for (o, other) in &boxes[..i] {
                    let overlap = b[0] < o[2] - 0.01
                        && o[0] < b[2] - 0.01
                        && b[1] < o[3] - 0.01
                        && o[1] < b[3] - 0.01;
                    assert!(!overlap, "page {p}: {text:?} overlaps {other:?}");
                }
                for s in &segs {
                    let (x0, x1) = (s[0].min(s[2]), s[0].max(s[2]));
                    let (y0, y1) = (s[1].min(s[3]), s[1].max(s[3]));
                    let crosses = if y0 == y1 {
                        inside(y0, b[1], b[3]) && x0 < b[2] && x1 > b[0]
                    } else {
                        inside(x0, b[0], b[2]) && y0 < b[3] && y1 > b[1]
                    };
                    assert!(!crosses, "page {p}: rule {s:?} runs through {text:?}");
                }
            }
            for s in &segs {
                assert!(
                    s[1].min(s[3]) >= FIRST_TOP - 0.01 && s[1].max(s[3]) <= BOTTOM + 0.01,
                    "page {p}: line {s:?}"
                );
                assert!(
                    s[0].min(s[2]) >= LEFT - 0.01 && s[0].max(s[2]) <= RIGHT + 0.01,
                    "page {p}: line {s:?}"
                );
            }
        }
    }

    #[test]
    fn odd_input_renders_dashes_instead_of_failing() {
        let nulls = json!({
            "certificate_version": null, "service_id": null, "issued_at": "not a time",
            "verification_code": null, "verify_url": null, "court": null,
            "case": {"case_number": 12345, "title": ["not", "text"]},
            "documents": [null, 7, {"title": null, "sha256": null, "size": -1, "pages": "many"}],
            "recipient": "nobody", "address": [], "regime": {"citation_zh": null},
            "status": 3, "served_at": null, "deposited_at": "",
            "service_rule": "no_such_rule", "service_rule_text": null,
            "signature": {"signed_at": null, "refused_at": "2026-11-28T06:05:09Z", "refusal_reason": "whatever"},
            "notifications": {"not": "a list"},
            "events": [null, {"type": "NoSuchEvent", "at": 5, "actor": null}, {"type": "ConsignmentRejection", "reason_code": "unreadable", "note": "\u{0}\u{7}\t行一\n行二\r\n"}],
            "proof": {"head": {"signature": "短"}, "entries": [{"index": null}, "x"]},
        });
        for (i, cert) in [json!({}), json!(null), json!([1, 2]), json!("text"), nulls]
            .into_iter()
            .enumerate()
        {
            let pdf = certificate_pdf(&cert, font()).unwrap();
            keep(&format!("odd-{i}.pdf"), &pdf);
            let text = pdftotext(&pdf);
            assert!(text.contains("电子送达凭证"), "{text}");
            assert!(text.contains("—"), "{text}");
            assert!(text.contains("尚未签收") || text.contains("拒收"), "{text}");
        }
    }

    #[test]
    fn unknown_values_are_shown_raw_and_known_ones_in_chinese() {
        let mut cert = sample();
        cert["signature"] = json!({"refused_at": "2026-11-28T06:05:09Z", "refusal_reason": "wrong_document", "refusal_note": "缺第3页"});
        cert["served_at"] = Value::Null;
        cert["status"] = json!("refused");
        cert["address"]["provenance"] = json!("court_obtained");
        cert["recipient"]["role"] = json!("guardian");
        let text = compact(&pdftotext(&certificate_pdf(&cert, font()).unwrap()));
        for expected in [
            "已于 2026年11月28日 14:05:09（北京时间） 拒收",
            "理由：文书错误或不完整",
            "说明：缺第3页",
            "尚未送达",
            "法院获取的地址",
            "李四（guardian）",
            "已拒收",
        ] {
            let expected = compact(expected);
            assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
        }
    }

    #[test]
    fn times_are_shown_in_beijing_time() {
        assert_eq!(
            beijing_full("2026-11-29T08:00:00.000000Z"),
            "2026年11月29日 16:00:00（北京时间）"
        );
        // Across midnight and the year, and from a non-UTC offset.
        assert_eq!(beijing("2026-12-31T16:30:05Z"), "2027年01月01日 00:30:05");
        assert_eq!(
            beijing("2026-11-29T10:00:00+02:00"),
            "2026年11月29日 16:00:00"
        );
        assert_eq!(beijing_full("yesterday"), "yesterday");
    }

    #[test]
    fn lines_break_between_chinese_characters_and_at_spaces_but_not_inside_words() {
        let shaper = Shaper::new(font()).unwrap();
        let texts = |lines: Vec<Line>| lines.into_iter().map(|l| l.text).collect::<Vec<_>>();
        let size = BODY.size;
        // Ten ideographs in the width of four and a bit.
        let lines = texts(shaper.wrap("一二三四五六七八九十", BODY, size * 4.5));
        assert_eq!(lines, ["一二三四", "五六七八", "九十"]);
        // Closing punctuation stays with the character before it.
        let lines = texts(shaper.wrap("一二三，四五", BODY, size * 3.5));
        assert_eq!(lines, ["一二", "三，四", "五"]);
        let two_words = shaper.line("alpha beta", BODY).width;
        let lines = texts(shaper.wrap("alpha beta gamma", BODY, two_words + 1.0));
        assert_eq!(lines, ["alpha beta", "gamma"]);
        let lines = texts(shaper.wrap("alpha beta gamma", BODY, two_words - 1.0));
        assert_eq!(lines, ["alpha", "beta", "gamma"]);
        // A hash wider than the line is cut where it overflows, and nothing is lost.
        let lines = texts(shaper.wrap(SHA_A, HASH, HASH.size * 10.0));
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), SHA_A);
        for line in shaper.wrap(SHA_A, HASH, HASH.size * 10.0) {
            assert!(line.width <= HASH.size * 10.0 + 0.01, "{}", line.width);
        }
    }

    #[test]
    fn a_full_hash_fits_on_one_line_of_the_document_table() {
        let shaper = Shaper::new(font()).unwrap();
        let cell_w = CONTENT_W - 30.0 - 2.0 * PAD_X;
        let lines = shaper.wrap(&format!("SHA-256 {SHA_A}"), HASH, cell_w);
        assert_eq!(lines.len(), 1, "{}", lines[0].width);
        let signature = chunked(&format!("{SHA_A}{SHA_B}"), 64);
        let lines = shaper.wrap(&signature, HASH, CONTENT_W - FORM_LABEL_W - 2.0 * PAD_X);
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn the_noto_collection_face_used_is_the_simplified_chinese_one() {
        let f = font();
        let noto = f.regular.path.starts_with("/usr/share/fonts/opentype/noto");
        if noto {
            assert_eq!(f.regular.index, 2);
            assert!(
                f.regular.family.ends_with(" CJK SC"),
                "{}",
                f.regular.family
            );
            let bold = f.bold.as_ref().expect("the bold Noto face");
            assert!(bold.family.ends_with(" CJK SC"), "{}", bold.family);
            let mono = f.mono.as_ref().expect("Noto Sans Mono CJK SC");
            assert_eq!(mono.family, "Noto Sans Mono CJK SC");
        }
        let found = face_with_family(&f.regular.data, 0, " CJK SC", &f.regular.path);
        if noto {
            assert_eq!(found, 2, "searching from the JP face finds the SC face");
        }
        assert!(f.describe().contains(&f.regular.family), "{}", f.describe());
    }

    #[test]
    fn an_explicit_font_that_does_not_exist_is_named_in_the_error() {
        let missing = Path::new("/nonexistent/fonts/SimSun.ttc#1");
        let err = CertificateFont::discover(Some(missing))
            .err()
            .expect("an error");
        let text = err.to_string();
        assert!(text.contains("/nonexistent/fonts/SimSun.ttc"), "{text}");
        assert!(
            !text.contains("#1"),
            "the face index is not part of the path: {text}"
        );
    }

    #[test]
    fn without_any_known_font_the_error_lists_the_files_and_the_package() {
        let nowhere = [Candidate {
            regular: "/nonexistent/NotoSerifCJK-Regular.ttc",
            bold: None,
            index: 2,
            family_suffix: Some(" CJK SC"),
        }];
        let err = CertificateFont::discover_among(&mut FontFiles::default(), &nowhere)
            .err()
            .expect("an error");
        let text = err.to_string();
        assert!(
            text.contains("/nonexistent/NotoSerifCJK-Regular.ttc (face 2)"),
            "{text}"
        );
        assert!(text.contains("fonts-noto-cjk"), "{text}");
    }

    #[test]
    fn an_explicit_font_with_a_face_index_is_loaded() {
        let path = &font().regular.path;
        let spec = PathBuf::from(format!("{}#{}", path.display(), font().regular.index));
        let explicit = CertificateFont::discover(Some(&spec)).unwrap();
        assert_eq!(explicit.regular.index, font().regular.index);
        assert!(explicit.bold.is_none());
        let pdf = certificate_pdf(&sample(), &explicit).unwrap();
        keep("explicit-font.pdf", &pdf);
        assert!(pdftotext(&pdf).contains("受送达人签名或盖章"));
        assert_eq!(
            split_face_spec(Path::new("/a/b#c.ttf")),
            (PathBuf::from("/a/b#c.ttf"), 0)
        );
    }

    #[test]
    fn the_font_can_be_shared_between_threads() {
        fn shared<T: Send + Sync + Clone>() {}
        shared::<CertificateFont>();
    }
}
