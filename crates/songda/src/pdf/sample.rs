//! Small A4 text PDFs, such as a mock 民事传票, for `songda demo` and for tests.
//!
//! How Chinese text is carried: the CJK text uses `STSong-Light` with the
//! `UniGB-UCS2-H` encoding, a *non-embedded* CID font from the Adobe-GB1
//! collection that every conforming viewer must be able to supply (PDF 1.7,
//! 9.7.5.2). This keeps a sample document to a few kilobytes, where
//! embedding even a subset of a CJK font would mean shipping a font of
//! several megabytes inside the binary or relying on one at generation time.
//! Chromium (PDFium), Acrobat, pdf.js and poppler (with `poppler-data`) all
//! substitute a system Song/Ming face for it; our own renderer does the same
//! in `render.rs`. Printable ASCII is set in Helvetica instead, because the
//! CJK collection's Latin widths are only known to a viewer that has the
//! real STSong-Light metrics, while every viewer knows Helvetica's; it also
//! lets us measure lines to wrap and centre them.
//!
//! Output is deterministic (no dates, no random IDs) so the demo's documents
//! hash the same on every run.

use lopdf::{Dictionary, Document, Object, Stream, StringFormat, dictionary};

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 72.0;
const TITLE_SIZE: f32 = 22.0;
const BODY_SIZE: f32 = 14.0;
const BODY_LEADING: f32 = BODY_SIZE * 1.8;
const FOOTER_SIZE: f32 = 10.0;

/// Helvetica advance widths (1/1000 em) for U+0020..=U+007E under
/// WinAnsiEncoding, from the standard Adobe AFM; needed only to wrap and
/// centre lines, since viewers carry these metrics themselves.
const HELVETICA_ASCII: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// The same for the accented letters U+00C0..=U+00FF (À..ÿ), which
/// WinAnsiEncoding puts at the same codes. Foreign parties' names need
/// them, and Adobe-GB1 lacks most of them.
const HELVETICA_LATIN1_LETTERS: [u16; 64] = [
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, 722, 722, 778,
    778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, 556, 556, 556, 556, 556, 556,
    889, 500, 556, 556, 556, 556, 278, 278, 278, 278, 556, 556, 556, 556, 556, 556, 556, 584, 611,
    556, 556, 556, 556, 500, 556, 500,
];

/// Helvetica's width for `c` if `c` is set in Helvetica, `None` if it goes
/// to the CJK font. × and ÷ stay with the CJK font, where Chinese text
/// expects their full-width forms.
fn helvetica_width(c: char) -> Option<u16> {
    match c {
        ' '..='~' => Some(HELVETICA_ASCII[c as usize - 0x20]),
        '\u{D7}' | '\u{F7}' => None,
        '\u{C0}'..='\u{FF}' => Some(HELVETICA_LATIN1_LETTERS[c as usize - 0xC0]),
        _ => None,
    }
}

/// Stands in for characters UCS-2 cannot carry (outside the BMP); 〓 is the
/// conventional Chinese typesetting mark for a missing character.
const MISSING: char = '\u{3013}';

/// Characters that Chinese typesetting never puts at the start of a line;
/// such a character is allowed to overhang the right margin instead.
const NO_LINE_START: &str = "，。、；：？！）》」』】〕〉”’…—·,.;:?!)]}%";

/// Build an A4 PDF with `title` centred on the first page and `lines` as
/// left-aligned body paragraphs below it (an empty line leaves a gap).
/// Long lines wrap and the document grows extra pages as needed; every page
/// carries a page number.
pub fn sample_pdf(title: &str, lines: &[&str]) -> Vec<u8> {
    let pages = lay_out(title, lines);
    write_pdf(title, &pages)
}

/// One line of text placed on a page, at baseline `y`.
struct Placed {
    x: f32,
    y: f32,
    size: f32,
    text: String,
    bold: bool,
}

fn lay_out(title: &str, lines: &[&str]) -> Vec<Vec<Placed>> {
    let text_width = PAGE_WIDTH - 2.0 * MARGIN;
    let mut pages: Vec<Vec<Placed>> = vec![Vec::new()];
    let mut y = PAGE_HEIGHT - MARGIN - TITLE_SIZE;

    for title_line in title.lines().flat_map(|l| wrap(l, TITLE_SIZE, text_width)) {
        let x = (PAGE_WIDTH - text_width_pt(&title_line, TITLE_SIZE)) / 2.0;
        pages[0].push(Placed {
            x: x.max(MARGIN),
            y,
            size: TITLE_SIZE,
            text: title_line,
            bold: true,
        });
        y -= TITLE_SIZE * 1.5;
    }
    y -= BODY_LEADING;

    let bottom = MARGIN + FOOTER_SIZE * 2.0;
    for line in lines.iter().flat_map(|l| l.split('\n')) {
        let wrapped = wrap(line, BODY_SIZE, text_width);
        // An empty paragraph still takes a line, as a blank line would.
        let wrapped = if wrapped.is_empty() {
            vec![String::new()]
        } else {
            wrapped
        };
        for text in wrapped {
            if y < bottom {
                pages.push(Vec::new());
                y = PAGE_HEIGHT - MARGIN - BODY_SIZE;
            }
            if !text.is_empty() {
                let page = pages.len() - 1;
                pages[page].push(Placed {
                    x: MARGIN,
                    y,
                    size: BODY_SIZE,
                    text,
                    bold: false,
                });
            }
            y -= BODY_LEADING;
        }
    }
    pages
}

/// Replace what the fonts cannot show: control characters become spaces
/// (a tab is still a gap) and non-BMP characters become [`MISSING`].
fn clean(line: &str) -> String {
    line.chars()
        .filter(|&c| c != '\r')
        .map(|c| match c {
            c if c.is_control() => ' ',
            c if u32::from(c) > 0xFFFF => MISSING,
            c => c,
        })
        .collect()
}

fn char_width_pt(c: char, size: f32) -> f32 {
    // What the CJK font shows is full width: the font has /DW 1000.
    let units = helvetica_width(c).unwrap_or(1000);
    f32::from(units) * size / 1000.0
}

fn text_width_pt(text: &str, size: f32) -> f32 {
    text.chars().map(|c| char_width_pt(c, size)).sum()
}

/// Greedy wrap to `max_width`. CJK may break between any two characters;
/// an ASCII word is moved whole to the next line when it fits there.
fn wrap(line: &str, size: f32, max_width: f32) -> Vec<String> {
    let chars: Vec<char> = clean(line).trim_end().chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let mut width = 0.0;
        let mut end = start;
        while end < chars.len() && width + char_width_pt(chars[end], size) <= max_width {
            width += char_width_pt(chars[end], size);
            end += 1;
        }
        if end == start {
            end += 1; // a single character wider than the line still goes somewhere
        }
        if end < chars.len() {
            let is_word = |c: char| c.is_ascii_alphanumeric();
            if is_word(chars[end]) && is_word(chars[end - 1]) {
                let word_start = (start..end)
                    .rev()
                    .find(|&i| !is_word(chars[i]))
                    .map(|i| i + 1);
                if let Some(ws) = word_start.filter(|&ws| ws > start) {
                    end = ws;
                }
            }
            while end < chars.len() && NO_LINE_START.contains(chars[end]) {
                end += 1;
            }
        }
        out.push(
            chars[start..end]
                .iter()
                .collect::<String>()
                .trim_end()
                .to_owned(),
        );
        start = end;
        while start < chars.len() && chars[start] == ' ' {
            start += 1;
        }
    }
    out
}

/// Content-stream operators that show `text` starting at the current point,
/// switching between Helvetica (`/F1`) for Latin and STSong-Light (`/F2`)
/// for everything else. Hex strings avoid any escaping questions.
fn show_runs(text: &str, size: f32, out: &mut String) {
    let mut current: Option<bool> = None; // Some(true) while in a Latin run
    for c in text.chars() {
        let latin = helvetica_width(c).is_some();
        if current != Some(latin) {
            if current.is_some() {
                out.push_str("> Tj\n");
            }
            let font = if latin { "F1" } else { "F2" };
            out.push_str(&format!("/{font} {size} Tf <"));
            current = Some(latin);
        }
        if latin {
            // WinAnsiEncoding agrees with Unicode on every code used here.
            out.push_str(&format!("{:02X}", c as u32));
        } else {
            let mut units = [0u16; 2];
            // `clean` already replaced non-BMP characters, so this is one unit.
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("{unit:04X}"));
            }
        }
    }
    if current.is_some() {
        out.push_str("> Tj\n");
    }
}

fn page_content(placed: &[Placed], page_number: usize) -> Vec<u8> {
    let mut out = String::new();
    for p in placed {
        // q/Q because the rendering mode set for bold outlives ET.
        out.push_str("q BT\n");
        if p.bold {
            // Neither base font has a bold face every viewer can supply, so
            // the title is thickened by also stroking its outlines.
            out.push_str("2 Tr 0.5 w\n");
        }
        out.push_str(&format!("1 0 0 1 {:.2} {:.2} Tm\n", p.x, p.y));
        show_runs(&p.text, p.size, &mut out);
        out.push_str("ET Q\n");
    }
    let footer = format!("- {page_number} -");
    let x = (PAGE_WIDTH - text_width_pt(&footer, FOOTER_SIZE)) / 2.0;
    out.push_str(&format!(
        "BT\n1 0 0 1 {x:.2} {:.2} Tm\n",
        MARGIN - FOOTER_SIZE
    ));
    show_runs(&footer, FOOTER_SIZE, &mut out);
    out.push_str("ET\n");
    out.into_bytes()
}

/// A PDF text string: UTF-16BE with a byte-order mark, which is what lets
/// Chinese appear in a viewer's title bar.
fn text_string(s: &str) -> Object {
    let mut bytes = vec![0xFE, 0xFF];
    bytes.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
    Object::String(bytes, StringFormat::Hexadecimal)
}

fn write_pdf(title: &str, pages: &[Vec<Placed>]) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();

    let latin = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let descriptor = doc.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => "STSong-Light",
        // Symbolic (its glyphs are outside the Latin set) and serif (a Song face).
        "Flags" => 6,
        "FontBBox" => vec![(-25).into(), (-254).into(), 1000.into(), 880.into()],
        "ItalicAngle" => 0,
        "Ascent" => 880,
        "Descent" => -120,
        "CapHeight" => 626,
        "StemV" => 93,
    });
    let cid_font = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType0",
        "BaseFont" => "STSong-Light",
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("GB1"),
            "Supplement" => 2,
        },
        "FontDescriptor" => descriptor,
        "DW" => 1000,
    });
    let cjk = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "STSong-Light",
        "Encoding" => "UniGB-UCS2-H",
        "DescendantFonts" => vec![cid_font.into()],
    });
    let resources = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => latin, "F2" => cjk },
    });

    let mut kids = Vec::with_capacity(pages.len());
    for (index, placed) in pages.iter().enumerate() {
        let content = doc.add_object(Stream::new(
            Dictionary::new(),
            page_content(placed, index + 1),
        ));
        let page = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content,
            "Resources" => resources,
        });
        kids.push(page.into());
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "MediaBox" => vec![0.into(), 0.into(), PAGE_WIDTH.into(), PAGE_HEIGHT.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
        "Lang" => Object::string_literal("zh-CN"),
        // Show the (Chinese) title rather than the file name in the tab.
        "ViewerPreferences" => dictionary! { "DisplayDocTitle" => true },
    });
    let info = doc.add_object(dictionary! {
        "Title" => text_string(title),
        "Producer" => Object::string_literal("Songda"),
    });
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info);
    doc.compress();

    let mut out = Vec::new();
    doc.save_to(&mut out)
        .expect("writing a PDF into memory does not fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: &str = "民事传票";
    const CASE_NUMBER: &str = "(2026)京0105民初12345号";

    #[test]
    fn sample_is_a_small_pdf_with_the_expected_fonts() {
        let pdf = sample_pdf(
            TITLE,
            &[
                CASE_NUMBER,
                "",
                "被传唤人：张三",
                "应到时间：2026年3月1日 09:00",
            ],
        );
        assert!(pdf.starts_with(b"%PDF-1.7"));
        assert!(pdf.len() < 8 * 1024, "sample PDF is {} bytes", pdf.len());

        let doc = Document::load_mem(&pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
        let fonts: Vec<String> = doc
            .objects
            .values()
            .filter_map(|o| o.as_dict().ok())
            .filter_map(|d| d.get(b"BaseFont").ok()?.as_name().ok())
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        assert!(fonts.iter().any(|f| f == "STSong-Light"), "{fonts:?}");
        assert!(fonts.iter().any(|f| f == "Helvetica"), "{fonts:?}");
    }

    #[test]
    fn content_encodes_chinese_as_ucs2_and_ascii_as_bytes() {
        let mut out = String::new();
        show_runs("(2026)京", 14.0, &mut out);
        assert_eq!(out, "/F1 14 Tf <283230323629> Tj\n/F2 14 Tf <4EAC> Tj\n");
    }

    #[test]
    fn accented_latin_goes_to_helvetica_but_chinese_symbols_do_not() {
        let mut out = String::new();
        show_runs("Müller×2", 10.0, &mut out);
        assert_eq!(
            out,
            "/F1 10 Tf <4DFC6C6C6572> Tj\n/F2 10 Tf <00D7> Tj\n/F1 10 Tf <32> Tj\n"
        );
    }

    #[test]
    fn only_the_title_is_stroked() {
        let content = String::from_utf8(page_content(&lay_out("标题", &["正文"])[0], 1)).unwrap();
        let title = content.find("2 Tr").expect("title is bold");
        assert!(
            content[title..].find("Q").unwrap() < content.find("<6B63").unwrap(),
            "{content}"
        );
    }

    #[test]
    fn output_is_deterministic() {
        assert_eq!(sample_pdf(TITLE, &["一"]), sample_pdf(TITLE, &["一"]));
    }

    #[test]
    fn long_lines_wrap_within_the_margins() {
        let long = "本院受理原告诉被告合同纠纷一案，".repeat(10);
        let wrapped = wrap(&long, BODY_SIZE, PAGE_WIDTH - 2.0 * MARGIN);
        assert!(wrapped.len() > 1);
        for line in &wrapped {
            // Trailing no-line-start punctuation may overhang by one character.
            assert!(
                text_width_pt(line, BODY_SIZE) <= PAGE_WIDTH - 2.0 * MARGIN + BODY_SIZE,
                "{line}"
            );
            assert!(!line.starts_with('，'), "{line}");
        }
        assert_eq!(wrapped.concat(), long);

        let words = "lorem ipsum dolor ".repeat(10);
        for line in wrap(&words, BODY_SIZE, 100.0) {
            assert!(!line.starts_with(' ') && !line.ends_with(' '));
            assert!(
                line.split(' ')
                    .all(|w| ["lorem", "ipsum", "dolor"].contains(&w)),
                "{line}"
            );
        }
    }

    #[test]
    fn many_lines_make_more_pages() {
        let body: Vec<String> = (1..=60).map(|i| format!("第{i}行")).collect();
        let body: Vec<&str> = body.iter().map(String::as_str).collect();
        let doc = Document::load_mem(&sample_pdf(TITLE, &body)).unwrap();
        assert_eq!(doc.get_pages().len(), 3);
    }

    #[test]
    fn unrepresentable_characters_are_replaced() {
        assert_eq!(clean("a\tb\u{20000}"), "a b\u{3013}");
    }
}
