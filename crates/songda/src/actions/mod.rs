//! What users do, independent of how they ask: each action turns parsed input into a
//! decision of `songda-core` and has the store apply it in one transaction. The JSON API
//! and the HTML pages both call these, so a rule is enforced once.

pub mod accounts;
pub mod bundle;
pub mod cases;
pub mod certificate;
pub mod deadlines;
pub mod mediation;
pub mod paper;
pub mod progress;
pub mod recipient;
pub mod records;
pub mod serve;
pub mod staff;
pub mod verification;

use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::store::{CaseRecord, Role, User};
use songda_core::evidence::{Actor, CaseRef, ClientInfo, DocumentRef, RecipientRef};
use songda_core::ids::CaseId;

/// Who is acting and from where: every recipient action is attributable (Online
/// Litigation Rules Art. 7).
#[derive(Clone, Debug)]
pub struct Who {
    pub user: User,
    pub client: ClientInfo,
}

impl Who {
    pub fn actor(&self) -> Actor {
        Actor {
            kind: self.user.role.as_str().to_string(),
            user_id: Some(self.user.id),
            name: self.user.name.clone(),
        }
    }

    /// The user if a clerk; parties and admins get 403.
    pub fn clerk(&self) -> AppResult<&User> {
        match self.user.role {
            Role::Clerk => Ok(&self.user),
            _ => Err(AppError::forbidden("only court clerks may do this")),
        }
    }

    pub fn party(&self) -> AppResult<&User> {
        match self.user.role {
            Role::Party => Ok(&self.user),
            _ => Err(AppError::forbidden("only parties may do this")),
        }
    }
}

/// The case if it belongs to the clerk's court; 404 otherwise, never a hint it exists.
pub async fn clerk_case(state: &AppState, who: &Who, case_id: CaseId) -> AppResult<CaseRecord> {
    let clerk = who.clerk()?;
    let case = state.store.case(case_id).await?;
    if Some(case.court_id) != clerk.court_id {
        return Err(AppError::not_found());
    }
    Ok(case)
}

pub(crate) fn case_ref(c: &CaseRecord) -> CaseRef {
    CaseRef {
        id: c.id,
        case_number: c.case_number.clone(),
        court: c.court_name.clone(),
    }
}

pub(crate) fn doc_refs(docs: &[crate::store::DocumentRecord]) -> Vec<DocumentRef> {
    docs.iter()
        .map(|d| DocumentRef {
            id: d.id,
            title: d.title.clone(),
            doc_type: d.doc_type,
            sha256: d.sha256.clone(),
        })
        .collect()
}

pub(crate) fn recipient_ref(p: &crate::store::PartyRecord) -> RecipientRef {
    RecipientRef {
        party_id: p.id,
        name: p.name.clone(),
        role: p.role,
    }
}
