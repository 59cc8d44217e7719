//! The part of the certificate that lets the paper be checked: the signed head of the
//! evidence log the record is proven against, and the box with the verification code,
//! the verification address and its QR code.

use serde_json::Value;

use super::content::form_table;
use super::labels::{beijing_full, dash, list_at, text_at};
use super::layout::{Flow, Op, rect_outline};
use super::qr::{module_rects, printed_side, qr_matrix};
use super::text::Line;
use super::{
    Align, BLACK, BOTTOM, CONTENT_W, FaceKind, HASH, HEADING, LEFT, NOTE, RIGHT, SMALL, SMALL_BOLD,
    Style, style,
};

/// `text` in lines of `n` characters: signatures are too long for one line and read
/// best in fixed blocks.
pub(super) fn chunked(text: &str, n: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(n)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn evidence_log(flow: &mut Flow, cert: &Value) {
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
    let mut rows: Vec<(&str, Vec<(String, Style)>)> = vec![
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
    if let Some(at) = p("/timestamp/gen_time") {
        let by = p("/timestamp/authority").unwrap_or_else(dash);
        rows.push((
            "可信时间戳",
            vec![(
                format!("{}，由 {by} 签发（RFC 3161）", beijing_full(&at)),
                SMALL,
            )],
        ));
    }
    form_table(flow, SMALL_BOLD, rows);
    flow.gap(3.0);
    flow.paragraph(
        "每条事件的叶哈希与包含证明载于 JSON 版本凭证，可据此验证上述事件均已记入签名的日志。",
        NOTE,
        Align::Left,
    );
}

pub(super) fn verification(flow: &mut Flow, cert: &Value) {
    let url = text_at(cert, "/verify_url");
    let code = text_at(cert, "/verification_code").unwrap_or_else(dash);
    let qr = url.as_deref().and_then(qr_matrix);
    // Without a code the box gives its text the full width instead of an empty square.
    let qr_side = qr.as_ref().map_or(0.0, |&(n, _)| printed_side(n));
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
        let x0 = RIGHT - pad - qr_side;
        let y0 = top + (box_h - qr_side) / 2.0;
        flow.push(Op::Rects {
            rects: module_rects(n, &dark, x0, y0, qr_side),
            color: BLACK,
        });
    }
    flow.y = (top + box_h).min(BOTTOM);
}
