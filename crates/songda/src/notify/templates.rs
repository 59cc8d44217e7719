//! The wording of every notification, as text files an operator can edit.
//!
//! The built-in files are in `crates/songda/messages/`; `SONGDA_MESSAGES_DIR` names a folder
//! whose files replace the built-in ones of the same name (`songda messages export DIR`
//! writes them out to start from). Each is UTF-8 text with `{variable}` placeholders (`{{`
//! and `}}` for literal braces); an email's first line is `Subject: ...`, then a blank
//! line, then the body. Files are checked when the server starts: an unknown file name, an
//! unknown variable, a missing required one (a code message without `{code}`) or a
//! malformed brace stops it with the file, line and what is allowed.

use anyhow::{Context, bail};
use std::collections::HashMap;
use std::path::Path;

/// One notification's text: which variables it may use and which it must.
struct Spec {
    name: &'static str,
    builtin: &'static str,
    vars: &'static [&'static str],
    required: &'static [&'static str],
}

const SERVICE_VARS: &[&str] = &["court", "case_number", "party_name", "titles", "url"];
const REMINDER_VARS: &[&str] = &[
    "court",
    "case_number",
    "party_name",
    "titles",
    "url",
    "served_on",
];
const BINDING_VARS: &[&str] = &["court", "case_number", "party_name", "code", "url"];
const ALERT_VARS: &[&str] = &[
    "court",
    "case_number",
    "party_name",
    "titles",
    "what",
    "detail",
    "url",
];

const SPECS: &[Spec] = &[
    Spec {
        name: "phone_code.sms",
        builtin: include_str!("../../messages/phone_code.sms.txt"),
        vars: &["code"],
        required: &["code"],
    },
    Spec {
        name: "binding_code.sms",
        builtin: include_str!("../../messages/binding_code.sms.txt"),
        vars: BINDING_VARS,
        required: &["code", "case_number"],
    },
    Spec {
        name: "binding_code.email",
        builtin: include_str!("../../messages/binding_code.email.txt"),
        vars: BINDING_VARS,
        required: &["code", "case_number"],
    },
    Spec {
        name: "new_service.sms",
        builtin: include_str!("../../messages/new_service.sms.txt"),
        vars: SERVICE_VARS,
        required: &["case_number", "url"],
    },
    Spec {
        name: "new_service.email",
        builtin: include_str!("../../messages/new_service.email.txt"),
        vars: SERVICE_VARS,
        required: &["case_number", "url"],
    },
    Spec {
        name: "new_service_documents.email",
        builtin: include_str!("../../messages/new_service_documents.email.txt"),
        vars: SERVICE_VARS,
        required: &["case_number", "titles"],
    },
    Spec {
        name: "reminder.sms",
        builtin: include_str!("../../messages/reminder.sms.txt"),
        vars: REMINDER_VARS,
        required: &["case_number", "url"],
    },
    Spec {
        name: "reminder.email",
        builtin: include_str!("../../messages/reminder.email.txt"),
        vars: REMINDER_VARS,
        required: &["case_number", "url"],
    },
    Spec {
        name: "clerk_alert.email",
        builtin: include_str!("../../messages/clerk_alert.email.txt"),
        vars: ALERT_VARS,
        required: &["case_number", "what"],
    },
];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Var(&'static str),
}

#[derive(Clone, Debug)]
struct Template {
    subject: Option<Vec<Piece>>,
    body: Vec<Piece>,
}

/// A rendered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: Option<String>,
    pub body: String,
}

/// Every notification's template, checked.
#[derive(Clone, Debug)]
pub struct Templates {
    by_name: HashMap<&'static str, Template>,
}

impl Templates {
    /// The built-in wording.
    pub fn builtin() -> Self {
        Self::load(None).expect("the built-in templates are valid (a unit test checks)")
    }

    /// The built-in wording, with the files in `dir` (if any) in place of the built-in
    /// files of the same name.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let mut overrides: HashMap<String, String> = HashMap::new();
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir)
                .with_context(|| format!("SONGDA_MESSAGES_DIR {}", dir.display()))?;
            for entry in entries {
                let path = entry?.path();
                let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
                    continue;
                };
                if file.starts_with('.') || path.is_dir() {
                    continue;
                }
                let name = file.strip_suffix(".txt").unwrap_or(file);
                if !SPECS.iter().any(|s| s.name == name) {
                    bail!(
                        "{}: not a message of the platform; the files are {}",
                        path.display(),
                        SPECS
                            .iter()
                            .map(|s| format!("{}.txt", s.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("{} (UTF-8 text)", path.display()))?;
                overrides.insert(name.to_string(), text);
            }
        }
        let mut by_name = HashMap::new();
        for spec in SPECS {
            let (text, origin) = match overrides.get(spec.name) {
                Some(text) => (
                    text.as_str(),
                    format!(
                        "{}/{}.txt",
                        dir.expect("overrides come from a dir").display(),
                        spec.name
                    ),
                ),
                None => (spec.builtin, format!("built-in {}.txt", spec.name)),
            };
            let template = parse(spec, text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
            by_name.insert(spec.name, template);
        }
        Ok(Self { by_name })
    }

    /// The built-in files, for `songda messages export`.
    pub fn builtin_files() -> impl Iterator<Item = (String, &'static str)> {
        SPECS.iter().map(|s| (format!("{}.txt", s.name), s.builtin))
    }

    /// Every message rendered with sample values, for `songda messages check`.
    pub fn samples(&self) -> Vec<(&'static str, Rendered)> {
        let vars = [
            ("court", "北京市朝阳区人民法院"),
            ("case_number", "（2026）京0105民初12345号"),
            ("party_name", "李四"),
            ("titles", "民事判决书、证据材料"),
            ("url", "https://songda.example/services/0193..."),
            ("code", "123456"),
            ("served_on", "2026年12月5日"),
            ("what", "送达提醒发送失败"),
            ("detail", "短信 13800138000：UNDELIV"),
        ];
        SPECS
            .iter()
            .map(|s| (s.name, self.render(s.name, &vars)))
            .collect()
    }

    /// Renders `name` with `vars`. Every variable the template uses was checked at load
    /// to be one of its spec's; one not given renders empty.
    pub fn render(&self, name: &str, vars: &[(&str, &str)]) -> Rendered {
        let t = self
            .by_name
            .get(name)
            .unwrap_or_else(|| panic!("no message template {name}"));
        let fill = |pieces: &[Piece]| {
            let mut out = String::new();
            for p in pieces {
                match p {
                    Piece::Text(t) => out.push_str(t),
                    Piece::Var(v) => {
                        let value = vars.iter().find(|(k, _)| k == v).map(|(_, x)| *x);
                        debug_assert!(value.is_some(), "{name}: {{{v}}} not given");
                        out.push_str(value.unwrap_or_default());
                    }
                }
            }
            out
        };
        Rendered {
            subject: t.subject.as_deref().map(fill),
            body: fill(&t.body),
        }
    }
}

fn parse(spec: &Spec, text: &str) -> Result<Template, String> {
    let text = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n");
    let is_email = spec.name.ends_with(".email");
    let (subject, body, body_line) = if is_email {
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let subject = first
            .strip_prefix("Subject:")
            .ok_or("an email's first line is \"Subject: ...\"")?
            .trim();
        if subject.is_empty() {
            return Err("the subject is empty".into());
        }
        let body = rest
            .strip_prefix('\n')
            .ok_or("a blank line follows the subject line")?;
        (Some(subject.to_string()), body.to_string(), 3)
    } else {
        // An SMS is one text: the file's final line break is not part of it.
        (None, text.trim_end_matches('\n').to_string(), 1)
    };
    if body.trim().is_empty() {
        return Err("the message is empty".into());
    }
    let mut used = Vec::new();
    let subject = subject
        .map(|s| pieces(spec, &s, 1, &mut used))
        .transpose()?;
    let body = pieces(spec, &body, body_line, &mut used)?;
    for required in spec.required {
        if !used.contains(required) {
            return Err(format!(
                "{{{required}}} is missing; this message must show it"
            ));
        }
    }
    Ok(Template { subject, body })
}

/// Splits text into literal runs and variables, checking each variable name.
fn pieces(
    spec: &Spec,
    text: &str,
    first_line: usize,
    used: &mut Vec<&'static str>,
) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    let line_of = |rest: &str| first_line + text[..text.len() - rest.len()].matches('\n').count();
    while let Some(i) = rest.find(['{', '}']) {
        literal.push_str(&rest[..i]);
        let after = &rest[i..];
        if after.starts_with("{{") || after.starts_with("}}") {
            literal.push_str(&after[..1]);
            rest = &after[2..];
            continue;
        }
        if after.starts_with('}') {
            return Err(format!(
                "line {}: a lone }} (write }}}} for a literal brace)",
                line_of(after)
            ));
        }
        let close = after
            .find('}')
            .filter(|&c| !after[1..c].contains(['{', '\n']))
            .ok_or_else(|| {
                format!(
                    "line {}: a {{ without its }} (write {{{{ for a literal brace)",
                    line_of(after)
                )
            })?;
        let name = after[1..close].trim();
        let var = spec.vars.iter().find(|v| **v == name).ok_or_else(|| {
            format!(
                "line {}: {{{name}}} is not a variable of this message; it has {}",
                line_of(after),
                spec.vars
                    .iter()
                    .map(|v| format!("{{{v}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        if !literal.is_empty() {
            out.push(Piece::Text(std::mem::take(&mut literal)));
        }
        out.push(Piece::Var(var));
        used.push(var);
        rest = &after[close + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        out.push(Piece::Text(literal));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_templates_load_and_render() {
        let t = Templates::builtin();
        let r = t.render(
            "new_service.email",
            &[
                ("court", "某法院"),
                ("case_number", "(2026)京01民初1号"),
                ("party_name", "李四"),
                ("titles", "民事判决书"),
                ("url", "https://x/services/1"),
            ],
        );
        assert_eq!(
            r.subject.as_deref(),
            Some("【某法院】(2026)京01民初1号案件诉讼文书待签收")
        );
        assert!(r.body.starts_with("李四：\n\n某法院"), "{}", r.body);
        assert!(r.body.contains("https://x/services/1"));
        let sms = t.render("phone_code.sms", &[("code", "{{code}}")]);
        assert!(sms.subject.is_none());
        assert!(sms.body.contains("{{code}}") && !sms.body.ends_with('\n'));
    }

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn an_edited_file_replaces_the_built_in_one_and_braces_can_be_literal() {
        let dir = dir_with(&[(
            "new_service.sms.txt",
            "{court}：{{案件}} {case_number} 请看 {url}\n",
        )]);
        let t = Templates::load(Some(dir.path())).unwrap();
        let r = t.render(
            "new_service.sms",
            &[
                ("court", "某法院"),
                ("case_number", "1号"),
                ("url", "u"),
                ("party_name", ""),
                ("titles", ""),
            ],
        );
        assert_eq!(r.body, "某法院：{案件} 1号 请看 u");
    }

    #[test]
    fn mistakes_in_a_file_are_refused_with_the_file_line_and_what_is_allowed() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "new_service.sms.txt",
                "{court} {case_no} {url}",
                "{case_no} is not a variable of this message; it has {court}, {case_number}",
            ),
            (
                "new_service.sms.txt",
                "{court} {url}",
                "{case_number} is missing",
            ),
            (
                "phone_code.sms.txt",
                "您的验证码已发送",
                "{code} is missing",
            ),
            (
                "new_service.sms.txt",
                "{case_number} {url",
                "line 1: a { without its }",
            ),
            (
                "new_service.sms.txt",
                "{case_number}\n{url} }",
                "line 2: a lone }",
            ),
            (
                "new_service.email.txt",
                "{case_number} {url}",
                "first line is \"Subject: ...\"",
            ),
            (
                "new_service.email.txt",
                "Subject: x\n{case_number} {url}",
                "a blank line follows",
            ),
            (
                "new_service.email.txt",
                "Subject: x\n\n{case_number}\n{bad} {url}",
                "line 4: {bad}",
            ),
            ("reminder.sms.txt", "\n", "empty"),
            ("new_servise.sms.txt", "x", "not a message of the platform"),
        ];
        for (file, text, expected) in cases {
            let dir = dir_with(&[(file, text)]);
            let err = Templates::load(Some(dir.path())).unwrap_err().to_string();
            assert!(err.contains(expected), "{file} {text:?}: {err}");
            assert!(err.contains(file), "names the file: {err}");
        }
    }
}
