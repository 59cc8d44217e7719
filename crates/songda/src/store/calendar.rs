//! The holiday calendar's local data: what an administrator adds over the built-in
//! calendar, kept as numbered versions.

use super::{Result, Store, conflict_on_unique, parse_time, ts};
use songda_core::ids::UserId;
use time::OffsetDateTime;

/// One saved version of the local calendar data.
#[derive(Clone, Debug)]
pub struct CalendarVersion {
    pub version: i64,
    pub body: String,
    pub saved_by: String,
    pub saved_at: OffsetDateTime,
}

row_struct! {
    struct Row {
        version: i64,
        body: String,
        saved_by: String,
        saved_at: String,
    }
}

impl Row {
    fn into_record(self) -> Result<CalendarVersion> {
        Ok(CalendarVersion {
            version: self.version,
            body: self.body,
            saved_by: self.saved_by,
            saved_at: parse_time(&self.saved_at)?,
        })
    }
}

const SELECT: &str = "SELECT k.version, k.body, u.name AS saved_by, k.saved_at
     FROM calendars k JOIN users u ON u.id = k.saved_by";

impl Store {
    /// The latest local calendar data, if an administrator saved any.
    pub async fn calendar(&self) -> Result<Option<CalendarVersion>> {
        let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} ORDER BY k.version DESC LIMIT 1"
        )))
        .fetch_optional(self.reader())
        .await?;
        row.map(Row::into_record).transpose()
    }

    /// Every saved version, newest first.
    pub async fn calendar_versions(&self) -> Result<Vec<CalendarVersion>> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} ORDER BY k.version DESC"
        )))
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(Row::into_record).collect()
    }

    /// Saves a new version of the local calendar data (already checked) and returns its
    /// number. Two saves at once: one wins, the other is a `calendar_changed` conflict.
    pub async fn save_calendar(&self, body: &str, by: UserId, now: OffsetDateTime) -> Result<i64> {
        let mut tx = self.begin().await?;
        let (last,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM calendars")
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO calendars (version, body, saved_by, saved_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(last + 1)
        .bind(body)
        .bind(by.to_string())
        .bind(ts(now))
        .execute(&mut *tx)
        .await
        .map_err(conflict_on_unique("calendar_changed"))?;
        tx.commit().await?;
        Ok(last + 1)
    }
}
