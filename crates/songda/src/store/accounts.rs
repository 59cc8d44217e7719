//! Accounts, courts, sessions, phone verification codes, rate-limit counters and the
//! authentication log.

use super::{Result, Store, StoreError, Tx, conflict_on_unique, parse_id, parse_time, ts};
use crate::store::outbox::{NewNotification, enqueue};
use songda_core::ids::{CourtId, UserId};
use time::{Duration, OffsetDateTime};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Clerk,
    Party,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::Party => "party",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "clerk" => Some(Role::Clerk),
            "party" => Some(Role::Party),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Court {
    pub id: CourtId,
    pub name: String,
    pub regime: Option<String>,
    /// Also serves by email: notices to a confirmed email address carry the documents.
    pub email_documents: bool,
}

#[derive(Clone)]
pub struct User {
    pub id: UserId,
    pub role: Role,
    pub name: String,
    pub login: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub password_hash: String,
    pub phone_verified: bool,
    pub court_id: Option<CourtId>,
}

impl std::fmt::Debug for User {
    // The password hash stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

pub struct NewUser<'a> {
    pub role: Role,
    pub name: &'a str,
    pub login: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub phone_verified_at: Option<OffsetDateTime>,
    pub court_id: Option<CourtId>,
}

row_struct! {
    struct UserRow {
        id: String,
        role: String,
        name: String,
        login: Option<String>,
        phone: Option<String>,
        email: Option<String>,
        password_hash: String,
        phone_verified_at: Option<String>,
        court_id: Option<String>,
    }
}

impl UserRow {
    fn into_user(self) -> Result<User> {
        Ok(User {
            id: parse_id(&self.id)?,
            role: Role::parse(&self.role)
                .ok_or_else(|| StoreError::Corrupt(format!("role {}", self.role)))?,
            name: self.name,
            login: self.login,
            phone: self.phone,
            email: self.email,
            password_hash: self.password_hash,
            phone_verified: self.phone_verified_at.is_some(),
            court_id: self.court_id.as_deref().map(parse_id).transpose()?,
        })
    }
}

const USER_COLUMNS: &str =
    "id, role, name, login, phone, email, password_hash, phone_verified_at, court_id";

#[derive(Clone, Debug)]
pub struct Session {
    pub user: User,
    pub kind: String,
    pub csrf: String,
    pub expires_at: OffsetDateTime,
}

/// A pending phone verification code.
#[derive(Clone, Debug)]
pub struct PhoneCode {
    pub code_hmac: String,
    pub expires_at: OffsetDateTime,
    pub attempts: i64,
    pub sent_at: OffsetDateTime,
}

pub struct AuthLogEntry<'a> {
    pub at: OffsetDateTime,
    pub user_id: Option<UserId>,
    pub login: &'a str,
    pub action: &'a str,
    pub outcome: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// (code_hmac, expires_at, attempts, sent_at) as stored.
type PhoneCodeRow = (String, String, i64, String);

impl PhoneCode {
    fn from_row((code_hmac, expires_at, attempts, sent_at): PhoneCodeRow) -> Result<Self> {
        Ok(PhoneCode {
            code_hmac,
            expires_at: parse_time(&expires_at)?,
            attempts,
            sent_at: parse_time(&sent_at)?,
        })
    }
}

impl Store {
    /// The court of this name, created if new.
    pub async fn ensure_court(&self, name: &str, now: OffsetDateTime) -> Result<Court> {
        let mut tx = self.begin().await?;
        let court = ensure_court_tx(&mut tx, name, now).await?;
        tx.commit().await?;
        Ok(court)
    }

    pub async fn court(&self, id: CourtId) -> Result<Court> {
        let row: Option<(String, String, Option<String>, i64)> =
            sqlx::query_as("SELECT id, name, regime, email_documents FROM courts WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(self.reader())
                .await?;
        let (id, name, regime, email_documents) = row.ok_or(StoreError::NotFound)?;
        Ok(Court {
            id: parse_id(&id)?,
            name,
            regime,
            email_documents: email_documents != 0,
        })
    }

    /// Every court, by name.
    pub async fn courts(&self) -> Result<Vec<Court>> {
        let rows: Vec<(String, String, Option<String>, i64)> =
            sqlx::query_as("SELECT id, name, regime, email_documents FROM courts ORDER BY name")
                .fetch_all(self.reader())
                .await?;
        rows.into_iter()
            .map(|(id, name, regime, email_documents)| {
                Ok(Court {
                    id: parse_id(&id)?,
                    name,
                    regime,
                    email_documents: email_documents != 0,
                })
            })
            .collect()
    }

    pub async fn set_court_regime(&self, id: CourtId, regime: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE courts SET regime = $1 WHERE id = $2")
            .bind(regime)
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Whether a court also serves by email, documents attached.
    pub async fn set_court_email_documents(&self, id: CourtId, on: bool) -> Result<()> {
        sqlx::query("UPDATE courts SET email_documents = $1 WHERE id = $2")
            .bind(i64::from(on))
            .bind(id.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn create_user(&self, new: &NewUser<'_>, now: OffsetDateTime) -> Result<User> {
        let mut tx = self.begin().await?;
        let id = insert_user(&mut tx, new, now).await?;
        tx.commit().await?;
        self.user(id).await
    }

    /// Registers a party account and queues its phone verification code, atomically.
    pub async fn register_party(
        &self,
        new: &NewUser<'_>,
        code: &NewPhoneCode,
        sms: &NewNotification,
        now: OffsetDateTime,
    ) -> Result<User> {
        let mut tx = self.begin().await?;
        let id = insert_user(&mut tx, new, now).await?;
        put_phone_code(&mut tx, code).await?;
        enqueue(&mut tx, sms).await?;
        tx.commit().await?;
        self.user(id).await
    }

    pub async fn user(&self, id: UserId) -> Result<User> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(self.reader())
        .await?;
        row.ok_or(StoreError::NotFound)?.into_user()
    }

    /// The user whose login name, phone or email is `login`.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE login = $1 OR phone = $1 OR email = $1 LIMIT 1"
        )))
        .bind(login)
        .fetch_optional(self.reader())
        .await?;
        row.map(UserRow::into_user).transpose()
    }

    pub async fn user_by_phone(&self, phone: &str) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE phone = $1"
        )))
        .bind(phone)
        .fetch_optional(self.reader())
        .await?;
        row.map(UserRow::into_user).transpose()
    }

    pub async fn users_by_role(&self, role: Role) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE role = $1 ORDER BY created_at"
        )))
        .bind(role.as_str())
        .fetch_all(self.reader())
        .await?;
        rows.into_iter().map(UserRow::into_user).collect()
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: UserId,
        kind: &str,
        csrf: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, kind, csrf, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash)
        .bind(user_id.to_string())
        .bind(kind)
        .bind(csrf)
        .bind(ts(now))
        .bind(ts(now + ttl))
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The live session for a token hash, with its user.
    pub async fn session(&self, token_hash: &str, now: OffsetDateTime) -> Result<Option<Session>> {
        let row: Option<(String, String, String, String)> = sqlx::query_as(
            "SELECT user_id, kind, csrf, expires_at FROM sessions
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(ts(now))
        .fetch_optional(self.reader())
        .await?;
        let Some((user_id, kind, csrf, expires_at)) = row else {
            return Ok(None);
        };
        let user = self.user(parse_id(&user_id)?).await?;
        Ok(Some(Session {
            user,
            kind,
            csrf,
            expires_at: parse_time(&expires_at)?,
        }))
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn phone_code(&self, phone: &str) -> Result<Option<PhoneCode>> {
        let row: Option<PhoneCodeRow> = sqlx::query_as(
            "SELECT code_hmac, expires_at, attempts, sent_at FROM phone_codes WHERE phone = $1",
        )
        .bind(phone)
        .fetch_optional(&self.writer)
        .await?;
        row.map(PhoneCode::from_row).transpose()
    }

    /// Takes one try of the phone's current code, if fewer than `max` were taken: the
    /// count goes up before the code is compared, in one statement, so that concurrent
    /// guesses (from any number of processes) never get more than `max` tries between them.
    /// `None`: no code, or its tries are used up.
    pub async fn take_phone_code_try(&self, phone: &str, max: i64) -> Result<Option<PhoneCode>> {
        let row: Option<PhoneCodeRow> = sqlx::query_as(
            "UPDATE phone_codes SET attempts = attempts + 1 WHERE phone = $1 AND attempts < $2
             RETURNING code_hmac, expires_at, attempts, sent_at",
        )
        .bind(phone)
        .bind(max)
        .fetch_optional(self.writer())
        .await?;
        row.map(PhoneCode::from_row).transpose()
    }

    /// Replaces the phone's code with a new one and queues the SMS that carries it.
    pub async fn resend_phone_code(
        &self,
        code: &NewPhoneCode,
        sms: &NewNotification,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        put_phone_code(&mut tx, code).await?;
        enqueue(&mut tx, sms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Marks the phone verified and spends its code, so it can never be used again.
    pub async fn mark_phone_verified(&self, phone: &str, now: OffsetDateTime) -> Result<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE users SET phone_verified_at = $1 WHERE phone = $2 AND phone_verified_at IS NULL",
        )
        .bind(ts(now))
        .bind(phone)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM phone_codes WHERE phone = $1")
            .bind(phone)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts a hit on `key` in a fixed window and says whether it is within `max`.
    /// Returns the seconds until the window ends when over the limit.
    pub async fn rate_limit(
        &self,
        key: &str,
        max: i64,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<Result<(), i64>> {
        // One statement, so that concurrent requests (other processes included) each
        // count: a window that ran out starts again at 1.
        let (start, count): (String, i64) = sqlx::query_as(
            "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1)
             ON CONFLICT (key) DO UPDATE SET
                window_start = CASE WHEN rate_limits.window_start <= $3
                                    THEN excluded.window_start ELSE rate_limits.window_start END,
                count = CASE WHEN rate_limits.window_start <= $3
                             THEN 1 ELSE rate_limits.count + 1 END
             RETURNING window_start, count",
        )
        .bind(key)
        .bind(ts(now))
        .bind(ts(now - window))
        .fetch_one(self.writer())
        .await?;
        let start = parse_time(&start)?;
        if count > max {
            let left = (start + window - now).whole_seconds().max(1);
            Ok(Err(left))
        } else {
            Ok(Ok(()))
        }
    }

    /// Whether `key` is already over `max` in its window, without counting a hit.
    pub async fn rate_limited(
        &self,
        key: &str,
        max: i64,
        window: Duration,
        now: OffsetDateTime,
    ) -> Result<Option<i64>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT window_start, count FROM rate_limits WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.writer)
                .await?;
        Ok(match row {
            Some((start, count)) => {
                let start = parse_time(&start)?;
                (now - start < window && count >= max)
                    .then(|| (start + window - now).whole_seconds().max(1))
            }
            None => None,
        })
    }

    pub async fn log_auth(&self, e: &AuthLogEntry<'_>) -> Result<()> {
        sqlx::query(
            "INSERT INTO auth_log (id, at, user_id, login, action, outcome, ip, user_agent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(ts(e.at))
        .bind(e.user_id.map(|u| u.to_string()))
        .bind(e.login)
        .bind(e.action)
        .bind(e.outcome)
        .bind(e.ip)
        .bind(e.user_agent)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

pub struct NewPhoneCode {
    pub phone: String,
    pub code_hmac: String,
    pub expires_at: OffsetDateTime,
    pub sent_at: OffsetDateTime,
}

async fn put_phone_code(tx: &mut Tx<'_>, c: &NewPhoneCode) -> Result<()> {
    sqlx::query(
        "INSERT INTO phone_codes (phone, code_hmac, expires_at, attempts, sent_at)
         VALUES ($1, $2, $3, 0, $4)
         ON CONFLICT (phone) DO UPDATE SET code_hmac = excluded.code_hmac,
           expires_at = excluded.expires_at, attempts = 0, sent_at = excluded.sent_at",
    )
    .bind(&c.phone)
    .bind(&c.code_hmac)
    .bind(ts(c.expires_at))
    .bind(ts(c.sent_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn ensure_court_tx(
    tx: &mut Tx<'_>,
    name: &str,
    now: OffsetDateTime,
) -> Result<Court> {
    // Insert-if-absent, then read: concurrent callers (in any process) all get the one
    // court the first of them made.
    sqlx::query(
        "INSERT INTO courts (id, name, regime, created_at) VALUES ($1, $2, NULL, $3)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(CourtId::new().to_string())
    .bind(name)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    let (id, regime, email_documents): (String, Option<String>, i64) =
        sqlx::query_as("SELECT id, regime, email_documents FROM courts WHERE name = $1")
            .bind(name)
            .fetch_one(&mut **tx)
            .await?;
    Ok(Court {
        id: parse_id(&id)?,
        name: name.to_string(),
        regime,
        email_documents: email_documents != 0,
    })
}

async fn insert_user(tx: &mut Tx<'_>, new: &NewUser<'_>, now: OffsetDateTime) -> Result<UserId> {
    // Each unique column is checked first so the caller learns which one clashed.
    for (col, val, what) in [
        ("login", new.login, "login_taken"),
        ("phone", new.phone, "phone_taken"),
        ("email", new.email, "email_taken"),
    ] {
        if let Some(v) = val {
            let taken: Option<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT 1 FROM users WHERE {col} = $1"
            )))
            .bind(v)
            .fetch_optional(&mut **tx)
            .await?;
            if taken.is_some() {
                return Err(StoreError::Conflict(what));
            }
        }
    }
    let id = UserId::new();
    sqlx::query(
        "INSERT INTO users (id, role, name, login, phone, email, password_hash, phone_verified_at, court_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id.to_string())
    .bind(new.role.as_str())
    .bind(new.name)
    .bind(new.login)
    .bind(new.phone)
    .bind(new.email)
    .bind(new.password_hash)
    .bind(new.phone_verified_at.map(ts))
    .bind(new.court_id.map(|c| c.to_string()))
    .bind(ts(now))
    .execute(&mut **tx)
    .await
    .map_err(conflict_on_unique("account_exists"))?;
    Ok(id)
}

impl Store {
    /// Records `value` under `key` unless a value is already there; returns what is stored.
    /// Facts every process of a deployment must agree on (the server key's fingerprint).
    pub async fn deployment_fact(&self, key: &str, value: &str) -> Result<String> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO deployment (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        let (stored,): (String,) = sqlx::query_as("SELECT value FROM deployment WHERE key = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    }
}
