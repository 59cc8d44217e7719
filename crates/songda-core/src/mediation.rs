//! When a mediation document takes effect (CPL Art. 100): only once every party has
//! signed for it. Arrival is not enough, so a party's service time and the document's
//! effective time are different things. A party who refuses it before signing ends the
//! mediation: the court decides the case instead (CPL Art. 102).

use crate::ids::PartyId;
use crate::party::PartyRole;
use time::OffsetDateTime;

/// Where one party stands with a mediation document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signoff {
    pub party: PartyId,
    pub role: PartyRole,
    /// When they signed for a service of it, if they did.
    pub signed_at: Option<OffsetDateTime>,
    /// They refused a service of it and have not signed.
    pub refused: bool,
}

/// The document's effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Every party signed; effective from the last signature.
    Effective { at: OffsetDateTime },
    /// Still waiting for these parties' signatures.
    Waiting { missing: Vec<PartyId> },
    /// A party refused it: it will not take effect.
    Refused { by: Vec<PartyId> },
}

/// The effect of a mediation document given each party's stand. Agents sign for their
/// principal only through the principal's own service, so only the parties themselves
/// (plaintiffs, defendants, third parties) count.
pub fn effect(parties: &[Signoff]) -> Effect {
    let principals: Vec<&Signoff> = parties
        .iter()
        .filter(|p| p.role != PartyRole::Agent)
        .collect();
    let refused: Vec<PartyId> = principals
        .iter()
        .filter(|p| p.refused && p.signed_at.is_none())
        .map(|p| p.party)
        .collect();
    if !refused.is_empty() {
        return Effect::Refused { by: refused };
    }
    let missing: Vec<PartyId> = principals
        .iter()
        .filter(|p| p.signed_at.is_none())
        .map(|p| p.party)
        .collect();
    match principals.iter().filter_map(|p| p.signed_at).max() {
        Some(at) if missing.is_empty() => Effect::Effective { at },
        _ => Effect::Waiting { missing },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn party(role: PartyRole, signed: Option<OffsetDateTime>, refused: bool) -> Signoff {
        Signoff {
            party: PartyId::new(),
            role,
            signed_at: signed,
            refused,
        }
    }

    #[test]
    fn effective_only_when_every_party_signed_from_the_last_signature() {
        let (a, b) = (
            datetime!(2026-03-02 09:00 UTC),
            datetime!(2026-03-04 15:00 UTC),
        );
        let plaintiff = party(PartyRole::Plaintiff, Some(a), false);
        let defendant = party(PartyRole::Defendant, None, false);
        let agent = party(PartyRole::Agent, None, false);
        assert_eq!(
            effect(&[plaintiff.clone(), defendant.clone(), agent.clone()]),
            Effect::Waiting {
                missing: vec![defendant.party]
            }
        );
        let signed = Signoff {
            signed_at: Some(b),
            ..defendant.clone()
        };
        assert_eq!(
            effect(&[plaintiff.clone(), signed, agent]),
            Effect::Effective { at: b }
        );
        let refused = Signoff {
            refused: true,
            ..defendant.clone()
        };
        assert_eq!(
            effect(&[plaintiff, refused]),
            Effect::Refused {
                by: vec![defendant.party]
            }
        );
        assert_eq!(effect(&[]), Effect::Waiting { missing: vec![] });
    }
}
