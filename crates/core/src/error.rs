//! The one error type of the core, with a kind callers branch on.
//!
//! Messages are written for the editor: lowercase, naming the input that was
//! wrong and what to do next. A Redis URL never appears in a message with its
//! password: callers pass [`crate::RedisTarget`], whose display hides it.

use std::fmt;

/// What went wrong, for callers that decide what to do next.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Redis could not be reached or answered with an error; retrying later may help.
    RedisUnavailable,
    /// Redis refused our credentials; retrying will not help until they change.
    RedisAuth,
    /// Redis answered a command with an error (a bug, or a server too old).
    RedisCommand,
    /// The Redis URL itself is malformed.
    InvalidRedisUrl,
    /// Another batch is already running on the project.
    BatchRunning,
    /// The named task or batch does not exist.
    TaskNotFound,
    /// The library, a project or its pages: see the message.
    Library,
    /// The OCR engine or a page: see the message.
    Ocr,
    /// The durable local record could not be read or written.
    LocalRecord,
    /// Something the user typed is not acceptable (language, engine, option).
    InvalidInput,
    /// A file could not be read or written.
    Io,
}

/// An error of the batch core.
#[derive(Debug, thiserror::Error)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), source: None }
    }

    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Error {
        Error { kind, message: message.into(), source: Some(Box::new(source)) }
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether the same call may succeed later without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, ErrorKind::RedisUnavailable)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<kdesk_library::Error> for Error {
    fn from(error: kdesk_library::Error) -> Error {
        Error {
            kind: ErrorKind::Library,
            message: error.to_string(),
            source: Some(Box::new(error)),
        }
    }
}

impl From<kdesk_ocr::Error> for Error {
    fn from(error: kdesk_ocr::Error) -> Error {
        Error { kind: ErrorKind::Ocr, message: error.to_string(), source: Some(Box::new(error)) }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Error {
        let message = format!("the local batch record could not be used: {error}");
        Error::with_source(ErrorKind::LocalRecord, message, error)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
