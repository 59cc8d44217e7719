//! Which documents may be served electronically, under which regime (DOMAIN.md section 4).
//!
//! Regimes are data: a table of [`Regime`] values, chosen by the date of dispatch in court
//! time unless a court is configured to one regime. Every decision names the regime it was
//! made under, and a refusal names the rule that refused it, so that a stored record keeps
//! the law it was decided under even after the table grows.

use crate::consent::ConsentBasis;
use crate::document::DocType;
use serde::Serialize;
use time::Date;
use time::macros::date;

/// One statutory regime of electronic service.
#[derive(Debug, PartialEq, Eq)]
pub struct Regime {
    /// Stable id written into evidence, e.g. `CPL2021-A90`.
    pub id: &'static str,
    /// First dispatch date (court time) the regime governs.
    pub from: Date,
    /// Last dispatch date it governs, if it has been superseded.
    pub until: Option<Date>,
    /// Whether consent of the recipient is required.
    pub consent_required: bool,
    /// Types that may not be served electronically under this regime.
    pub excluded: &'static [DocType],
    /// Types for which a party may ask for a paper copy as well.
    pub paper_copy_on_request: &'static [DocType],
    /// The article that governs electronic service, as cited in refusals and certificates.
    pub citation_zh: &'static str,
    pub citation_en: &'static str,
}

/// CPL 2017, Art. 87: electronic service with consent, except judgments, rulings and
/// mediation documents.
pub const CPL2017_A87: Regime = Regime {
    id: "CPL2017-A87",
    from: date!(2013 - 01 - 01),
    until: Some(date!(2021 - 12 - 31)),
    consent_required: true,
    excluded: &[
        DocType::Judgment,
        DocType::Ruling,
        DocType::MediationDocument,
    ],
    paper_copy_on_request: &[],
    citation_zh: "《中华人民共和国民事诉讼法》（2017年修正）第八十七条",
    citation_en: "Civil Procedure Law (2017 amendment), Art. 87",
};

/// CPL 2021, Art. 90: every document with consent; paper copy on request for judgments,
/// rulings and mediation documents.
pub const CPL2021_A90: Regime = Regime {
    id: "CPL2021-A90",
    from: date!(2022 - 01 - 01),
    until: None,
    consent_required: true,
    excluded: &[],
    paper_copy_on_request: &[
        DocType::Judgment,
        DocType::Ruling,
        DocType::MediationDocument,
    ],
    citation_zh: "《中华人民共和国民事诉讼法》（2021年修正）第九十条",
    citation_en: "Civil Procedure Law (2021 amendment), Art. 90",
};

/// All regimes, oldest first.
pub const REGIMES: &[&Regime] = &[&CPL2017_A87, &CPL2021_A90];

impl Regime {
    pub fn by_id(id: &str) -> Option<&'static Regime> {
        REGIMES.iter().copied().find(|r| r.id == id)
    }

    /// The regime governing a dispatch on `day` (court time), if any.
    pub fn for_dispatch_date(day: Date) -> Option<&'static Regime> {
        REGIMES
            .iter()
            .copied()
            .find(|r| r.from <= day && r.until.is_none_or(|u| day <= u))
    }
}

/// How a court picks its regime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegimeSetting {
    /// By the date of dispatch: the normal case.
    ByDispatchDate,
    /// Always this regime, e.g. for a court that must re-serve under the old law.
    Fixed(&'static Regime),
}

/// What the policy is asked about one service.
#[derive(Debug)]
pub struct PolicyRequest<'a> {
    pub dispatch_date: Date,
    pub setting: RegimeSetting,
    /// The recipient's current consent, if any (withdrawn consent is `None`).
    pub consent: Option<ConsentBasis>,
    pub doc_types: &'a [DocType],
}

/// Why a service was refused; `code()` is the API error code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Refusal {
    /// The recipient has not consented to electronic service.
    ConsentRequired,
    /// This document type may not be served electronically under the regime.
    DocTypeExcluded { doc_type: DocType },
    /// No regime governs the dispatch date.
    NoRegime,
}

impl Refusal {
    /// The API error code: `consent_required` or `policy_refused`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::ConsentRequired => "consent_required",
            Refusal::DocTypeExcluded { .. } | Refusal::NoRegime => "policy_refused",
        }
    }
    /// The reason code written into the `SubmissionRejection` evidence.
    pub fn reason_code(&self) -> &'static str {
        match self {
            Refusal::ConsentRequired => "consent_required",
            Refusal::DocTypeExcluded { .. } => "doc_type_excluded",
            Refusal::NoRegime => "no_regime",
        }
    }
}

/// The outcome of a policy check. Both outcomes are recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    Permitted {
        regime: &'static Regime,
    },
    Refused {
        regime: Option<&'static Regime>,
        refusal: Refusal,
    },
}

impl Decision {
    pub fn regime_id(&self) -> Option<&'static str> {
        match self {
            Decision::Permitted { regime } => Some(regime.id),
            Decision::Refused { regime, .. } => regime.map(|r| r.id),
        }
    }

    /// A sentence naming the rule that decided, for the clerk and the evidence.
    pub fn explain_zh(&self) -> String {
        match self {
            Decision::Permitted { regime } => {
                format!("依据{}，可以电子送达", regime.citation_zh)
            }
            Decision::Refused { regime, refusal } => {
                let cite = regime.map_or("", |r| r.citation_zh);
                match refusal {
                    Refusal::ConsentRequired => {
                        format!("依据{cite}，电子送达须经受送达人同意，受送达人尚未同意")
                    }
                    Refusal::DocTypeExcluded { doc_type } => {
                        format!("依据{cite}，{}不得电子送达", doc_type.label_zh())
                    }
                    Refusal::NoRegime => "送达日期不在任何电子送达规则的适用期间内".into(),
                }
            }
        }
    }

    pub fn explain_en(&self) -> String {
        match self {
            Decision::Permitted { regime } => {
                format!("Electronic service permitted under {}", regime.citation_en)
            }
            Decision::Refused { regime, refusal } => {
                let cite = regime.map_or("", |r| r.citation_en);
                match refusal {
                    Refusal::ConsentRequired => format!(
                        "{cite} requires the recipient's consent to electronic service, which has not been given"
                    ),
                    Refusal::DocTypeExcluded { doc_type } => format!(
                        "{cite} does not allow a {} to be served electronically",
                        doc_type.label_en().to_lowercase()
                    ),
                    Refusal::NoRegime => {
                        "No regime of electronic service governs the dispatch date".into()
                    }
                }
            }
        }
    }
}

/// Decides whether the documents may be served electronically on this recipient.
/// Document types are checked before consent only in the sense that both are checked:
/// the first failing rule, in the order consent then type, is the one reported.
pub fn check(req: &PolicyRequest<'_>) -> Decision {
    let regime = match req.setting {
        RegimeSetting::Fixed(r) => r,
        RegimeSetting::ByDispatchDate => match Regime::for_dispatch_date(req.dispatch_date) {
            Some(r) => r,
            None => {
                return Decision::Refused {
                    regime: None,
                    refusal: Refusal::NoRegime,
                };
            }
        },
    };
    if regime.consent_required && req.consent.is_none() {
        return Decision::Refused {
            regime: Some(regime),
            refusal: Refusal::ConsentRequired,
        };
    }
    if let Some(&doc_type) = req.doc_types.iter().find(|t| regime.excluded.contains(t)) {
        return Decision::Refused {
            regime: Some(regime),
            refusal: Refusal::DocTypeExcluded { doc_type },
        };
    }
    Decision::Permitted { regime }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(day: Date, setting: RegimeSetting, consent: bool, types: &[DocType]) -> Decision {
        check(&PolicyRequest {
            dispatch_date: day,
            setting,
            consent: consent.then_some(ConsentBasis::Express),
            doc_types: types,
        })
    }

    #[test]
    fn the_regime_changes_at_midnight_on_new_year_2022() {
        let old = ask(
            date!(2021 - 12 - 31),
            RegimeSetting::ByDispatchDate,
            true,
            &[DocType::Summons],
        );
        let new = ask(
            date!(2022 - 01 - 01),
            RegimeSetting::ByDispatchDate,
            true,
            &[DocType::Summons],
        );
        assert_eq!(old.regime_id(), Some("CPL2017-A87"));
        assert_eq!(new.regime_id(), Some("CPL2021-A90"));
    }

    #[test]
    fn each_excluded_type_is_refused_under_the_2017_regime_and_served_under_2021() {
        for t in [
            DocType::Judgment,
            DocType::Ruling,
            DocType::MediationDocument,
        ] {
            let old = ask(
                date!(2021 - 12 - 31),
                RegimeSetting::ByDispatchDate,
                true,
                &[DocType::Notice, t],
            );
            assert_eq!(
                old,
                Decision::Refused {
                    regime: Some(&CPL2017_A87),
                    refusal: Refusal::DocTypeExcluded { doc_type: t }
                },
                "{t}"
            );
            assert_eq!(old.regime_id(), Some("CPL2017-A87"));
            let new = ask(
                date!(2022 - 01 - 01),
                RegimeSetting::ByDispatchDate,
                true,
                &[t],
            );
            assert_eq!(
                new,
                Decision::Permitted {
                    regime: &CPL2021_A90
                },
                "{t}"
            );
        }
    }

    #[test]
    fn every_other_type_is_servable_under_both_regimes() {
        for t in DocType::ALL {
            if CPL2017_A87.excluded.contains(&t) {
                continue;
            }
            for day in [date!(2021 - 12 - 31), date!(2026 - 11 - 29)] {
                assert!(matches!(
                    ask(day, RegimeSetting::ByDispatchDate, true, &[t]),
                    Decision::Permitted { .. }
                ));
            }
        }
    }

    #[test]
    fn consent_is_required_under_both_regimes() {
        for day in [date!(2021 - 06 - 01), date!(2026 - 11 - 29)] {
            let d = ask(
                day,
                RegimeSetting::ByDispatchDate,
                false,
                &[DocType::Summons],
            );
            assert!(matches!(
                d,
                Decision::Refused {
                    refusal: Refusal::ConsentRequired,
                    ..
                }
            ));
            if let Decision::Refused { refusal, .. } = &d {
                assert_eq!(refusal.code(), "consent_required");
            }
        }
    }

    #[test]
    fn a_court_fixed_to_the_old_regime_refuses_judgments_today() {
        let d = ask(
            date!(2026 - 11 - 29),
            RegimeSetting::Fixed(&CPL2017_A87),
            true,
            &[DocType::Judgment],
        );
        assert_eq!(d.regime_id(), Some("CPL2017-A87"));
        match d {
            Decision::Refused { refusal, .. } => assert_eq!(refusal.code(), "policy_refused"),
            other => panic!("expected refusal, got {other:?}"),
        }
        assert!(d_explains_rule(&ask(
            date!(2026 - 11 - 29),
            RegimeSetting::Fixed(&CPL2017_A87),
            true,
            &[DocType::Judgment],
        )));
    }

    fn d_explains_rule(d: &Decision) -> bool {
        d.explain_zh().contains("第八十七条") && d.explain_en().contains("Art. 87")
    }

    #[test]
    fn dispatch_before_any_regime_is_refused_without_one() {
        let d = ask(
            date!(2012 - 12 - 31),
            RegimeSetting::ByDispatchDate,
            true,
            &[DocType::Notice],
        );
        assert_eq!(
            d,
            Decision::Refused {
                regime: None,
                refusal: Refusal::NoRegime
            }
        );
    }

    #[test]
    fn regimes_do_not_overlap_or_leave_gaps() {
        for pair in REGIMES.windows(2) {
            let until = pair[0].until.expect("only the last regime is open-ended");
            assert_eq!(until.next_day(), Some(pair[1].from));
        }
        assert!(Regime::by_id("CPL2021-A90").is_some());
        assert!(Regime::by_id("nope").is_none());
    }
}
