//! Time limits that service starts (DOMAIN.md section 4), counted as CPL Art. 85 says: the
//! day of service is not counted; a limit whose last day is a rest day (a weekend or an
//! official holiday) ends on the next working day. Make-up working days (调休上班日, a
//! Saturday or Sunday worked in exchange for a longer holiday) are working days.
//!
//! Which days are holidays and which are make-up working days is data: the State Council
//! announces each year's schedule in the autumn before. [`Calendar::builtin`] carries the
//! announced years (`holidays.txt`); a deployment adds later years as they are announced.

use crate::document::DocType;
use crate::timefmt::court_date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use time::{Date, Duration, OffsetDateTime, Weekday};

/// Official holidays and make-up working days, by date.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calendar {
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
}

/// A line of calendar data that cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CalendarError {
    pub line: usize,
    pub message: String,
}

impl Calendar {
    /// The schedules announced so far (State Council notices, listed in `holidays.txt`).
    pub fn builtin() -> Self {
        Self::parse(Self::BUILTIN).expect("the built-in calendar is valid")
    }

    /// The built-in calendar data, in the format [`Calendar::parse`] reads.
    pub const BUILTIN: &'static str = include_str!("holidays.txt");

    /// Reads calendar data: one entry per line, `holiday YYYY-MM-DD[..YYYY-MM-DD]` or
    /// `workday YYYY-MM-DD` (a make-up working day); `#` starts a comment.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let mut cal = Self::default();
        cal.apply(text)?;
        Ok(cal)
    }

    /// Applies calendar data over this calendar, line by line: a later line wins, so
    /// `workday` cancels a holiday listed before and `holiday` a make-up working day. On
    /// error the calendar is left as it was.
    pub fn apply(&mut self, text: &str) -> Result<(), CalendarError> {
        let mut cal = self.clone();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let err = |message: String| CalendarError {
                line: i + 1,
                message,
            };
            let (kind, dates) = line.split_once(char::is_whitespace).ok_or_else(|| {
                err(format!(
                    "{line:?} is not \"holiday DATE\" or \"workday DATE\""
                ))
            })?;
            let dates = dates.trim();
            let (from, to) = match dates.split_once("..") {
                Some((a, b)) => (parse_date(a).map_err(err)?, parse_date(b).map_err(err)?),
                None => {
                    let d = parse_date(dates).map_err(err)?;
                    (d, d)
                }
            };
            if to < from || (to - from).whole_days() > 31 {
                return Err(err(format!("{dates} is not a range of at most a month")));
            }
            let mut day = from;
            loop {
                match kind {
                    "holiday" => cal.add_holiday(day),
                    "workday" => cal.add_workday(day),
                    other => return Err(err(format!("{other:?} is not holiday or workday"))),
                }
                if day == to {
                    break;
                }
                day = day
                    .next_day()
                    .ok_or_else(|| err("a date past the calendar's end".into()))?;
            }
        }
        *self = cal;
        Ok(())
    }

    pub fn add_holiday(&mut self, day: Date) {
        self.workdays.remove(&day);
        self.holidays.insert(day);
    }

    pub fn add_workday(&mut self, day: Date) {
        self.holidays.remove(&day);
        self.workdays.insert(day);
    }

    /// A day on which a time limit does not end: a weekend not worked, or a holiday.
    pub fn is_rest_day(&self, day: Date) -> bool {
        if self.workdays.contains(&day) {
            return false;
        }
        self.holidays.contains(&day) || matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// The years the calendar has data for: outside them only weekends are known.
    pub fn years(&self) -> BTreeSet<i32> {
        self.holidays
            .iter()
            .chain(&self.workdays)
            .map(|d| d.year())
            .collect()
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &format)
        .map_err(|_| format!("{:?} is not a date (YYYY-MM-DD)", text.trim()))
}

/// A time limit counted from the day of service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// The last day counted by days alone.
    pub nominal: Date,
    /// The last day, moved past rest days.
    pub ends: Date,
}

impl Deadline {
    /// `days` days from the day of service `served_on` (which is not counted), ending on
    /// the first working day from the last one counted.
    pub fn counted(served_on: Date, days: u32, calendar: &Calendar) -> Self {
        let nominal = served_on + Duration::days(days.into());
        let mut ends = nominal;
        while calendar.is_rest_day(ends) {
            ends = ends.next_day().unwrap_or(ends);
        }
        Self { nominal, ends }
    }

    /// Whether the last day was moved past a rest day.
    pub fn moved(&self) -> bool {
        self.ends != self.nominal
    }
}

/// The kinds of time limit that service of a document starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// 上诉期限: to appeal a judgment or an appealable ruling (CPL Art. 171).
    Appeal,
    /// 答辩期限: the defendant's answer to the complaint (CPL Art. 128).
    Answer,
    /// 举证期限: to produce evidence, as the court sets it (CPL Art. 68; Evidence Provisions
    /// Art. 51).
    Evidence,
}

impl LimitKind {
    pub const ALL: [LimitKind; 3] = [LimitKind::Appeal, LimitKind::Answer, LimitKind::Evidence];

    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Appeal => "appeal",
            LimitKind::Answer => "answer",
            LimitKind::Evidence => "evidence",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            LimitKind::Appeal => "上诉期限",
            LimitKind::Answer => "答辩期限",
            LimitKind::Evidence => "举证期限",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            LimitKind::Appeal => "Time to appeal",
            LimitKind::Answer => "Time to answer",
            LimitKind::Evidence => "Time to produce evidence",
        }
    }

    /// The provision that sets the limit.
    pub fn basis(self) -> &'static str {
        match self {
            LimitKind::Appeal => "CPL Art. 171",
            LimitKind::Answer => "CPL Art. 128",
            LimitKind::Evidence => "CPL Art. 68; Evidence Provisions Art. 51",
        }
    }
}

/// A time limit a served document starts: its kind and length in days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    pub kind: LimitKind,
    pub days: u32,
}

impl TimeLimit {
    /// The longest limit a court may set here: a year.
    pub const MAX_DAYS: u32 = 366;

    /// The limit the law sets for a type of document, unless the court says otherwise: 15
    /// days to appeal a judgment and 10 to appeal a ruling (CPL Art. 171; a ruling that
    /// cannot be appealed is uploaded without one), 15 days to answer a complaint (CPL Art.
    /// 128). An evidence period has no default: the court sets it in its notice.
    pub fn default_for(doc_type: DocType) -> Option<Self> {
        let (kind, days) = match doc_type {
            DocType::Judgment => (LimitKind::Appeal, 15),
            DocType::Ruling => (LimitKind::Appeal, 10),
            DocType::ComplaintCopy => (LimitKind::Answer, 15),
            _ => return None,
        };
        Some(Self { kind, days })
    }

    /// When this limit ends for a document served at `served_at`.
    pub fn from_service(self, served_at: OffsetDateTime, calendar: &Calendar) -> Deadline {
        Deadline::counted(court_date(served_at), self.days, calendar)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_day_of_service_is_not_counted_and_an_ordinary_last_day_stands() {
        let cal = Calendar::builtin();
        // Served Tuesday 2026-03-03; 15 days end Wednesday 2026-03-18.
        let d = Deadline::counted(date!(2026 - 03 - 03), 15, &cal);
        assert_eq!(
            (d.nominal, d.ends, d.moved()),
            (date!(2026 - 03 - 18), date!(2026 - 03 - 18), false)
        );
    }

    #[test]
    fn a_last_day_on_a_weekend_moves_to_the_monday() {
        let cal = Calendar::builtin();
        // Served Thursday 2026-03-05; 10 days end Sunday 2026-03-15: Monday the 16th.
        let d = Deadline::counted(date!(2026 - 03 - 05), 10, &cal);
        assert_eq!(
            (d.nominal, d.ends),
            (date!(2026 - 03 - 15), date!(2026 - 03 - 16))
        );
    }

    #[test]
    fn a_last_day_in_a_holiday_moves_past_all_of_it() {
        let cal = Calendar::builtin();
        // Served 2026-09-16; 15 days end Thursday 2026-10-01, in the National Day holiday
        // (October 1 to 7): Thursday 2026-10-08.
        let d = Deadline::counted(date!(2026 - 09 - 16), 15, &cal);
        assert_eq!(
            (d.nominal, d.ends),
            (date!(2026 - 10 - 01), date!(2026 - 10 - 08))
        );
        // Spring Festival 2026: February 15 to 23.
        let d = Deadline::counted(date!(2026 - 02 - 05), 10, &cal);
        assert_eq!(
            (d.nominal, d.ends),
            (date!(2026 - 02 - 15), date!(2026 - 02 - 24))
        );
    }

    #[test]
    fn a_last_day_on_a_make_up_working_day_stands() {
        let cal = Calendar::builtin();
        // Saturday 2026-02-14 and Sunday 2026-09-20 are worked.
        for (served, days, last) in [
            (date!(2026 - 02 - 04), 10, date!(2026 - 02 - 14)),
            (date!(2026 - 09 - 05), 15, date!(2026 - 09 - 20)),
            (date!(2026 - 09 - 25), 15, date!(2026 - 10 - 10)),
        ] {
            let d = Deadline::counted(served, days, &cal);
            assert_eq!((d.ends, d.moved()), (last, false), "{served}");
        }
        // Saturday 2026-01-03 is a holiday and Sunday 2026-01-04 is worked: a limit whose
        // last day is the 3rd ends on the 4th, a Sunday.
        let d = Deadline::counted(date!(2025 - 12 - 19), 15, &cal);
        assert_eq!(
            (d.nominal, d.ends),
            (date!(2026 - 01 - 03), date!(2026 - 01 - 04))
        );
    }

    #[test]
    fn service_late_in_the_day_counts_from_the_court_date() {
        use time::macros::datetime;
        let cal = Calendar::builtin();
        let appeal = TimeLimit::default_for(DocType::Judgment).unwrap();
        // 2026-03-02 17:30 UTC is 01:30 on Tuesday March 3 in Beijing: the day of service
        // is the 3rd.
        let d = appeal.from_service(datetime!(2026-03-02 17:30 UTC), &cal);
        assert_eq!(d.ends, date!(2026 - 03 - 18));
        assert_eq!(
            TimeLimit::default_for(DocType::Ruling).map(|l| l.days),
            Some(10)
        );
        assert_eq!(
            TimeLimit::default_for(DocType::ComplaintCopy).map(|l| l.kind),
            Some(LimitKind::Answer)
        );
        assert_eq!(TimeLimit::default_for(DocType::Notice), None);
        assert_eq!(LimitKind::parse("evidence"), Some(LimitKind::Evidence));
    }

    #[test]
    fn calendar_data_is_checked_line_by_line() {
        let cal = Calendar::parse(
            "# comment\nholiday 2030-10-01..2030-10-07 # national day\nworkday 2030-09-29\n",
        )
        .unwrap();
        assert!(cal.is_rest_day(date!(2030 - 10 - 07)));
        assert!(!cal.is_rest_day(date!(2030 - 09 - 29)), "a worked Sunday");
        assert_eq!(cal.years(), BTreeSet::from([2030]));
        for (bad, line) in [
            ("holiday 2030-13-01", 1),
            ("\nholliday 2030-10-01", 2),
            ("holiday 2030-10-07..2030-10-01", 1),
            ("holiday 2030-01-01..2030-03-01", 1),
            ("workday", 1),
        ] {
            assert_eq!(Calendar::parse(bad).unwrap_err().line, line, "{bad:?}");
        }
        assert!(Calendar::builtin().years().contains(&2026));
        // Local data over the built-in calendar: a day off added, a holiday worked.
        let mut cal = Calendar::builtin();
        cal.apply("holiday 2026-03-18\nworkday 2026-10-08").unwrap();
        assert!(cal.is_rest_day(date!(2026 - 03 - 18)));
        assert!(!cal.is_rest_day(date!(2026 - 10 - 08)));
        assert!(cal.apply("holiday 2026-03-19\nnonsense").is_err());
        assert!(
            !cal.is_rest_day(date!(2026 - 03 - 19)),
            "a failed apply changes nothing"
        );
    }
}
