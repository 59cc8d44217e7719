//! Consent to electronic service and the confirmed service address (送达地址确认书).
//!
//! Electronic service needs the recipient's consent (CPL Art. 90; Online Litigation Rules
//! Art. 29). The confirmation shows the notices below; what the recipient acknowledged is
//! recorded with the notice version, so a record keeps the text it was given under.
//! Withdrawal works for the future only.

use serde::{Deserialize, Serialize};

/// How consent was given (DOMAIN.md section 3). Logging in is not consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentBasis {
    /// Express consent on the platform (the address confirmation).
    Express,
    /// Agreed before the dispute, e.g. in a contract clause.
    PriorAgreement,
    /// An electronic address the party gave in its own filing.
    FilingAddress,
    /// Acceptance by conduct: replied to or acted on a served document without objecting.
    Conduct,
}

impl ConsentBasis {
    pub const ALL: [ConsentBasis; 4] = [
        ConsentBasis::Express,
        ConsentBasis::PriorAgreement,
        ConsentBasis::FilingAddress,
        ConsentBasis::Conduct,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentBasis::Express => "express",
            ConsentBasis::PriorAgreement => "prior_agreement",
            ConsentBasis::FilingAddress => "filing_address",
            ConsentBasis::Conduct => "conduct",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }
    /// Bases a clerk may record on the party's behalf, with the paper that shows them.
    /// Express consent is only ever given by the recipient on the platform.
    pub fn clerk_may_record(self) -> bool {
        matches!(
            self,
            ConsentBasis::PriorAgreement | ConsentBasis::FilingAddress
        )
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ConsentBasis::Express => "受送达人在平台明示同意",
            ConsentBasis::PriorAgreement => "纠纷发生前约定电子送达",
            ConsentBasis::FilingAddress => "在起诉状、答辩状等诉讼文书中主动提供电子地址",
            ConsentBasis::Conduct => "通过回复、使用所送达文书等行为表示接受",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            ConsentBasis::Express => "Express consent on the platform",
            ConsentBasis::PriorAgreement => "Agreed before the dispute",
            ConsentBasis::FilingAddress => "Electronic address given in the party's own filing",
            ConsentBasis::Conduct => "Acceptance by conduct",
        }
    }
}

/// Where an address came from; it decides which effect rule applies (DOMAIN.md section 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Given or confirmed by the recipient.
    Confirmed,
    /// Found by the court, e.g. a number in active use in the last three months.
    CourtObtained,
}

impl Provenance {
    pub fn as_str(self) -> &'static str {
        match self {
            Provenance::Confirmed => "confirmed",
            Provenance::CourtObtained => "court_obtained",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confirmed" => Some(Provenance::Confirmed),
            "court_obtained" => Some(Provenance::CourtObtained),
            _ => None,
        }
    }
}

/// A delivery channel. The platform inbox is where documents are deposited; SMS and email
/// notify (and, in later regimes of configuration, may carry documents themselves).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Platform,
    Sms,
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Platform => "platform",
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "platform" => Some(Channel::Platform),
            "sms" => Some(Channel::Sms),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// The version of the notice text below. Bump it whenever a word changes: each recorded
/// confirmation names the version the recipient saw.
pub const NOTICE_VERSION: &str = "2026-11-v1";

/// One paragraph of the address confirmation notice, in both languages.
pub struct NoticeParagraph {
    pub heading_zh: &'static str,
    pub heading_en: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
}

/// The notices of the address confirmation (Interpretation Art. 136; Online Rules Art. 30):
/// scope, legal effect, how to change the address, consequence of a wrong address.
pub const NOTICE: [NoticeParagraph; 4] = [
    NoticeParagraph {
        heading_zh: "一、电子送达的范围",
        heading_en: "1. Scope of electronic service",
        zh: "本院将通过本平台向您送达本案的诉讼文书，包括传票、通知书、起诉状副本、证据材料以及依法可以电子送达的判决书、裁定书、调解书等。送达时将以短信和/或电子邮件提醒您登录查看。",
        en: "The court will serve the litigation documents of this case on you through this platform, including summonses, notices, copies of the complaint, evidence and, where the law allows, judgments, rulings and mediation documents. You will be reminded by SMS and/or email to log in and view them.",
    },
    NoticeParagraph {
        heading_zh: "二、电子送达的法律效力",
        heading_en: "2. Legal effect",
        zh: "电子送达与直接送达具有同等法律效力。文书送达至本平台您的账户（送达至平台）即视为送达，送达日期为文书到达您的平台账户之日，不以您是否登录、阅读为准（《中华人民共和国民事诉讼法》第九十条、《人民法院在线诉讼规则》第三十一条）。",
        en: "Electronic service has the same legal effect as personal service. A document is served when it reaches your platform inbox; the date of service is the date it arrives there, whether or not you log in or read it (Civil Procedure Law Art. 90; Online Litigation Rules Art. 31).",
    },
    NoticeParagraph {
        heading_zh: "三、送达地址的变更",
        heading_en: "3. Changing the address",
        zh: "送达地址（手机号码、电子邮箱）发生变更的，您应及时在本平台更新或书面告知本院；未告知的，原地址继续有效。您可以撤回对电子送达的同意，撤回仅对今后的送达生效，不影响此前已完成的送达。",
        en: "If your phone number or email changes, update it on the platform or tell the court in writing without delay; until you do, the old address stays valid. You may withdraw your consent to electronic service; a withdrawal takes effect for future services only and does not undo services already completed.",
    },
    NoticeParagraph {
        heading_zh: "四、地址不准确的后果",
        heading_en: "4. Consequence of a wrong address",
        zh: "因您提供或确认的送达地址不准确、变更后未及时告知，或者您本人或指定的代收人拒绝签收，导致诉讼文书未能被实际接收的，文书到达上述地址之日视为送达之日，相应的法律后果由您承担。本确认书对本案一审、二审、再审及执行程序均有效。",
        en: "If a document is not actually received because the address you gave or confirmed is wrong, or you did not report a change, or you or your designated recipient refused it, the date it reached that address is the date of service and you bear the legal consequences. This confirmation applies to first instance, appeal, retrial and enforcement of this case.",
    },
];
