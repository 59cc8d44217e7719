//! Tests of the certificate PDF: what a reader (pdftotext, pdffonts, a QR decoder)
//! finds in rendered certificates, sample and long and broken, and the layout rules
//! behind them: nothing outside the page or over other text, Chinese line breaking,
//! and which font is chosen.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;

use qrcode::{EcLevel, QrCode};
use serde_json::{Value, json};

use super::content::{FORM_LABEL_W, layout_certificate};
use super::font::{Candidate, FontFiles, face_with_family, split_face_spec};
use super::labels::{beijing, beijing_full, event_zh, list_at, text_at};
use super::layout::{Flow, Op};
use super::proof::chunked;
use super::qr::{QR_QUIET, QR_SIDE, qr_matrix};
use super::text::{Line, Shaper};
use super::{
    BODY, BOTTOM, CONTENT_W, CertificateFont, FIRST_TOP, HASH, LEFT, PAD_X, PdfError, RIGHT,
    certificate_pdf,
};

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
