//! A case's progress as one of its parties sees it: the steps of the services that concern
//! them, in time order, with the time limits they started and the mediation documents'
//! effect.

use super::Who;
use super::{deadlines, mediation, recipient};
use crate::error::AppResult;
use crate::state::AppState;
use serde_json::{Value, json};
use songda_core::ids::{CaseId, ServiceId};
use songda_core::timefmt::{COURT_OFFSET, court_minutes, rfc3339};
use time::{OffsetDateTime, Time};

/// One step of a case's progress.
pub struct Step {
    pub at: OffsetDateTime,
    /// `bound`, `deposited`, `viewed`, `signed`, `refused`, `deadline`, `paper`.
    pub kind: &'static str,
    pub label: String,
    pub service: Option<ServiceId>,
    /// A time limit's last day is shown as a day, the rest as a time.
    pub day_only: bool,
}

impl Step {
    pub fn when(&self) -> String {
        if self.day_only {
            self.at.to_offset(COURT_OFFSET).date().to_string()
        } else {
            court_minutes(self.at)
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "at": rfc3339(self.at),
            "kind": self.kind,
            "label": self.label,
            "service_id": self.service,
        })
    }
}

/// The steps of a bound case that concern the caller's party, oldest first.
pub async fn of_case(state: &AppState, who: &Who, case: CaseId, en: bool) -> AppResult<Vec<Step>> {
    let party = recipient::my_party(state, who, case).await?;
    let t = |zh: &'static str, e: &'static str| if en { e } else { zh };
    let mut steps = Vec::new();
    if let Some(at) = party.bound_at {
        steps.push(Step {
            at,
            kind: "bound",
            label: t("绑定本案", "Bound the case").into(),
            service: None,
            day_only: false,
        });
    }
    let (cal, _) = deadlines::calendar(state).await?;
    // The case's every service: the party's own for the steps, all of them for the
    // mediation documents' effect.
    let all = state.store.services_of_case(case).await?;
    let services: Vec<_> = all.iter().filter(|d| d.party.id == party.id).collect();
    for d in &services {
        let s = &d.service;
        let titles = d.titles().join(t("、", ", "));
        let id = Some(s.id);
        steps.push(Step {
            at: s.deposited_at,
            kind: "deposited",
            label: format!("{}{titles}", t("法院送达：", "Served by the court: ")),
            service: id,
            day_only: false,
        });
        if let Some(at) = s.first_viewed_at {
            steps.push(Step {
                at,
                kind: "viewed",
                label: format!("{}{titles}", t("查阅：", "Opened: ")),
                service: id,
                day_only: false,
            });
        }
        if let Some(at) = s.signed_at {
            steps.push(Step {
                at,
                kind: "signed",
                label: format!("{}{titles}", t("签收：", "Signed for: ")),
                service: id,
                day_only: false,
            });
        }
        if let Some(at) = s.refused_at {
            steps.push(Step {
                at,
                kind: "refused",
                label: format!("{}{titles}", t("拒收：", "Refused: ")),
                service: id,
                day_only: false,
            });
        }
        for x in deadlines::of_service(d, &cal) {
            let end = x
                .deadline
                .ends
                .with_time(Time::from_hms(23, 59, 59).unwrap_or(Time::MIDNIGHT))
                .assume_offset(COURT_OFFSET);
            steps.push(Step {
                at: end,
                kind: "deadline",
                label: format!(
                    "{}{}（{}）",
                    t(x.limit.kind.label_zh(), x.limit.kind.label_en()),
                    t("届满", " ends"),
                    x.title
                ),
                service: id,
                day_only: true,
            });
        }
    }
    let parties = state.store.parties_of_case(case).await?;
    let docs = state.store.documents_of_case(case).await?;
    for m in mediation::of_case(&parties, &docs, &all) {
        if !services
            .iter()
            .any(|d| d.documents.iter().any(|x| x.id == m.document.id))
        {
            continue;
        }
        if let songda_core::mediation::Effect::Effective { at } = m.effect {
            steps.push(Step {
                at,
                kind: "mediation_effective",
                label: format!("{}{}", m.document.title, t("生效", " took effect")),
                service: None,
                day_only: false,
            });
        }
    }
    for d in &services {
        for r in state.store.paper_requests_of_service(d.service.id).await? {
            steps.push(Step {
                at: r.requested_at,
                kind: "paper",
                label: format!(
                    "{}{}",
                    t("申请纸质文书：", "Asked for a paper copy: "),
                    r.document_title
                ),
                service: Some(d.service.id),
                day_only: false,
            });
        }
    }
    steps.sort_by_key(|s| s.at);
    Ok(steps)
}
