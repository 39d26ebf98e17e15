//! The app's one error type, as the UI receives it: `{code, message}`, and
//! for settings also the fields that were refused.
//!
//! Errors of the core and the library keep their own message (already
//! written for the editor) and become a [`ErrorCode`] the UI may branch on.
//! Rule: a message never contains a Redis password; the core's messages
//! show only redacted URLs, and this module adds no URLs of its own.

use std::sync::Arc;

use serde::Serialize;

/// What went wrong, for the UI to branch on. Serialised in snake_case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Redis could not be reached; the app keeps tracking on this computer.
    RedisUnavailable,
    /// Redis refused the user or password in the Redis URL.
    RedisAuth,
    /// The Redis URL is malformed.
    InvalidRedisUrl,
    /// Another batch runs on the project (started elsewhere).
    BatchRunning,
    /// No batch by that id, or none running on that project.
    TaskNotFound,
    /// A project, page or folder does not exist.
    NotFound,
    /// A project slug breaks the naming rule.
    InvalidSlug,
    /// The project has no page images.
    NoPages,
    /// A project's `project.toml` does not parse.
    InvalidMetadata,
    /// The library could not be used; see the message.
    Library,
    /// The OCR engine or one of its languages; see the message.
    Ocr,
    /// The local batch record could not be read or written.
    LocalRecord,
    /// An option of a request is not acceptable.
    InvalidInput,
    /// Settings were refused; `fields` says which and why.
    InvalidSettings,
    /// Reading or writing a file failed.
    Io,
    /// A fault of the app itself; the message says what was being done.
    Internal,
}

/// One refused setting, shown beside its field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct FieldError {
    /// The field's name as in `SettingsInput`, e.g. `redis_url`.
    pub field: String,
    pub message: String,
}

/// An error as the UI receives it.
#[derive(Clone, Debug, thiserror::Error, Serialize, specta::Type)]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    /// A complete sentence for the editor: lowercase, quoting the bad
    /// input, saying what to do next.
    pub message: String,
    /// For [`ErrorCode::InvalidSettings`]: every refused field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[specta(optional)]
    pub fields: Vec<FieldError>,
    /// The lower-level error, for the log; never sent to the UI.
    #[serde(skip)]
    #[specta(skip)]
    #[source]
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError { code, message: message.into(), fields: Vec::new(), source: None }
    }

    /// Settings refused, each field with its reason.
    pub fn invalid_settings(fields: Vec<FieldError>) -> AppError {
        let message = match fields.as_slice() {
            [only] => format!("setting '{}' is not valid: {}", only.field, only.message),
            many => {
                format!("{} settings are not valid; see the messages at the fields", many.len())
            }
        };
        AppError { code: ErrorCode::InvalidSettings, message, fields, source: None }
    }

    /// A fault of the app while doing `doing`, keeping the cause.
    pub fn internal(
        doing: &str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> AppError {
        AppError {
            code: ErrorCode::Internal,
            message: format!("the app failed while {doing}: {source}"),
            fields: Vec::new(),
            source: Some(Arc::new(source)),
        }
    }
}

impl From<kdesk_core::Error> for AppError {
    fn from(error: kdesk_core::Error) -> AppError {
        use kdesk_core::ErrorKind as Kind;
        let code = match error.kind() {
            Kind::RedisUnavailable => ErrorCode::RedisUnavailable,
            Kind::RedisAuth => ErrorCode::RedisAuth,
            Kind::InvalidRedisUrl => ErrorCode::InvalidRedisUrl,
            Kind::BatchRunning => ErrorCode::BatchRunning,
            Kind::TaskNotFound => ErrorCode::TaskNotFound,
            Kind::Library => library_code(&error),
            Kind::Ocr => ErrorCode::Ocr,
            Kind::LocalRecord => ErrorCode::LocalRecord,
            Kind::InvalidInput => ErrorCode::InvalidInput,
            Kind::Io => ErrorCode::Io,
            _ => ErrorCode::Internal,
        };
        AppError {
            code,
            message: error.to_string(),
            fields: Vec::new(),
            source: Some(Arc::new(error)),
        }
    }
}

impl From<kdesk_library::Error> for AppError {
    fn from(error: kdesk_library::Error) -> AppError {
        let code = code_of_library_kind(error.kind());
        AppError {
            code,
            message: error.to_string(),
            fields: Vec::new(),
            source: Some(Arc::new(error)),
        }
    }
}

/// The library's own kind, when the core wrapped a library error.
fn library_code(error: &kdesk_core::Error) -> ErrorCode {
    let source = std::error::Error::source(error);
    match source.and_then(|s| s.downcast_ref::<kdesk_library::Error>()) {
        Some(library_error) => code_of_library_kind(library_error.kind()),
        None => ErrorCode::Library,
    }
}

fn code_of_library_kind(kind: kdesk_library::ErrorKind) -> ErrorCode {
    use kdesk_library::ErrorKind as Kind;
    match kind {
        Kind::NotFound => ErrorCode::NotFound,
        Kind::InvalidSlug => ErrorCode::InvalidSlug,
        Kind::NoPages => ErrorCode::NoPages,
        Kind::InvalidMetadata => ErrorCode::InvalidMetadata,
        Kind::Io => ErrorCode::Io,
        _ => ErrorCode::Library,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_and_message_without_empty_fields() {
        let error = AppError::new(ErrorCode::BatchRunning, "a batch is already running");
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "batch_running", "message": "a batch is already running"})
        );
    }

    #[test]
    fn invalid_settings_lists_each_field() {
        let error = AppError::invalid_settings(vec![
            FieldError { field: "workers".into(), message: "'99' is too many".into() },
            FieldError { field: "library".into(), message: "no such folder".into() },
        ]);
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "invalid_settings");
        assert_eq!(json["fields"][1]["field"], "library");
        assert!(error.message.starts_with("2 settings are not valid"), "{}", error.message);
    }

    #[test]
    fn library_kind_survives_the_core_wrapping() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let library_error = kdesk_library::Library::open(&missing).unwrap_err();
        let core_error = kdesk_core::Error::from(library_error);
        let error = AppError::from(core_error);
        assert_eq!(error.code, ErrorCode::NotFound);
        assert!(error.message.contains("does not exist"), "{}", error.message);
    }
}
