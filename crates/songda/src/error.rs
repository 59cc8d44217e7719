//! The one error type of the application's actions. The HTTP layer maps its kind to a
//! status; 4xx carry a machine `code` and a human `message`; internal errors are logged
//! once and shown to clients as an opaque 500.

use crate::store::StoreError;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    Unsupported,
    Unprocessable,
    RateLimited,
    Unavailable,
    Internal,
}

/// Boxed, so that `Result<T, AppError>` stays one pointer wide on the happy path.
#[derive(Debug)]
pub struct AppError(Box<ErrorDetail>);

#[derive(Debug)]
pub struct ErrorDetail {
    pub kind: Kind,
    pub code: &'static str,
    pub message: String,
    /// The request field at fault, for 400s.
    pub field: Option<String>,
    /// More machine-readable detail merged into the error object (e.g. the refusing rule).
    pub extra: Option<Value>,
    pub retry_after: Option<i64>,
    pub source: Option<anyhow::Error>,
}

pub type AppResult<T> = Result<T, AppError>;

impl std::ops::Deref for AppError {
    type Target = ErrorDetail;
    fn deref(&self) -> &ErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for AppError {
    fn deref_mut(&mut self) -> &mut ErrorDetail {
        &mut self.0
    }
}

impl AppError {
    pub fn new(kind: Kind, code: &'static str, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorDetail {
            kind,
            code,
            message: message.into(),
            field: None,
            extra: None,
            retry_after: None,
            source: None,
        }))
    }
    /// 400 naming the field at fault.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(Kind::BadRequest, "invalid_field", message);
        e.field = Some(field.to_string());
        e
    }
    pub fn not_found() -> Self {
        Self::new(Kind::NotFound, "not_found", "not found")
    }
    pub fn unauthorized() -> Self {
        Self::new(Kind::Unauthorized, "unauthorized", "log in first")
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Kind::Forbidden, "forbidden", message)
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Kind::Conflict, code, message)
    }
    pub fn rate_limited(retry_after: i64) -> Self {
        let mut e = Self::new(
            Kind::RateLimited,
            "rate_limited",
            format!("too many attempts; try again in {retry_after} seconds"),
        );
        e.retry_after = Some(retry_after);
        e
    }
    /// 503 with `Retry-After`: a part the service depends on is down; nothing was changed.
    pub fn unavailable(code: &'static str, message: &str, source: anyhow::Error) -> Self {
        let mut e = Self::new(Kind::Unavailable, code, message);
        e.retry_after = Some(5);
        e.source = Some(source);
        e
    }
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        let mut err = Self::new(Kind::Internal, "internal", "internal error");
        err.source = Some(e.into());
        err
    }
    pub fn with_extra(mut self, extra: Value) -> Self {
        self.extra = Some(extra);
        self
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found(),
            StoreError::Conflict(code) => AppError::conflict(code, conflict_message(code)),
            StoreError::Unavailable(e) => AppError::unavailable(
                "database_unavailable",
                "the database is not reachable right now; nothing was changed, try again shortly",
                anyhow::Error::new(e),
            ),
            StoreError::OutOfRange(what) => AppError::new(Kind::BadRequest, "out_of_range", what),
            other => AppError::internal(other),
        }
    }
}

fn conflict_message(code: &str) -> &'static str {
    match code {
        "phone_taken" => "an account with this phone number already exists",
        "email_taken" => "an account with this email address already exists",
        "login_taken" => "this login name is taken",
        "case_exists" => "a case with this number already exists in this court",
        "code_used" => "this binding code has already been used",
        "service_closed" => "this service has already been signed for or refused",
        "already_corrected" => "this document was corrected already: correct its latest version",
        "calendar_changed" => {
            "the calendar was saved by someone else at the same moment; reload and save again"
        }
        _ => "conflict",
    }
}

impl From<crate::blob::BlobError> for AppError {
    fn from(e: crate::blob::BlobError) -> Self {
        match e {
            crate::blob::BlobError::Unavailable(_) => AppError::unavailable(
                "blob_store_unavailable",
                "the document storage refused or did not answer; nothing was stored, try again shortly",
                anyhow::Error::new(e),
            ),
            other => AppError::internal(other),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::internal(e)
    }
}

impl From<std::io::Error> for AppError {
    fn from(e: std::io::Error) -> Self {
        AppError::internal(e)
    }
}
