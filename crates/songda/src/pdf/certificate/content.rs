//! The certificate's sections as the clerk reads them: the title and the classic
//! 送达回证 form on the first page, then the evidence it rests on, namely the served
//! documents with their hashes, the timeline of events and the notifications sent. The
//! signed log head and the verification box that close the paper are in `proof`.

use serde_json::Value;

use super::labels::{
    actor_kind_zh, beijing, channel_zh, consent_basis_zh, dash, doc_type_zh, event_zh, label,
    list_at, notification_status_zh, provenance_zh, purpose_zh, refusal_zh, role_zh,
    service_rule_zh, status_zh, text_at, thousands, time_at, with_kind,
};
use super::layout::{Cell, Flow, cell, centered_cell, label_cell, text_cell};
use super::proof::{evidence_log, verification};
use super::{
    Align, BLACK, BODY, CONTENT_W, FaceKind, HASH, LABEL, NOTE, SMALL, SMALL_BOLD, Style, style,
};

pub(super) fn layout_certificate(flow: &mut Flow, cert: &Value) {
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

pub(super) const FORM_LABEL_W: f32 = 118.0;

/// A table in the shape of the paper form: shaded labels on the left, the values they
/// name on the right.
pub(super) fn form_table(
    flow: &mut Flow,
    label_style: Style,
    rows: Vec<(&str, Vec<(String, Style)>)>,
) {
    let rows = rows
        .into_iter()
        .map(|(l, paras)| vec![label_cell(l, label_style), cell(paras)])
        .collect();
    flow.table(&[FORM_LABEL_W, CONTENT_W - FORM_LABEL_W], None, rows);
}

fn form(flow: &mut Flow, cert: &Value) {
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

    let recipient = with_kind(
        text_at(cert, "/recipient/name").unwrap_or_else(dash),
        text_at(cert, "/recipient/role"),
        role_zh,
    );

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
        let basis = label(Some(&basis), consent_basis_zh);
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
    let rule = text_at(cert, "/service_rule_text/zh")
        .or_else(|| text_at(cert, "/service_rule").map(|r| label(Some(&r), service_rule_zh)));
    served.push(body(format!("依据：{}", rule.unwrap_or_else(dash))));
    // Each channel's arrival, when more than the platform's: which one fixed the time.
    let completions = list_at(cert, "/completions");
    if completions.len() > 1 {
        for c in completions {
            let channel = match text_at(c, "/channel").as_deref() {
                Some("email") => "电子邮件（附文书）由收件服务器接收",
                _ => "文书到达受送达人平台账户",
            };
            let at = time_at(c, "/completed_at").unwrap_or_else(dash);
            let how = if c.pointer("/fixed").and_then(|f| f.as_bool()) == Some(true) {
                "（最先完成，确定送达时间）"
            } else if c.pointer("/counts").and_then(|f| f.as_bool()) == Some(true) {
                "（亦有效，完成在后）"
            } else {
                "（法院获取的地址，到达不视为送达）"
            };
            served.push(note(format!("{channel}：{at}{how}")));
        }
    } else if let Some(at) = time_at(cert, "/deposited_at") {
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
        (
            "案由",
            vec![body(text_at(cert, "/case/title").unwrap_or_else(dash))],
        ),
        (
            "案号",
            vec![body(
                text_at(cert, "/case/case_number").unwrap_or_else(dash),
            )],
        ),
        ("送达文书名称和件数", vec![body(documents)]),
        ("受送达人", vec![body(recipient)]),
        ("送达地点", place),
        ("受送达人签名或盖章", signature),
        ("送达时间及依据", served),
        ("代收人及代收理由", vec![body("无（电子送达）".to_owned())]),
        (
            "送达人",
            vec![body(format!("{court}（经 Songda 电子送达平台送达）"))],
        ),
        ("备注", remarks),
        (
            "填发时间",
            vec![body(time_at(cert, "/issued_at").unwrap_or_else(dash))],
        ),
    ];
    form_table(flow, LABEL, rows);
}

fn header_row(labels: &[&str]) -> Vec<Cell> {
    labels.iter().map(|l| label_cell(l, SMALL_BOLD)).collect()
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
            vec![
                centered_cell((i + 1).to_string(), SMALL),
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
            let mut title = label(kind.as_deref(), event_zh);
            // A reminder, a carrier's report, a retry, another channel instead.
            title.push_str(&crate::notify::attempt_note(e.get("gateway"), false));
            let mut what = vec![(title, style(FaceKind::Bold, 8.5, BLACK))];
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
                what.push((format!("理由：{}", label(Some(&code), refusal_zh)), NOTE));
            }
            if let Some(n) = text_at(e, "/note") {
                what.push((format!("说明：{n}"), NOTE));
            }
            let actor = with_kind(
                text_at(e, "/actor/name").unwrap_or_else(dash),
                text_at(e, "/actor/kind"),
                actor_kind_zh,
            );
            let mut via = vec![(label(text_at(e, "/channel").as_deref(), channel_zh), SMALL)];
            if let Some(ip) = text_at(e, "/client/ip") {
                via.push((format!("IP {ip}"), SMALL));
            }
            vec![
                centered_cell((i + 1).to_string(), SMALL),
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
                centered_cell(text_at(n, "/attempts").unwrap_or_else(dash), SMALL),
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
