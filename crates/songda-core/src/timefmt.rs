//! How times are written: RFC 3339 UTC on the wire and in storage, and the court's local
//! time (Asia/Shanghai, UTC+8, no daylight saving) on screens and certificates.

use time::format_description::well_known::Rfc3339;
use time::macros::{format_description, offset};
use time::{Date, OffsetDateTime, UtcOffset};

/// China Standard Time. China has kept UTC+8 without daylight saving since 1992, so a
/// fixed offset is exact for every date the platform can see.
pub const COURT_OFFSET: UtcOffset = offset!(+8);

/// RFC 3339 in UTC with microseconds, e.g. `2026-11-29T07:21:00.123456Z`. Fixed width, so
/// the text sorts like the time.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.format(&fmt)
        .unwrap_or_else(|_| t.format(&Rfc3339).unwrap_or_default())
}

/// Parses any RFC 3339 time.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// `2026-11-29 15:21` in court time, the form UX.md asks for.
pub fn court_minutes(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]");
    t.to_offset(COURT_OFFSET).format(&fmt).unwrap_or_default()
}

/// `2026-11-29 15:21:07` in court time, for evidence timelines.
pub fn court_seconds(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.to_offset(COURT_OFFSET).format(&fmt).unwrap_or_default()
}

/// The calendar date in court time: legal dates (dispatch, deadlines) are local dates.
pub fn court_date(t: OffsetDateTime) -> Date {
    t.to_offset(COURT_OFFSET).date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn utc_text_is_fixed_width_and_round_trips() {
        let t = datetime!(2026-11-29 07:21:00.5 UTC);
        let s = rfc3339(t);
        assert_eq!(s, "2026-11-29T07:21:00.500000Z");
        assert_eq!(parse_rfc3339(&s), Some(t));
    }

    #[test]
    fn court_time_is_eight_hours_ahead() {
        let t = datetime!(2021-12-31 16:30 UTC);
        assert_eq!(court_minutes(t), "2022-01-01 00:30");
        assert_eq!(court_date(t), time::macros::date!(2022 - 01 - 01));
    }
}
