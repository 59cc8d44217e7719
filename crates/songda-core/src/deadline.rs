//! Time limits that service starts (DOMAIN.md section 4), counted as CPL Art. 85 says: the
//! day of service is not counted; a limit whose last day is a rest day (a weekend or an
//! official holiday) ends on the next working day. Make-up working days (调休上班日, a
//! Saturday or Sunday worked in exchange for a longer holiday) are working days.
//!
//! Which days are holidays and which are make-up working days is data: the State Council
//! announces each year's schedule in the autumn before. [`Calendar::builtin`] carries the
//! announced years (`holidays.txt`); a deployment adds later years as they are announced.

use std::collections::BTreeSet;
use time::{Date, Duration, Weekday};

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
        Self::parse(include_str!("holidays.txt")).expect("the built-in calendar is valid")
    }

    /// Reads calendar data: one entry per line, `holiday YYYY-MM-DD[..YYYY-MM-DD]` or
    /// `workday YYYY-MM-DD` (a make-up working day); `#` starts a comment.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let mut cal = Self::default();
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
        Ok(cal)
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
    }
}
