//! Rasterising one PDF page to a PNG, so a phone can show a served document
//! as an image without a PDF viewer.
//!
//! Rendering is done by hayro, a pure-Rust rasteriser. It ships the 14
//! standard fonts and the predefined CJK CMaps (its default features), so
//! Latin text in non-embedded fonts and the encodings used by Chinese
//! documents need nothing from the system. What it cannot ship is a CJK
//! typeface: a PDF whose Chinese text uses a non-embedded CID font (our own
//! samples use `STSong-Light`, see `sample.rs`; many Chinese office exports
//! do the same) gets a system font, looked up here in the usual Debian
//! places (`fonts-noto-cjk`, `fonts-wqy-*`, `fonts-arphic-*`, Droid
//! fallback). Without one the text is drawn as hollow boxes from a tiny
//! built-in font, rather than failing or showing wrong glyphs: the page
//! still renders and it is plain to see that a font is missing.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};

use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_interpret::font::{FallbackFontQuery, FontData, FontQuery};
use hayro::hayro_interpret::hayro_cmap::CidFamily;
use hayro::hayro_interpret::util::TransformExt;
use hayro::hayro_syntax::{LoadPdfError, Pdf};
use hayro::kurbo::Affine;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings, render_into};

use super::PdfError;

/// Widest image we make: beyond any phone screen, and it bounds memory
/// (4 bytes a pixel while rendering).
const MAX_WIDTH_PX: u32 = 4096;
/// Tallest image we make, for very elongated pages.
const MAX_HEIGHT_PX: u32 = 8192;

/// Render page `page` (1-based) of the PDF at `path` as a PNG `width_px`
/// wide, its height following the page's aspect ratio, on white.
///
/// The whole file is read into memory, as the parser needs it there. This
/// takes tens to hundreds of milliseconds of CPU a page; call it from a
/// blocking thread.
pub fn render_page_png(data: Vec<u8>, page: u32, width_px: u32) -> Result<Vec<u8>, PdfError> {
    if page == 0 {
        return Err(PdfError::NoSuchPage(0));
    }
    if !(1..=MAX_WIDTH_PX).contains(&width_px) {
        return Err(PdfError::Render(format!(
            "width must be between 1 and {MAX_WIDTH_PX} pixels, not {width_px}"
        )));
    }
    let pixmap = render_pixmap(data, page, width_px, system_cjk_font)?;
    pixmap
        .into_png()
        .map_err(|e| PdfError::Render(format!("PNG encoding failed: {e}")))
}

/// Finds a typeface for text in a non-embedded font of a CJK character
/// collection; a parameter so tests can take the system's fonts away.
type CjkFontLookup = fn(&CidFamily, bool) -> Option<(FontData, u32)>;

fn render_pixmap(
    data: Vec<u8>,
    page: u32,
    width_px: u32,
    cjk_font: CjkFontLookup,
) -> Result<Pixmap, PdfError> {
    // hayro is young and meets every kind of upload; a panic inside it must
    // become an error for this one request, not take the worker down.
    catch_unwind(AssertUnwindSafe(|| {
        render_pixmap_unguarded(data, page, width_px, cjk_font)
    }))
    .unwrap_or_else(|_| {
        Err(PdfError::Render(format!(
            "the renderer failed on page {page}"
        )))
    })
}

fn render_pixmap_unguarded(
    data: Vec<u8>,
    page: u32,
    width_px: u32,
    cjk_font: CjkFontLookup,
) -> Result<Pixmap, PdfError> {
    let pdf = Pdf::new(data).map_err(|e| match e {
        LoadPdfError::Decryption(_) => PdfError::Render("the file is encrypted".into()),
        LoadPdfError::Invalid => PdfError::NotPdf("the structure could not be read".into()),
    })?;
    let pages = pdf.pages();
    let index = usize::try_from(page - 1).map_err(|_| PdfError::NoSuchPage(page))?;
    let page_ref = pages.get(index).ok_or(PdfError::NoSuchPage(page))?;

    let (width_pt, height_pt) = page_ref.render_dimensions();
    if !(width_pt.is_finite() && height_pt.is_finite() && width_pt > 0.0 && height_pt > 0.0) {
        return Err(PdfError::Render(format!("page {page} has no usable size")));
    }
    let height_px = (f64::from(width_px) * f64::from(height_pt) / f64::from(width_pt)).round();
    if height_px > f64::from(MAX_HEIGHT_PX) {
        return Err(PdfError::Render(format!(
            "page {page} would be {height_px} pixels tall at this width; the limit is {MAX_HEIGHT_PX}"
        )));
    }
    // Both fit in u16 because of the limits above, which vello_cpu needs.
    let (w, h) = (width_px as u16, height_px.max(1.0) as u16);

    let settings = InterpreterSettings {
        font_resolver: Arc::new(move |query: &FontQuery| resolve_font(query, cjk_font)),
        ..InterpreterSettings::default()
    };
    let cache = RenderCache::new();
    let mut ctx = RenderContext::new(w, h);
    // Scale each axis to the rounded pixel size so the page fills the image exactly.
    let transform = Affine::scale_non_uniform(
        f64::from(w) / f64::from(width_pt),
        f64::from(h) / f64::from(height_pt),
    ) * page_ref.initial_transform(true).to_kurbo();
    render_into(
        page_ref,
        &cache,
        &settings,
        &RenderSettings::default(),
        &mut ctx,
        transform,
    );
    ctx.flush();
    let mut pixmap = Pixmap::new(w, h);
    ctx.render_with(
        &mut pixmap,
        &mut Resources::default(),
        RasterizerSettings {
            target_init: TargetInit::Clear(WHITE),
            ..Default::default()
        },
    );
    Ok(pixmap)
}

fn resolve_font(query: &FontQuery, cjk_font: CjkFontLookup) -> Option<(FontData, u32)> {
    match query {
        FontQuery::Standard(font) => Some(font.get_font_data()),
        FontQuery::Fallback(wanted) => {
            let cjk = wanted
                .character_collection
                .as_ref()
                .map(|cc| &cc.family)
                .filter(|family| {
                    matches!(
                        family,
                        CidFamily::AdobeGB1
                            | CidFamily::AdobeCNS1
                            | CidFamily::AdobeJapan1
                            | CidFamily::AdobeKorea1
                    )
                });
            match cjk {
                // A Latin face must not stand in here: hayro would then pick
                // glyphs by CID and draw unrelated letters.
                Some(family) => {
                    Some(cjk_font(family, wants_serif(wanted)).unwrap_or_else(tofu_font))
                }
                None => Some(wanted.pick_standard_font().get_font_data()),
            }
        }
    }
}

/// Whether a CJK font asks for a Song/Ming (serif) face. hayro reads the
/// serif flag from the Type0 font, where it never is (it sits on the
/// descendant's descriptor), so the usual names decide: STSong, SimSun,
/// FangSong, KaiTi, MingLiU, Mincho, Batang.
fn wants_serif(wanted: &FallbackFontQuery) -> bool {
    const SERIF_NAMES: [&str; 7] = ["song", "sun", "ming", "kai", "mincho", "batang", "serif"];
    let name = wanted
        .post_script_name
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    wanted.is_serif || SERIF_NAMES.iter().any(|serif| name.contains(serif))
}

/// A system font file with CJK coverage.
struct Candidate {
    path: &'static str,
    /// Whether it is a Noto CJK collection, whose faces are ordered
    /// JP, KR, SC, TC, HK; the others have one face (or the Chinese one first).
    noto_collection: bool,
}

const fn noto(path: &'static str) -> Candidate {
    Candidate {
        path,
        noto_collection: true,
    }
}

const fn single(path: &'static str) -> Candidate {
    Candidate {
        path,
        noto_collection: false,
    }
}

/// Song/Ming (serif) faces first; documents asking for one get these.
const SERIF_FONTS: &[Candidate] = &[
    noto("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    single("/usr/share/fonts/truetype/arphic/uming.ttc"),
    single("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"),
];

/// Hei (sans) faces, also the fallback when no serif face is installed.
const SANS_FONTS: &[Candidate] = &[
    noto("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    single("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    single("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    single("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"),
];

/// Font files read so far, kept for the life of the process: a CJK font is
/// 5 to 30 MB and is needed again for every page that uses it. A file that
/// is missing is remembered as such, so it is looked for only once.
static FONT_FILES: Mutex<Option<HashMap<&'static str, Option<FontData>>>> = Mutex::new(None);

fn load_font_file(path: &'static str) -> Option<FontData> {
    let mut files = FONT_FILES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    files
        .get_or_insert_with(HashMap::new)
        .entry(path)
        .or_insert_with(|| {
            std::fs::read(path)
                .ok()
                .map(|bytes| Arc::new(bytes) as FontData)
        })
        .clone()
}

fn system_cjk_font(family: &CidFamily, serif: bool) -> Option<(FontData, u32)> {
    let order: [&[Candidate]; 2] = if serif {
        [SERIF_FONTS, SANS_FONTS]
    } else {
        [SANS_FONTS, SERIF_FONTS]
    };
    order.into_iter().flatten().find_map(|candidate| {
        let data = load_font_file(candidate.path)?;
        let index = match (candidate.noto_collection, family) {
            (false, _) => 0,
            (true, CidFamily::AdobeJapan1) => 0,
            (true, CidFamily::AdobeKorea1) => 1,
            (true, CidFamily::AdobeCNS1) => 3,
            (true, _) => 2,
        };
        Some((data, index))
    })
}

fn tofu_font() -> (FontData, u32) {
    static TOFU: OnceLock<FontData> = OnceLock::new();
    (TOFU.get_or_init(|| Arc::new(build_tofu_font())).clone(), 0)
}

/// A minimal TrueType font whose only glyph is a hollow box, mapped from
/// every character except the spaces (a format 13 "last resort" cmap).
/// Built in code because it is a few hundred bytes and this shows how.
fn build_tofu_font() -> Vec<u8> {
    const UPEM: u16 = 1000;
    const ADVANCE: u16 = 1000;
    let (x0, y0, x1, y1, stroke) = (100_i16, -60_i16, 900_i16, 800_i16, 60_i16);

    let be16 = |v: &mut Vec<u8>, x: u16| v.extend(x.to_be_bytes());
    let be32 = |v: &mut Vec<u8>, x: u32| v.extend(x.to_be_bytes());
    let i16_ = |v: &mut Vec<u8>, x: i16| v.extend(x.to_be_bytes());

    // glyf: glyph 0 (.notdef) is empty, glyph 1 is the box: an outer and
    // an inner rectangle wound in opposite directions, so the inside is a hole.
    let points: [(i16, i16); 8] = [
        (x0, y0),
        (x0, y1),
        (x1, y1),
        (x1, y0),
        (x0 + stroke, y0 + stroke),
        (x1 - stroke, y0 + stroke),
        (x1 - stroke, y1 - stroke),
        (x0 + stroke, y1 - stroke),
    ];
    let mut glyf = Vec::new();
    i16_(&mut glyf, 2); // contours
    for v in [x0, y0, x1, y1] {
        i16_(&mut glyf, v);
    }
    be16(&mut glyf, 3); // last point of each contour
    be16(&mut glyf, 7);
    be16(&mut glyf, 0); // no hinting instructions
    glyf.extend([0x01; 8]); // every point on the curve, coordinates as i16 deltas
    for axis in [0, 1] {
        let mut previous = 0;
        for point in points {
            let value = if axis == 0 { point.0 } else { point.1 };
            i16_(&mut glyf, value - previous);
            previous = value;
        }
    }

    let mut loca = Vec::new(); // short offsets, in units of two bytes
    for offset in [0, 0, glyf.len() as u16 / 2] {
        be16(&mut loca, offset);
    }

    let mut cmap = Vec::new();
    be16(&mut cmap, 0); // version
    be16(&mut cmap, 1); // one encoding record: Windows, UCS-4
    be16(&mut cmap, 3);
    be16(&mut cmap, 10);
    be32(&mut cmap, 12);
    let groups: [(u32, u32); 2] = [(0x21, 0x2FFF), (0x3001, 0x10FFFF)]; // skipping U+0020, U+3000
    be16(&mut cmap, 13); // format 13: each group maps to one glyph
    be16(&mut cmap, 0);
    be32(&mut cmap, 16 + 12 * groups.len() as u32);
    be32(&mut cmap, 0); // language
    be32(&mut cmap, groups.len() as u32);
    for (first, last) in groups {
        be32(&mut cmap, first);
        be32(&mut cmap, last);
        be32(&mut cmap, 1);
    }

    let mut head = Vec::new();
    be32(&mut head, 0x0001_0000); // version
    be32(&mut head, 0x0001_0000); // font revision
    be32(&mut head, 0); // checksum adjustment, filled in below
    be32(&mut head, 0x5F0F_3CF5); // magic
    be16(&mut head, 0b1011); // baseline at y=0, lsb at x=0, integer scaling
    be16(&mut head, UPEM);
    head.extend([0; 16]); // created, modified
    for v in [x0, y0, x1, y1] {
        i16_(&mut head, v);
    }
    be16(&mut head, 0); // mac style
    be16(&mut head, 8); // smallest readable size
    i16_(&mut head, 2); // font direction hint
    i16_(&mut head, 0); // short loca
    i16_(&mut head, 0); // glyph data format

    let mut hhea = Vec::new();
    be32(&mut hhea, 0x0001_0000);
    i16_(&mut hhea, 880); // ascender
    i16_(&mut hhea, -120); // descender
    i16_(&mut hhea, 0); // line gap
    be16(&mut hhea, ADVANCE);
    i16_(&mut hhea, 0); // min left side bearing
    i16_(&mut hhea, 0); // min right side bearing
    i16_(&mut hhea, x1); // max extent
    for v in [1, 0, 0, 0, 0, 0, 0, 0] {
        i16_(&mut hhea, v); // caret rise, run, offset, reserved x4, metric format
    }
    be16(&mut hhea, 2); // horizontal metrics for both glyphs

    let mut hmtx = Vec::new();
    for (advance, lsb) in [(ADVANCE, 0), (ADVANCE, x0)] {
        be16(&mut hmtx, advance);
        i16_(&mut hmtx, lsb);
    }

    let mut maxp = Vec::new();
    be32(&mut maxp, 0x0001_0000);
    be16(&mut maxp, 2); // glyphs
    be16(&mut maxp, 8); // points
    be16(&mut maxp, 2); // contours
    for v in [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0] {
        be16(&mut maxp, v); // composite limits, zones, and no hinting programs
    }

    // Tables in tag order, as the directory must list them.
    let tables: [(&[u8; 4], Vec<u8>); 7] = [
        (b"cmap", cmap),
        (b"glyf", glyf),
        (b"head", head),
        (b"hhea", hhea),
        (b"hmtx", hmtx),
        (b"loca", loca),
        (b"maxp", maxp),
    ];
    let checksum = |data: &[u8]| -> u32 {
        data.chunks(4).fold(0_u32, |sum, chunk| {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            sum.wrapping_add(u32::from_be_bytes(word))
        })
    };

    let mut font = Vec::new();
    be32(&mut font, 0x0001_0000);
    be16(&mut font, tables.len() as u16);
    be16(&mut font, 64); // search range: 16 * largest power of two <= 7
    be16(&mut font, 2); // log2 of that power
    be16(&mut font, 7 * 16 - 64); // range shift
    let mut offset = 12 + 16 * tables.len();
    let mut body = Vec::new();
    let mut head_offset = 0;
    for (tag, data) in &tables {
        if *tag == b"head" {
            head_offset = offset;
        }
        font.extend(*tag);
        be32(&mut font, checksum(data));
        be32(&mut font, offset as u32);
        be32(&mut font, data.len() as u32);
        body.extend(data);
        while body.len() % 4 != 0 {
            body.push(0); // tables start on four-byte boundaries
        }
        offset = 12 + 16 * tables.len() + body.len();
    }
    font.extend(body);
    let adjustment = 0xB1B0_AFBA_u32.wrapping_sub(checksum(&font));
    font[head_offset + 8..head_offset + 12].copy_from_slice(&adjustment.to_be_bytes());
    font
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::sample_pdf;

    /// Width and height from a PNG's header, checking the signature first.
    fn png_size(png: &[u8]) -> (u32, u32) {
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG signature");
        assert_eq!(&png[12..16], b"IHDR");
        let number = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        (number(16), number(20))
    }

    fn is_dark(p: &hayro::vello_cpu::color::PremulRgba8) -> bool {
        p.a == 255 && p.r < 128 && p.g < 128 && p.b < 128
    }

    fn write_sample(dir: &tempfile::TempDir, lines: &[&str]) -> std::path::PathBuf {
        let path = dir.path().join("sample.pdf");
        std::fs::write(&path, sample_pdf("民事传票", lines)).unwrap();
        path
    }

    #[test]
    fn renders_a_png_of_the_requested_width_in_a4_proportions() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_sample(&dir, &["(2026)京0105民初12345号", "被传唤人：张三"]);
        let png = render_page_png(std::fs::read(&path).unwrap(), 1, 600).unwrap();
        assert_eq!(png_size(&png), (600, 849)); // 600 * 841.89 / 595.28 = 848.6

        let pixmap = render_pixmap(std::fs::read(&path).unwrap(), 1, 600, system_cjk_font).unwrap();
        let pixels = pixmap.data();
        let white = pixels
            .iter()
            .filter(|p| (p.r, p.g, p.b, p.a) == (255, 255, 255, 255))
            .count();
        assert!(
            white > pixels.len() * 9 / 10,
            "the page is white: {white} of {}",
            pixels.len()
        );
        assert!(
            pixels.iter().all(|p| p.a == 255),
            "the background is opaque"
        );
        assert!(
            pixels.iter().filter(|p| is_dark(p)).count() > 200,
            "there is text"
        );
    }

    #[test]
    fn page_numbers_outside_the_document_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<String> = (1..=60).map(|i| format!("第{i}行")).collect();
        let body: Vec<&str> = body.iter().map(String::as_str).collect();
        let path = write_sample(&dir, &body);
        assert!(matches!(
            render_page_png(std::fs::read(&path).unwrap(), 0, 100),
            Err(PdfError::NoSuchPage(0))
        ));
        assert_eq!(
            png_size(&render_page_png(std::fs::read(&path).unwrap(), 3, 100).unwrap()).0,
            100
        );
        assert!(matches!(
            render_page_png(std::fs::read(&path).unwrap(), 4, 100),
            Err(PdfError::NoSuchPage(4))
        ));
        let last = u32::MAX;
        assert!(
            matches!(render_page_png(std::fs::read(&path).unwrap(), last, 100), Err(PdfError::NoSuchPage(n)) if n == last)
        );
    }

    #[test]
    fn widths_outside_the_limits_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_sample(&dir, &[]);
        for width in [0, MAX_WIDTH_PX + 1] {
            assert!(matches!(
                render_page_png(std::fs::read(&path).unwrap(), 1, width),
                Err(PdfError::Render(_))
            ));
        }
        assert_eq!(
            png_size(&render_page_png(std::fs::read(&path).unwrap(), 1, 1).unwrap()),
            (1, 1)
        );
    }

    #[test]
    fn non_pdf_bytes_are_an_error() {
        assert!(matches!(
            render_page_png(b"<html>not a pdf</html>".to_vec(), 1, 100),
            Err(PdfError::NotPdf(_))
        ));
    }

    /// Dark pixels in the band of the first page that holds the title.
    fn title_ink(cjk: CjkFontLookup, title: &str) -> usize {
        let pixmap = render_pixmap(sample_pdf(title, &[]), 1, 595, cjk).unwrap();
        let width = usize::from(pixmap.width());
        // At 595 px an A4 point is a pixel; the title's glyphs sit between
        // about 72 and 100 pt from the top.
        pixmap.data()[60 * width..110 * width]
            .iter()
            .filter(|p| is_dark(p))
            .count()
    }

    #[test]
    fn chinese_without_a_system_font_is_drawn_as_boxes() {
        let none: CjkFontLookup = |_, _| None;
        let four = title_ink(none, "民事传票");
        let two = title_ink(none, "传票");
        // Boxes of the same size, so ink grows with the number of characters.
        assert!(two > 200, "{two} dark pixels");
        assert!(four > two * 3 / 2, "{four} vs {two}");
        assert_eq!(
            title_ink(none, "民事传票"),
            title_ink(none, "一二三四"),
            "every character is the same box"
        );
    }

    #[test]
    fn chinese_with_a_system_font_is_not_drawn_as_boxes() {
        if system_cjk_font(&CidFamily::AdobeGB1, true).is_none() {
            eprintln!("skipped: no CJK system font installed (apt-get install fonts-noto-cjk)");
            return;
        }
        let none: CjkFontLookup = |_, _| None;
        let boxes = title_ink(none, "一一一一");
        let glyphs = title_ink(system_cjk_font, "一一一一");
        // 一 is a single horizontal stroke: far less ink than a box.
        assert!(glyphs * 2 < boxes, "{glyphs} vs {boxes}");
        assert!(glyphs > 20, "{glyphs}");
        assert_ne!(
            title_ink(system_cjk_font, "民事传票"),
            title_ink(system_cjk_font, "一二三四")
        );
    }

    #[test]
    fn song_and_ming_fonts_ask_for_serif_faces() {
        let named = |name: &str| FallbackFontQuery {
            post_script_name: Some(name.to_owned()),
            ..FallbackFontQuery::default()
        };
        for serif in [
            "STSong-Light",
            "SimSun",
            "FangSong_GB2312",
            "KaiTi",
            "MSung-Light",
            "MingLiU",
        ] {
            assert!(wants_serif(&named(serif)), "{serif}");
        }
        for sans in ["SimHei", "STHeiti", "Microsoft YaHei", "HYGoThic-Medium"] {
            assert!(!wants_serif(&named(sans)), "{sans}");
        }
    }

    #[test]
    fn tofu_font_checksum_is_adjusted() {
        let font = build_tofu_font();
        assert!(font.len() < 512, "{} bytes", font.len());
        let total = font.chunks(4).fold(0_u32, |sum, chunk| {
            let mut word = [0; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            sum.wrapping_add(u32::from_be_bytes(word))
        });
        assert_eq!(total, 0xB1B0_AFBA);
    }
}
