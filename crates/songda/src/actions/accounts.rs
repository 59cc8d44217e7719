//! Registration, phone verification, login and logout.

use crate::error::{AppError, AppResult, Kind};
use crate::messages;
use crate::secrets::{self, hash_password, verify_password};
use crate::state::AppState;
use crate::store::{AuthLogEntry, NewNotification, NewPhoneCode, NewUser, Role, User};
use songda_core::evidence::ClientInfo;
use songda_core::party::{EmailAddress, PersonName, PhoneNumber};
use time::{Duration, OffsetDateTime};

pub const CODE_TTL: Duration = Duration::minutes(10);
pub const CODE_MAX_TRIES: i64 = 5;
pub const SESSION_TTL: Duration = Duration::days(7);

pub struct Registration<'a> {
    pub name: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub password: &'a str,
}

pub fn check_password(p: &str) -> AppResult<()> {
    let n = p.chars().count();
    if !(8..=256).contains(&n) {
        return Err(AppError::field(
            "password",
            "password must be 8 to 256 characters",
        ));
    }
    Ok(())
}

/// Creates a party account (phone not yet verified) and queues its SMS code.
pub async fn register(
    state: &AppState,
    r: &Registration<'_>,
    client: &ClientInfo,
) -> AppResult<User> {
    let name = PersonName::parse(r.name).map_err(|e| AppError::field("name", e.to_string()))?;
    let phone = PhoneNumber::parse(r.phone).map_err(|e| AppError::field("phone", e.to_string()))?;
    let email = if r.email.trim().is_empty() {
        None
    } else {
        Some(EmailAddress::parse(r.email).map_err(|e| AppError::field("email", e.to_string()))?)
    };
    check_password(r.password)?;
    let now = state.now();
    if let Err(wait) = state
        .store
        .rate_limit(
            &format!("register:{}", client.ip),
            30,
            Duration::hours(1),
            now,
        )
        .await?
    {
        return Err(AppError::rate_limited(wait));
    }
    let hash = hash_password(r.password)?;
    let (code, sms) = new_phone_code(state, &phone, now);
    let user = state
        .store
        .register_party(
            &NewUser {
                role: Role::Party,
                name: name.as_str(),
                login: None,
                phone: Some(phone.as_str()),
                email: email.as_ref().map(|e| e.as_str()),
                password_hash: &hash,
                phone_verified_at: None,
                court_id: None,
            },
            &code,
            &sms,
            now,
        )
        .await?;
    state.wake.notify_one();
    log(state, Some(&user), phone.as_str(), "register", "ok", client).await;
    Ok(user)
}

/// A fresh 6-digit code for `phone`: its HMAC to store, and the SMS that carries it.
fn new_phone_code(
    state: &AppState,
    phone: &PhoneNumber,
    now: OffsetDateTime,
) -> (NewPhoneCode, NewNotification) {
    let code = secrets::six_digits();
    let stored = NewPhoneCode {
        phone: phone.as_str().to_string(),
        code_hmac: state.secrets.code_hmac("phone", &code),
        expires_at: now + CODE_TTL,
        sent_at: now,
    };
    let sms = messages::phone_code_sms(
        &state.templates,
        phone.as_str(),
        code,
        &secrets::random_token(),
        now,
    );
    (stored, sms)
}

/// Sends a new code to an unverified phone, at most once a minute and five times an hour.
pub async fn resend_code(state: &AppState, phone: &str, client: &ClientInfo) -> AppResult<()> {
    let phone = PhoneNumber::parse(phone).map_err(|e| AppError::field("phone", e.to_string()))?;
    let now = state.now();
    for (key, max, window) in [
        (format!("resend-min:{phone}"), 1, Duration::minutes(1)),
        (format!("resend-hour:{phone}"), 5, Duration::hours(1)),
    ] {
        if let Err(wait) = state.store.rate_limit(&key, max, window, now).await? {
            return Err(AppError::rate_limited(wait));
        }
    }
    let Some(user) = state.store.user_by_phone(phone.as_str()).await? else {
        // Same answer as for a real account: this endpoint does not reveal who is registered.
        return Ok(());
    };
    if user.phone_verified {
        return Ok(());
    }
    let (code, sms) = new_phone_code(state, &phone, now);
    state.store.resend_phone_code(&code, &sms).await?;
    state.wake.notify_one();
    log(
        state,
        Some(&user),
        phone.as_str(),
        "resend_code",
        "ok",
        client,
    )
    .await;
    Ok(())
}

/// Checks an SMS code: at most five tries per code, ten minutes, single use.
pub async fn verify_phone(
    state: &AppState,
    phone: &str,
    code: &str,
    client: &ClientInfo,
) -> AppResult<()> {
    let phone = PhoneNumber::parse(phone).map_err(|e| AppError::field("phone", e.to_string()))?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::field("code", "the code is 6 digits"));
    }
    let now = state.now();
    if let Err(wait) = state
        .store
        .rate_limit(
            &format!("verify-ip:{}", client.ip),
            60,
            Duration::hours(1),
            now,
        )
        .await?
    {
        return Err(AppError::rate_limited(wait));
    }
    let invalid = || {
        AppError::new(
            Kind::BadRequest,
            "invalid_code",
            "the code is wrong or has expired; ask for a new one",
        )
    };
    let Some(stored) = state
        .store
        .take_phone_code_try(phone.as_str(), CODE_MAX_TRIES)
        .await?
    else {
        if state.store.phone_code(phone.as_str()).await?.is_none() {
            log(
                state,
                None,
                phone.as_str(),
                "verify_phone",
                "no_code",
                client,
            )
            .await;
            return Err(invalid());
        }
        log(
            state,
            None,
            phone.as_str(),
            "verify_phone",
            "too_many_tries",
            client,
        )
        .await;
        let mut e = AppError::new(
            Kind::RateLimited,
            "too_many_attempts",
            "too many wrong codes; ask for a new code",
        );
        e.retry_after = Some(60);
        return Err(e);
    };
    if stored.expires_at <= now {
        log(
            state,
            None,
            phone.as_str(),
            "verify_phone",
            "expired",
            client,
        )
        .await;
        return Err(AppError::new(
            Kind::BadRequest,
            "code_expired",
            "the code has expired; ask for a new one",
        ));
    }
    let given = state.secrets.code_hmac("phone", code);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        given.as_bytes(),
        stored.code_hmac.as_bytes(),
    )) {
        log(
            state,
            None,
            phone.as_str(),
            "verify_phone",
            "wrong_code",
            client,
        )
        .await;
        return Err(invalid());
    }
    state.store.mark_phone_verified(phone.as_str(), now).await?;
    log(state, None, phone.as_str(), "verify_phone", "ok", client).await;
    Ok(())
}

/// A new session for `kind` ("api" or "browser").
pub struct LoggedIn {
    pub token: String,
    pub csrf: String,
    pub user: User,
}

pub async fn login(
    state: &AppState,
    login: &str,
    password: &str,
    kind: &str,
    client: &ClientInfo,
) -> AppResult<LoggedIn> {
    let login = login.trim();
    if login.is_empty() {
        return Err(AppError::field(
            "login",
            "enter your phone number, email or login name",
        ));
    }
    // Phone numbers are looked up in their normalised form, however they were typed.
    let key = PhoneNumber::parse(login)
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|_| login.to_string());
    let now = state.now();
    for (k, max) in [
        (format!("login:{key}"), 10),
        (format!("login-ip:{}", client.ip), 100),
    ] {
        if let Some(wait) = state
            .store
            .rate_limited(&k, max, Duration::minutes(15), now)
            .await?
        {
            return Err(AppError::rate_limited(wait));
        }
    }
    let user = state.store.user_by_login(&key).await?;
    let ok = match &user {
        Some(u) => verify_password(password, &u.password_hash),
        None => {
            // Spend the same time as a real check, so timing does not reveal accounts.
            let _ = verify_password(password, DUMMY_HASH);
            false
        }
    };
    let Some(user) = user.filter(|_| ok) else {
        for (k, max) in [
            (format!("login:{key}"), 10),
            (format!("login-ip:{}", client.ip), 100),
        ] {
            let _ = state
                .store
                .rate_limit(&k, max, Duration::minutes(15), now)
                .await?;
        }
        log(state, None, &key, "login", "bad_credentials", client).await;
        return Err(AppError::new(
            Kind::Unauthorized,
            "invalid_credentials",
            "wrong login or password",
        ));
    };
    if user.role == Role::Party && !user.phone_verified {
        log(
            state,
            Some(&user),
            &key,
            "login",
            "phone_unverified",
            client,
        )
        .await;
        return Err(AppError::new(
            Kind::Forbidden,
            "phone_unverified",
            "verify your phone number with the SMS code first",
        ));
    }
    let token = secrets::random_token();
    let csrf = secrets::random_token();
    state
        .store
        .create_session(
            &secrets::token_hash(&token),
            user.id,
            kind,
            &csrf,
            now,
            SESSION_TTL,
        )
        .await?;
    log(state, Some(&user), &key, "login", "ok", client).await;
    Ok(LoggedIn { token, csrf, user })
}

pub async fn logout(
    state: &AppState,
    token: &str,
    user: &User,
    client: &ClientInfo,
) -> AppResult<()> {
    state
        .store
        .delete_session(&secrets::token_hash(token))
        .await?;
    log(
        state,
        Some(user),
        user.phone
            .as_deref()
            .or(user.login.as_deref())
            .unwrap_or(""),
        "logout",
        "ok",
        client,
    )
    .await;
    Ok(())
}

/// A valid Argon2id hash of a random password, for constant-time failures.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29uZ2RhLWR1bW15LXNhbHQ$0Jm0b4z7gS0Wmv0vQZ1lBq3yG7o3r6z2x8W4k5hJ6aE";

async fn log(
    state: &AppState,
    user: Option<&User>,
    login: &str,
    action: &str,
    outcome: &str,
    client: &ClientInfo,
) {
    let entry = AuthLogEntry {
        at: state.now(),
        user_id: user.map(|u| u.id),
        login,
        action,
        outcome,
        ip: &client.ip,
        user_agent: &client.user_agent,
    };
    if let Err(e) = state.store.log_auth(&entry).await {
        tracing::error!(error = %e, "could not write the authentication log");
    }
}
