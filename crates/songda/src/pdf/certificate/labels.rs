//! Reading the certificate JSON for print: display text at a JSON pointer (anything
//! missing or of the wrong type is absent, and shows as "—"), times in Beijing time as
//! a Chinese court writes them, and the Chinese labels of the record's codes. A code
//! we do not know is shown as it is rather than hidden.

use serde_json::Value;
use songda_core::consent::ConsentBasis;
use songda_core::document::DocType;
use songda_core::evidence::EventType;
use songda_core::party::PartyRole;
use songda_core::service::{RefusalReason, ServiceRule};
use songda_core::timefmt::{COURT_OFFSET, parse_rfc3339};

pub(super) fn dash() -> String {
    "—".to_owned()
}

/// The value at a JSON pointer as display text: strings trimmed (empty is absent),
/// numbers and booleans written out, anything else absent.
pub(super) fn text_at(v: &Value, pointer: &str) -> Option<String> {
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

pub(super) fn list_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `2026年11月29日 16:00:00`, in Beijing time. Text that is not an RFC 3339 time is
/// shown as it is, so an odd record is still visible rather than blank.
pub(super) fn beijing(utc: &str) -> String {
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
pub(super) fn beijing_full(utc: &str) -> String {
    if parse_rfc3339(utc).is_some() {
        format!("{}（北京时间）", beijing(utc))
    } else {
        utc.to_owned()
    }
}

pub(super) fn time_at(v: &Value, pointer: &str) -> Option<String> {
    text_at(v, pointer).map(|t| beijing_full(&t))
}

pub(super) fn label(raw: Option<&str>, known: impl Fn(&str) -> Option<&'static str>) -> String {
    match raw {
        Some(r) => known(r).unwrap_or(r).to_owned(),
        None => dash(),
    }
}

/// `name（kind）`, the kind in Chinese where known; just `name` when there is no kind.
pub(super) fn with_kind(
    name: String,
    kind: Option<String>,
    known: impl Fn(&str) -> Option<&'static str>,
) -> String {
    match kind {
        Some(k) => format!("{name}（{}）", known(&k).unwrap_or(&k)),
        None => name,
    }
}

pub(super) fn role_zh(raw: &str) -> Option<&'static str> {
    PartyRole::parse(raw).map(PartyRole::label_zh)
}

pub(super) fn doc_type_zh(raw: &str) -> Option<&'static str> {
    DocType::parse(raw).map(DocType::label_zh)
}

pub(super) fn provenance_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "confirmed" => Some("受送达人确认的地址"),
        "court_obtained" => Some("法院获取的地址"),
        _ => None,
    }
}

pub(super) fn channel_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "platform" => Some("电子送达平台"),
        "sms" => Some("短信"),
        "email" => Some("电子邮件"),
        _ => None,
    }
}

pub(super) fn actor_kind_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "clerk" => Some("书记员"),
        "party" => Some("当事人"),
        "admin" => Some("管理员"),
        "system" => Some("系统"),
        _ => None,
    }
}

pub(super) fn status_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "signed" => Some("已签收"),
        "refused" => Some("已拒收"),
        "pending" => Some("待签收"),
        _ => None,
    }
}

pub(super) fn purpose_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "new_service" => Some("送达提醒"),
        "phone_code" => Some("手机验证码"),
        "binding_code" => Some("案件绑定码"),
        _ => None,
    }
}

pub(super) fn notification_status_zh(raw: &str) -> Option<&'static str> {
    match raw {
        "sent" => Some("已发送"),
        "failed" => Some("发送失败"),
        "sending" => Some("发送中"),
        "queued" | "pending" => Some("排队中"),
        _ => None,
    }
}

pub(super) fn consent_basis_zh(raw: &str) -> Option<&'static str> {
    ConsentBasis::parse(raw).map(ConsentBasis::label_zh)
}

pub(super) fn service_rule_zh(raw: &str) -> Option<&'static str> {
    ServiceRule::parse(raw).map(ServiceRule::label_zh)
}

pub(super) fn refusal_zh(raw: &str) -> Option<&'static str> {
    RefusalReason::parse(raw).map(RefusalReason::label_zh)
}

pub(super) fn event_zh(raw: &str) -> Option<&'static str> {
    EventType::parse(raw).map(EventType::label_zh)
}

/// `12,345`.
pub(super) fn thousands(n: u64) -> String {
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
