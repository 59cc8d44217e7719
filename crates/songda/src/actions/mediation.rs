//! Whether a case's mediation documents have taken effect (CPL Art. 100: once every party
//! signed for them), and who is still missing; computed from the services when shown.

use crate::error::AppResult;
use crate::state::AppState;
use crate::store::{DocumentRecord, PartyRecord, ServiceDetail};
use serde_json::{Value, json};
use songda_core::document::DocType;
use songda_core::ids::CaseId;
use songda_core::mediation::{Effect, Signoff, effect};
use songda_core::service::Stage;
use songda_core::timefmt::{court_minutes, rfc3339};

/// A served mediation document and its effect, with the parties' names.
pub struct Mediation {
    pub document: DocumentRecord,
    pub effect: Effect,
    names: Vec<(songda_core::ids::PartyId, String)>,
}

impl Mediation {
    fn name(&self, id: songda_core::ids::PartyId) -> String {
        self.names
            .iter()
            .find(|(p, _)| *p == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    }

    /// One line for a page, in the reader's language.
    pub fn text(&self, en: bool) -> String {
        let join = |ids: &[songda_core::ids::PartyId]| {
            ids.iter()
                .map(|p| self.name(*p))
                .collect::<Vec<_>>()
                .join(if en { ", " } else { "、" })
        };
        match (&self.effect, en) {
            (Effect::Effective { at }, false) => {
                format!(
                    "已生效：全部当事人已签收，自 {} 起生效（CPL Art. 100）",
                    court_minutes(*at)
                )
            }
            (Effect::Effective { at }, true) => format!(
                "In effect: every party signed; effective from {} (CPL Art. 100)",
                court_minutes(*at)
            ),
            (Effect::Waiting { missing }, false) => {
                format!(
                    "尚未生效：待 {} 签收（调解书经各方当事人签收后生效）",
                    join(missing)
                )
            }
            (Effect::Waiting { missing }, true) => format!(
                "Not yet in effect: waiting for {} to sign (it takes effect once every party has signed)",
                join(missing)
            ),
            (Effect::Refused { by }, false) => {
                format!(
                    "不生效：{} 拒收，调解未达成，人民法院应当及时判决（CPL Art. 102）",
                    join(by)
                )
            }
            (Effect::Refused { by }, true) => format!(
                "Will not take effect: refused by {}; the court is to decide the case (CPL Art. 102)",
                join(by)
            ),
        }
    }

    pub fn json(&self) -> Value {
        let names = |ids: &[songda_core::ids::PartyId]| {
            ids.iter().map(|p| self.name(*p)).collect::<Vec<_>>()
        };
        let (state, at, missing, refused) = match &self.effect {
            Effect::Effective { at } => ("effective", Some(rfc3339(*at)), vec![], vec![]),
            Effect::Waiting { missing } => ("waiting", None, names(missing), vec![]),
            Effect::Refused { by } => ("refused", None, vec![], names(by)),
        };
        json!({
            "document_id": self.document.id,
            "state": state,
            "effective_at": at,
            "missing": missing,
            "refused_by": refused,
        })
    }
}

/// The mediation documents of a case that were served, each with its effect.
pub fn of_case(
    parties: &[PartyRecord],
    docs: &[DocumentRecord],
    services: &[ServiceDetail],
) -> Vec<Mediation> {
    docs.iter()
        .filter(|d| d.doc_type == DocType::MediationDocument)
        .filter(|d| {
            services
                .iter()
                .any(|s| s.documents.iter().any(|x| x.id == d.id))
        })
        .map(|doc| {
            let signoffs: Vec<Signoff> = parties
                .iter()
                .map(|p| {
                    let of_doc = services.iter().filter(|s| {
                        s.party.id == p.id && s.documents.iter().any(|x| x.id == doc.id)
                    });
                    let (mut signed_at, mut refused) = (None, false);
                    for s in of_doc {
                        match s.service.stage {
                            Stage::Signed => signed_at = signed_at.or(s.service.signed_at),
                            Stage::Refused => refused = true,
                            _ => {}
                        }
                    }
                    Signoff {
                        party: p.id,
                        role: p.role,
                        signed_at,
                        refused,
                    }
                })
                .collect();
            Mediation {
                document: doc.clone(),
                effect: effect(&signoffs),
                names: parties.iter().map(|p| (p.id, p.name.clone())).collect(),
            }
        })
        .collect()
}

/// The mediation documents of a case as its pages and API show them.
pub async fn of_case_id(state: &AppState, case: CaseId) -> AppResult<Vec<Mediation>> {
    let parties = state.store.parties_of_case(case).await?;
    let docs = state.store.documents_of_case(case).await?;
    let services = state.store.services_of_case(case).await?;
    Ok(of_case(&parties, &docs, &services))
}
