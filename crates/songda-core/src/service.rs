//! The service state machine and the legal time of service (DOMAIN.md sections 5 and 6).
//!
//! One service is one act of serving one or more documents on one recipient. After the
//! policy permits it, the documents are deposited in the recipient's platform inbox; the
//! recipient may view them, and signs for receipt or refuses. When service legally took
//! effect, and under which rule, is decided here from the address provenance and the
//! recorded times: never by the web or storage layers.

use crate::consent::Provenance;
use crate::policy::Regime;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a service stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// In the recipient's inbox, not yet opened.
    Deposited,
    /// Opened by the recipient (a document page or file was fetched).
    Viewed,
    /// The recipient signed for receipt.
    Signed,
    /// The recipient refused, with a reason.
    Refused,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Deposited => "deposited",
            Stage::Viewed => "viewed",
            Stage::Signed => "signed",
            Stage::Refused => "refused",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            Stage::Deposited,
            Stage::Viewed,
            Stage::Signed,
            Stage::Refused,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
    /// The coarse status shown in lists and the API: waiting for the recipient or done.
    pub fn status(self) -> Status {
        match self {
            Stage::Deposited | Stage::Viewed => Status::Pending,
            Stage::Signed => Status::Signed,
            Stage::Refused => Status::Refused,
        }
    }
}

/// The status of a service as lists and filters show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Signed,
    Refused,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Pending, Status::Signed, Status::Refused];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Signed => "signed",
            Status::Refused => "refused",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Why a recipient refused. Coded, so that refusals can be counted and acted on; a free
/// note may add detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// "This case or document is not mine."
    NotAddressee,
    /// The document cannot be opened or read.
    Unreadable,
    /// Wrong or incomplete document (e.g. pages missing).
    WrongDocument,
    /// The recipient objects to electronic service and asks for another method.
    ObjectsToElectronicService,
    Other,
}

impl RefusalReason {
    pub const ALL: [RefusalReason; 5] = [
        RefusalReason::NotAddressee,
        RefusalReason::Unreadable,
        RefusalReason::WrongDocument,
        RefusalReason::ObjectsToElectronicService,
        RefusalReason::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::NotAddressee => "not_addressee",
            RefusalReason::Unreadable => "unreadable",
            RefusalReason::WrongDocument => "wrong_document",
            RefusalReason::ObjectsToElectronicService => "objects_to_electronic_service",
            RefusalReason::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            RefusalReason::NotAddressee => "非本人案件或文书",
            RefusalReason::Unreadable => "文书无法打开或无法阅读",
            RefusalReason::WrongDocument => "文书错误或不完整",
            RefusalReason::ObjectsToElectronicService => "不同意电子送达，要求其他方式送达",
            RefusalReason::Other => "其他原因",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            RefusalReason::NotAddressee => "Not my case or document",
            RefusalReason::Unreadable => "The document cannot be opened or read",
            RefusalReason::WrongDocument => "Wrong or incomplete document",
            RefusalReason::ObjectsToElectronicService => {
                "I object to electronic service and ask for another method"
            }
            RefusalReason::Other => "Other reason",
        }
    }
}

/// The rule that fixed the legal time of service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceRule {
    /// Confirmed address: served when the documents reach the recipient's platform inbox.
    InboxDepositConfirmedAddress,
    /// Court-obtained address: served when the recipient signs for the documents.
    RecipientSignOff,
    /// Court-obtained address: served when the recipient acts on the documents (here: an
    /// explicit refusal after opening them, which shows they arrived).
    RecipientActed,
}

impl ServiceRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceRule::InboxDepositConfirmedAddress => "inbox_deposit_confirmed_address",
            ServiceRule::RecipientSignOff => "recipient_sign_off",
            ServiceRule::RecipientActed => "recipient_acted",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            ServiceRule::InboxDepositConfirmedAddress,
            ServiceRule::RecipientSignOff,
            ServiceRule::RecipientActed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    /// A short name for lists.
    pub fn label_zh(self) -> &'static str {
        match self {
            ServiceRule::InboxDepositConfirmedAddress => "确认地址：到达平台即送达",
            ServiceRule::RecipientSignOff => "法院获取地址：签收时送达",
            ServiceRule::RecipientActed => "法院获取地址：回应时送达",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ServiceRule::InboxDepositConfirmedAddress => "Confirmed address: served on deposit",
            ServiceRule::RecipientSignOff => "Court-obtained address: served on sign-off",
            ServiceRule::RecipientActed => "Court-obtained address: served when acted on",
        }
    }

    /// The rule in words with its legal basis under `regime`.
    pub fn explain_zh(self, regime: &Regime) -> String {
        let online = if regime.id == "CPL2017-A87" {
            "《最高人民法院关于适用〈中华人民共和国民事诉讼法〉的解释》第一百三十五条"
        } else {
            "《人民法院在线诉讼规则》第三十一条"
        };
        match self {
            ServiceRule::InboxDepositConfirmedAddress => format!(
                "受送达人确认的电子送达地址，文书到达受送达人平台账户之时为送达时间（{}第二款；{online}）",
                regime.citation_zh
            ),
            ServiceRule::RecipientSignOff => {
                format!("法院获取的电子地址，以受送达人签收之时为送达时间（{online}）")
            }
            ServiceRule::RecipientActed => {
                format!("法院获取的电子地址，以受送达人对文书作出回应之时为送达时间（{online}）")
            }
        }
    }

    pub fn explain_en(self, regime: &Regime) -> String {
        match self {
            ServiceRule::InboxDepositConfirmedAddress => format!(
                "Confirmed electronic address: served when the documents reached the recipient's platform inbox ({}(2); Online Litigation Rules Art. 31(1))",
                regime.citation_en
            ),
            ServiceRule::RecipientSignOff => "Court-obtained address: served when the recipient signed for receipt (Online Litigation Rules Art. 31(2))".into(),
            ServiceRule::RecipientActed => "Court-obtained address: served when the recipient acted on the documents (Online Litigation Rules Art. 31(2))".into(),
        }
    }
}

/// The legal time of service and the rule that fixed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LegalTime {
    pub at: OffsetDateTime,
    pub rule: ServiceRule,
}

/// A service as the state machine sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceState {
    pub stage: Stage,
    pub provenance: Provenance,
    pub deposited_at: OffsetDateTime,
    pub first_viewed_at: Option<OffsetDateTime>,
    pub signed_at: Option<OffsetDateTime>,
    pub refused_at: Option<OffsetDateTime>,
    /// When the mail server accepted the email carrying the documents (a court that also
    /// serves by email), if it did.
    pub email_arrived_at: Option<OffsetDateTime>,
}

/// When the documents reached the recipient by one channel, whether that arrival serves,
/// and whether it is the one that fixed the legal time (DOMAIN.md section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    pub channel: crate::consent::Channel,
    pub at: OffsetDateTime,
    /// Arrival serves: the address is confirmed. At a court-obtained address only the
    /// recipient's own act serves.
    pub counts: bool,
    /// The earliest arrival that counts: it fixed the legal time.
    pub fixed: bool,
}

/// A transition that the current stage does not allow. The API answers 409.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("already signed for")]
    AlreadySigned,
    #[error("already refused")]
    AlreadyRefused,
}

impl TransitionError {
    pub fn code(self) -> &'static str {
        match self {
            TransitionError::AlreadySigned => "already_signed",
            TransitionError::AlreadyRefused => "already_refused",
        }
    }
}

impl ServiceState {
    /// A service just deposited in the recipient's inbox.
    pub fn deposited(provenance: Provenance, at: OffsetDateTime) -> Self {
        Self {
            stage: Stage::Deposited,
            provenance,
            deposited_at: at,
            first_viewed_at: None,
            signed_at: None,
            refused_at: None,
            email_arrived_at: None,
        }
    }

    /// The mail server accepted the email carrying the documents. The first acceptance is
    /// the arrival; a later copy changes nothing. The email is queued with the deposit and
    /// sent after it: a time before the deposit (a worker's clock behind) is taken as the
    /// deposit's.
    pub fn email_arrived(&mut self, at: OffsetDateTime) {
        if self.email_arrived_at.is_none() {
            self.email_arrived_at = Some(at.max(self.deposited_at));
        }
    }

    /// Each channel's arrival, earliest first: the platform inbox at deposit and, for a
    /// court that also serves by email, the email's acceptance. Of several channels the
    /// earliest arrival that counts fixes the time (Online Rules Art. 31(4)): the deposit,
    /// which the email can only follow.
    pub fn completions(&self) -> Vec<Completion> {
        let counts = self.provenance == Provenance::Confirmed;
        let mut out = vec![Completion {
            channel: crate::consent::Channel::Platform,
            at: self.deposited_at,
            counts,
            fixed: counts,
        }];
        if let Some(at) = self.email_arrived_at {
            out.push(Completion {
                channel: crate::consent::Channel::Email,
                at,
                counts,
                fixed: false,
            });
        }
        out
    }

    /// The recipient opened a document. Viewing is always recorded as evidence, but only
    /// the first view moves the stage; a view after signing changes nothing.
    pub fn view(&mut self, at: OffsetDateTime) {
        if self.first_viewed_at.is_none() {
            self.first_viewed_at = Some(at);
        }
        if self.stage == Stage::Deposited {
            self.stage = Stage::Viewed;
        }
    }

    pub fn sign(&mut self, at: OffsetDateTime) -> Result<(), TransitionError> {
        self.ensure_open()?;
        self.stage = Stage::Signed;
        self.signed_at = Some(at);
        Ok(())
    }

    pub fn refuse(&mut self, at: OffsetDateTime) -> Result<(), TransitionError> {
        self.ensure_open()?;
        self.stage = Stage::Refused;
        self.refused_at = Some(at);
        Ok(())
    }

    fn ensure_open(&self) -> Result<(), TransitionError> {
        match self.stage {
            Stage::Signed => Err(TransitionError::AlreadySigned),
            Stage::Refused => Err(TransitionError::AlreadyRefused),
            Stage::Deposited | Stage::Viewed => Ok(()),
        }
    }

    /// When service took effect, if it has (DOMAIN.md section 5). A confirmed address is
    /// served at deposit, whatever the recipient does later, refusal included. A
    /// court-obtained address is served only by signing or acting on the documents; a view
    /// alone is a rebuttable presumption and does not fix the time.
    pub fn legal_time(&self) -> Option<LegalTime> {
        match self.provenance {
            Provenance::Confirmed => Some(LegalTime {
                at: self.deposited_at,
                rule: ServiceRule::InboxDepositConfirmedAddress,
            }),
            Provenance::CourtObtained => {
                if let Some(at) = self.signed_at {
                    Some(LegalTime {
                        at,
                        rule: ServiceRule::RecipientSignOff,
                    })
                } else {
                    self.refused_at.map(|at| LegalTime {
                        at,
                        rule: ServiceRule::RecipientActed,
                    })
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-29 07:00 UTC);
    const T1: OffsetDateTime = datetime!(2026-11-30 02:00 UTC);
    const T2: OffsetDateTime = datetime!(2026-12-02 09:30 UTC);

    #[test]
    fn a_confirmed_address_is_served_at_deposit_whatever_happens_next() {
        let mut s = ServiceState::deposited(Provenance::Confirmed, T0);
        let at_deposit = LegalTime {
            at: T0,
            rule: ServiceRule::InboxDepositConfirmedAddress,
        };
        assert_eq!(s.legal_time(), Some(at_deposit));
        s.view(T1);
        assert_eq!(s.stage, Stage::Viewed);
        s.sign(T2).unwrap();
        assert_eq!(s.stage, Stage::Signed);
        assert_eq!(s.legal_time(), Some(at_deposit));

        let mut r = ServiceState::deposited(Provenance::Confirmed, T0);
        r.refuse(T1).unwrap();
        assert_eq!(r.legal_time(), Some(at_deposit));
    }

    #[test]
    fn a_court_obtained_address_is_served_only_by_signing_not_by_viewing() {
        let mut s = ServiceState::deposited(Provenance::CourtObtained, T0);
        assert_eq!(s.legal_time(), None);
        s.view(T1);
        assert_eq!(s.legal_time(), None);
        s.sign(T2).unwrap();
        assert_eq!(
            s.legal_time(),
            Some(LegalTime {
                at: T2,
                rule: ServiceRule::RecipientSignOff
            })
        );
    }

    #[test]
    fn signing_and_refusing_are_final() {
        let mut s = ServiceState::deposited(Provenance::Confirmed, T0);
        s.sign(T1).unwrap();
        assert_eq!(s.sign(T2), Err(TransitionError::AlreadySigned));
        assert_eq!(s.refuse(T2), Err(TransitionError::AlreadySigned));
        assert_eq!(s.signed_at, Some(T1));

        let mut r = ServiceState::deposited(Provenance::Confirmed, T0);
        r.refuse(T1).unwrap();
        assert_eq!(r.sign(T2), Err(TransitionError::AlreadyRefused));
        assert_eq!(r.stage.status(), Status::Refused);
    }

    #[test]
    fn only_the_first_view_moves_the_stage() {
        let mut s = ServiceState::deposited(Provenance::Confirmed, T0);
        s.view(T1);
        s.view(T2);
        assert_eq!(s.first_viewed_at, Some(T1));
        s.sign(T2).unwrap();
        s.view(T2);
        assert_eq!(s.stage, Stage::Signed);
    }

    #[test]
    fn codes_round_trip() {
        for r in RefusalReason::ALL {
            assert_eq!(RefusalReason::parse(r.as_str()), Some(r));
        }
        for s in [
            Stage::Deposited,
            Stage::Viewed,
            Stage::Signed,
            Stage::Refused,
        ] {
            assert_eq!(Stage::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            ServiceRule::parse("inbox_deposit_confirmed_address"),
            Some(ServiceRule::InboxDepositConfirmedAddress)
        );
    }

    #[test]
    fn of_several_channels_the_platform_deposit_comes_first_and_fixes_the_time() {
        use crate::consent::Channel;
        // The email is accepted after the deposit: both arrivals count, the platform's
        // fixed the time.
        let mut s = ServiceState::deposited(Provenance::Confirmed, T0);
        s.email_arrived(T1);
        s.email_arrived(T2);
        assert_eq!(
            s.email_arrived_at,
            Some(T1),
            "the first acceptance is the arrival"
        );
        assert_eq!(
            s.legal_time().map(|l| (l.at, l.rule)),
            Some((T0, ServiceRule::InboxDepositConfirmedAddress))
        );
        let c = s.completions();
        assert_eq!(
            c.iter()
                .map(|c| (c.channel, c.at, c.counts, c.fixed))
                .collect::<Vec<_>>(),
            [
                (Channel::Platform, T0, true, true),
                (Channel::Email, T1, true, false)
            ]
        );
        // An acceptance stamped before the deposit (a worker's clock behind) is taken as
        // the deposit's time: it cannot have come first.
        let mut s = ServiceState::deposited(Provenance::Confirmed, T1);
        s.email_arrived(T0);
        assert_eq!(s.email_arrived_at, Some(T1));
        assert!(s.completions()[0].fixed && !s.completions()[1].fixed);
        // At a court-obtained address neither arrival serves: only the recipient's act.
        let mut s = ServiceState::deposited(Provenance::CourtObtained, T0);
        s.email_arrived(T1);
        assert_eq!(s.legal_time(), None);
        assert!(s.completions().iter().all(|c| !c.counts && !c.fixed));
        s.sign(T2).unwrap();
        assert_eq!(
            s.legal_time().map(|l| l.rule),
            Some(ServiceRule::RecipientSignOff)
        );
    }
}
