//! Records taken away: a ZIP of selected services' original documents and their
//! certificates (JSON and printable PDF) with a manifest and a `SHA256SUMS` file, and CSV
//! lists of services.
//!
//! Each certificate in a bundle verifies offline with `songda verify`, against the
//! documents beside it. Handing the documents over in a bundle is recorded as a download
//! by the recipient, as the single download is.

use super::Who;
use super::{certificate, deadlines, recipient};
use crate::error::{AppError, AppResult, Kind};
use crate::state::AppState;
use crate::store::{Listed, ServiceDetail};
use serde_json::json;
use sha2::{Digest, Sha256};
use songda_core::ids::ServiceId;
use songda_core::timefmt::{COURT_OFFSET, court_seconds, rfc3339};
use std::io::Write;

/// The most services one bundle holds.
pub const MAX_SERVICES: usize = 100;
/// The most document bytes one bundle holds.
pub const MAX_BYTES: i64 = 256 * 1024 * 1024;

/// A name safe in any file system, kept readable.
fn file_name(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    cleaned.trim().chars().take(60).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The ZIP of the given services (each visible to `who`, else 404): per service a folder
/// with its documents, `certificate.json` and `certificate.pdf`; at the top `manifest.json`
/// and `SHA256SUMS` (as `sha256sum -c` reads it).
pub async fn bundle(state: &AppState, who: &Who, ids: &[ServiceId]) -> AppResult<Vec<u8>> {
    let mut unique: Vec<ServiceId> = Vec::new();
    for id in ids {
        if !unique.contains(id) {
            unique.push(*id);
        }
    }
    if unique.is_empty() {
        return Err(AppError::field("service", "select at least one document"));
    }
    if unique.len() > MAX_SERVICES {
        return Err(AppError::field(
            "service",
            format!("a bundle holds at most {MAX_SERVICES} services; select fewer"),
        ));
    }
    let mut details: Vec<ServiceDetail> = Vec::with_capacity(unique.len());
    for id in &unique {
        details.push(recipient::visible_service(state, who, *id).await?);
    }
    let total: i64 = details
        .iter()
        .flat_map(|d| d.documents.iter().map(|x| x.size))
        .sum();
    if total > MAX_BYTES {
        return Err(AppError::new(
            Kind::TooLarge,
            "bundle_too_large",
            format!(
                "the selected documents come to {} MB, over the {} MB a bundle holds; select fewer",
                total / (1024 * 1024),
                MAX_BYTES / (1024 * 1024)
            ),
        ));
    }
    let (cal, _) = deadlines::calendar(state).await?;
    let now = state.now();
    let root = format!(
        "songda-records-{}",
        now.to_offset(COURT_OFFSET)
            .format(time::macros::format_description!(
                "[year][month][day]-[hour][minute][second]"
            ))
            .map_err(AppError::internal)?
    );
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut services = Vec::new();
    for (n, d) in details.iter().enumerate() {
        let dir = format!(
            "{root}/{:02}-{}-{}",
            n + 1,
            file_name(&d.case.case_number),
            &d.service.id.to_string()[..8]
        );
        let mut docs = Vec::new();
        for (i, doc) in d.documents.iter().enumerate() {
            let bytes = state
                .blobs
                .read(&doc.sha256)
                .await
                .map_err(AppError::internal)?;
            if sha256_hex(&bytes) != doc.sha256.as_str() {
                return Err(AppError::internal(anyhow::anyhow!(
                    "stored document {} does not match its hash",
                    doc.id
                )));
            }
            let path = format!("{dir}/{:02}-{}.pdf", i + 1, file_name(&doc.title));
            docs.push(json!({
                "id": doc.id,
                "title": doc.title,
                "doc_type": doc.doc_type,
                "sha256": doc.sha256,
                "file": path.trim_start_matches(&format!("{root}/")),
            }));
            files.push((path, bytes));
            recipient::record_access(state, who, d, Some(doc.id), true).await?;
        }
        let cert = certificate::build(state, d).await?;
        let cert_json = serde_json::to_vec_pretty(&cert).map_err(AppError::internal)?;
        let code = cert["verification_code"].clone();
        let pdf = certificate::render_pdf(state, cert).await?;
        files.push((format!("{dir}/certificate.json"), cert_json));
        files.push((format!("{dir}/certificate.pdf"), pdf));
        let s = &d.service;
        services.push(json!({
            "id": s.id,
            "court": d.case.court_name,
            "case_number": d.case.case_number,
            "recipient": d.party.name,
            "status": s.stage.status(),
            "deposited_at": rfc3339(s.deposited_at),
            "served_at": s.served_at.map(rfc3339),
            "service_rule": s.service_rule.map(|r| r.as_str()),
            "verification_code": code,
            "documents": docs,
            "deadlines": crate::http::views::deadlines_json(&deadlines::of_service(d, &cal)),
            "certificate": {
                "json": format!("{}/certificate.json", dir.trim_start_matches(&format!("{root}/"))),
                "pdf": format!("{}/certificate.pdf", dir.trim_start_matches(&format!("{root}/"))),
            },
        }));
    }
    let manifest = json!({
        "generated_at": rfc3339(now),
        "generated_by": who.user.name,
        "services": services,
        "files": files.iter().map(|(p, b)| json!({
            "path": p.trim_start_matches(&format!("{root}/")),
            "sha256": sha256_hex(b),
            "size": b.len(),
        })).collect::<Vec<_>>(),
        "verify": "sha256sum -c SHA256SUMS; songda verify <folder>/certificate.json --document <folder>/<document>.pdf",
    });
    files.push((
        format!("{root}/manifest.json"),
        serde_json::to_vec_pretty(&manifest).map_err(AppError::internal)?,
    ));
    let sums: String = files
        .iter()
        .map(|(p, b)| {
            format!(
                "{}  {}\n",
                sha256_hex(b),
                p.trim_start_matches(&format!("{root}/"))
            )
        })
        .collect();
    files.push((format!("{root}/SHA256SUMS"), sums.into_bytes()));
    tokio::task::spawn_blocking(move || write_zip(files, now))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

fn write_zip(files: Vec<(String, Vec<u8>)>, now: time::OffsetDateTime) -> anyhow::Result<Vec<u8>> {
    use zip::write::SimpleFileOptions;
    let local = now.to_offset(COURT_OFFSET);
    let stamp = zip::DateTime::try_from(time::PrimitiveDateTime::new(local.date(), local.time()))
        .unwrap_or_default();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, bytes) in files {
        // PDFs are compressed already: stored as they are, byte for byte.
        let method = if path.ends_with(".pdf") {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(stamp)
            .large_file(bytes.len() as u64 >= u32::MAX as u64);
        zip.start_file(path, options)?;
        zip.write_all(&bytes)?;
    }
    Ok(zip.finish()?.into_inner())
}

/// The most rows one CSV export holds.
pub const MAX_CSV_ROWS: u32 = 10_000;

/// Every service of a list (up to [`MAX_CSV_ROWS`]) as CSV, whatever page `q` is on.
pub async fn list_csv(
    state: &AppState,
    who: &Who,
    q: &crate::store::ServiceQuery,
    en: bool,
) -> AppResult<String> {
    let mut q = q.clone();
    q.limit = crate::store::MAX_PAGE;
    q.offset = 0;
    let mut rows = Vec::new();
    loop {
        let (page, _) = super::records::list(state, who, &q).await?;
        let n = page.items.len() as u32;
        rows.extend(page.items);
        q.offset += n;
        if n < q.limit || q.offset >= MAX_CSV_ROWS {
            break;
        }
    }
    let (cal, _) = deadlines::calendar(state).await?;
    Ok(csv(&rows, &cal, en))
}

/// A CSV field: quoted when it must be, and a leading `=`, `+`, `-` or `@` defused so a
/// spreadsheet never runs it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The services listed as CSV (UTF-8 with a byte-order mark, so spreadsheets read the
/// Chinese), headers in the reader's language, times in court time.
pub fn csv(rows: &[Listed], cal: &songda_core::deadline::Calendar, en: bool) -> String {
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let header = [
        t("送达编号", "Service id"),
        t("法院", "Court"),
        t("案号", "Case number"),
        t("案由", "Case"),
        t("受送达人", "Recipient"),
        t("文书", "Documents"),
        t("文书类型", "Types"),
        t("状态", "Status"),
        t("送达至平台时间", "Deposited"),
        t("送达时间", "Served"),
        t("送达规则", "Rule"),
        t("签收时间", "Signed"),
        t("拒收时间", "Refused"),
        t("拒收理由", "Refusal reason"),
        t("期限截止日期", "Time limits end"),
    ];
    let mut out = String::from("\u{feff}");
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for x in rows {
        let d = &x.detail;
        let s = &d.service;
        let join = |v: Vec<String>| v.join(if en { "; " } else { "；" });
        let fields = [
            s.id.to_string(),
            d.case.court_name.clone(),
            d.case.case_number.clone(),
            d.case.title.clone(),
            d.party.name.clone(),
            join(d.titles()),
            join(
                d.documents
                    .iter()
                    .map(|x| t(x.doc_type.label_zh(), x.doc_type.label_en()).to_string())
                    .collect(),
            ),
            s.stage.as_str().to_string(),
            court_seconds(s.deposited_at),
            s.served_at.map(court_seconds).unwrap_or_default(),
            s.service_rule
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            s.signed_at.map(court_seconds).unwrap_or_default(),
            s.refused_at.map(court_seconds).unwrap_or_default(),
            s.refusal_reason
                .map(|r| t(r.label_zh(), r.label_en()).to_string())
                .unwrap_or_default(),
            deadlines::summary(d, cal, en),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("民事判决书"), "民事判决书");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(file_name("a/b:c*?\"<>|\n"), "a_b_c_______");
    }
}
