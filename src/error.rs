//! The one error type at the HTTP edge, answered as `application/problem+json` (RFC 9457).
//!
//! Policy: storage code returns `diesel::QueryResult`, domain code returns its own refusal
//! types, and handlers convert both into [`AppError`] here. Statuses are mapped honestly:
//! 404 for what does not exist *or is not the caller's to see*, 409 for the wrong state,
//! 412/428 for `If-Match`, 422 for invalid input, 503 when the database is busy, and 500
//! only for bugs. A 500 never carries internal details to the client; the log has them.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

/// One field at fault in a request.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// JSON path of the field, e.g. `terms.currency`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every error the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request body is not valid JSON: {0}")]
    MalformedBody(String),
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("sign in first")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    InvalidTransition {
        detail: String,
        current_state: String,
        current_version: i64,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("the resource has changed since version {expected}; it is now at version {current}")]
    PreconditionFailed { expected: String, current: i64 },
    #[error("this request must carry If-Match with the resource's current version")]
    PreconditionRequired,
    #[error("too many attempts; try again later")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the database is busy; try again")]
    Busy,
    /// A part the request needs is not installed (a font, say); the detail names it.
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// The problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

impl AppError {
    /// A validation error with one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// The stable slug of this problem kind, part of `type`.
    pub fn slug(&self) -> &'static str {
        match self {
            AppError::MalformedBody(_) => "malformed-body",
            AppError::Validation(_) => "validation-failed",
            AppError::UnsupportedMediaType => "unsupported-media-type",
            AppError::PayloadTooLarge { .. } => "payload-too-large",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not-found",
            AppError::InvalidTransition { .. } => "invalid-transition",
            AppError::Conflict(_) => "conflict",
            AppError::PreconditionFailed { .. } => "precondition-failed",
            AppError::PreconditionRequired => "precondition-required",
            AppError::TooManyRequests { .. } => "too-many-requests",
            AppError::Busy => "busy",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::MalformedBody(_) => "Malformed request body",
            AppError::Validation(_) => "Invalid input",
            AppError::UnsupportedMediaType => "Unsupported media type",
            AppError::PayloadTooLarge { .. } => "Request body too large",
            AppError::Unauthenticated => "Authentication required",
            AppError::Forbidden(_) => "Not allowed",
            AppError::NotFound => "Not found",
            AppError::InvalidTransition { .. } => "Transition not allowed in the current state",
            AppError::Conflict(_) => "Conflict",
            AppError::PreconditionFailed { .. } => "Version mismatch",
            AppError::PreconditionRequired => "If-Match required",
            AppError::TooManyRequests { .. } => "Too many requests",
            AppError::Busy => "Service busy",
            AppError::Unavailable(_) => "Not available on this server",
            AppError::Internal(_) => "Internal error",
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (errors, current_state, current_version) = match self {
            AppError::Validation(errs) => (Some(errs.clone()), None, None),
            AppError::InvalidTransition {
                current_state,
                current_version,
                ..
            } => (None, Some(current_state.clone()), Some(*current_version)),
            AppError::PreconditionFailed { current, .. } => (None, None, Some(*current)),
            _ => (None, None, None),
        };
        Problem {
            kind: format!("urn:usefirst:problem:{}", self.slug()),
            title: self.title().to_string(),
            status: self.status_code().as_u16(),
            detail: self.to_string(),
            errors,
            current_state,
            current_version,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::MalformedBody(_) => StatusCode::BAD_REQUEST,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::InvalidTransition { .. } | AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            AppError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy | AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(err) = self {
            tracing::error!(error = ?err, "request failed");
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            AppError::Unauthenticated => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            AppError::TooManyRequests { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            AppError::Busy => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                AppError::Conflict(format!("already exists: {}", info.message()))
            }
            Error::DatabaseError(_, ref info) if is_busy_message(info.message()) => AppError::Busy,
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => AppError::Busy,
            other => AppError::Internal(anyhow::Error::new(other).context("database query")),
        }
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::warn!(error = %err, "database pool exhausted");
        AppError::Busy
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

fn is_busy_message(msg: &str) -> bool {
    msg.contains("database is locked")
        || msg.contains("database is busy")
        || msg.contains("deadlock detected")
        || msg.contains("lock timeout")
}

/// Result of a handler.
pub type AppResult<T> = Result<T, AppError>;

/// Checks a text field: trimmed, 1 to `max` characters.
pub fn required_text(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(field, "must not be empty"));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant maps to a distinct slug and a non-500 status except `Internal`.
    #[test]
    fn statuses_are_honest() {
        let all = vec![
            AppError::MalformedBody("x".into()),
            AppError::Validation(vec![]),
            AppError::UnsupportedMediaType,
            AppError::PayloadTooLarge { limit: 1 },
            AppError::Unauthenticated,
            AppError::Forbidden("x".into()),
            AppError::NotFound,
            AppError::InvalidTransition {
                detail: "x".into(),
                current_state: "active".into(),
                current_version: 1,
            },
            AppError::Conflict("x".into()),
            AppError::PreconditionFailed {
                expected: "1".into(),
                current: 2,
            },
            AppError::PreconditionRequired,
            AppError::TooManyRequests {
                retry_after_secs: 1,
            },
            AppError::Busy,
            AppError::Internal(anyhow::anyhow!("bug")),
        ];
        let mut slugs: Vec<_> = all.iter().map(|e| e.slug()).collect();
        slugs.sort();
        slugs.dedup();
        assert_eq!(slugs.len(), all.len());
        for e in &all {
            let internal = matches!(e, AppError::Internal(_));
            assert_eq!(
                e.status_code() == StatusCode::INTERNAL_SERVER_ERROR,
                internal,
                "{e:?}"
            );
        }
    }
}
