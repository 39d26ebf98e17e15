//! The crate's one error type.
//!
//! Every failure in this crate is an [`Error`]: a message written for the
//! person running the tool (lowercase, naming the page or file, saying what
//! to do next), a [`ErrorKind`] that callers branch on, and the underlying
//! error when there is one. Rule: callers decide by `kind()` or
//! `is_permanent()`, never by parsing the message.

use serde::{Deserialize, Serialize};

/// What went wrong, coarse enough for a caller to choose between retrying,
/// skipping the page and stopping.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorKind {
    /// The bytes are not an image we can OCR (empty, text, a PDF, an
    /// unsupported format). Checked before Tesseract runs.
    NotAnImage,
    /// The bytes claim to be an image but cannot be decoded (truncated or
    /// damaged), either by our header check or by Tesseract.
    Unreadable,
    /// The image (or file) exceeds [`crate::ImageLimits`].
    TooLarge,
    /// Tesseract ran longer than the page time limit and was killed.
    Timeout,
    /// Tesseract failed for a reason that is not the image's fault, or was
    /// killed by a signal.
    EngineFailed,
    /// The `tesseract` program is not installed or cannot be started.
    EngineMissing,
    /// A language asked for has no installed model.
    LanguageMissing,
    /// Reading or writing files (temporary files, output files) failed.
    Io,
}

/// An error from this crate; see [`ErrorKind`] for how to branch on it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error with no underlying cause.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), source: None }
    }

    /// An error caused by `source`, which is kept for `Error::source`.
    pub(crate) fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Error {
        Error { kind, message: message.into(), source: Some(source.into()) }
    }

    /// An I/O failure on `path` while doing `what` (e.g. "write").
    pub(crate) fn io(what: &str, path: &std::path::Path, source: std::io::Error) -> Error {
        let message = format!("could not {what} '{}': {source}", path.display());
        Error::with_source(ErrorKind::Io, message, source)
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message for people, as `Display` prints it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when retrying the same page with the same settings cannot help:
    /// the image itself is bad, too large, or the language is not installed.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::NotAnImage
                | ErrorKind::TooLarge
                | ErrorKind::Unreadable
                | ErrorKind::LanguageMissing
        )
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanence_follows_the_kind() {
        let permanent = [
            ErrorKind::NotAnImage,
            ErrorKind::TooLarge,
            ErrorKind::Unreadable,
            ErrorKind::LanguageMissing,
        ];
        let transient =
            [ErrorKind::Timeout, ErrorKind::EngineFailed, ErrorKind::EngineMissing, ErrorKind::Io];
        for kind in permanent {
            assert!(Error::new(kind, "x").is_permanent(), "{kind:?}");
        }
        for kind in transient {
            assert!(!Error::new(kind, "x").is_permanent(), "{kind:?}");
        }
    }

    #[test]
    fn source_is_kept() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let err = Error::io("write", std::path::Path::new("/x/001.txt"), io);
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(err.to_string(), "could not write '/x/001.txt': denied");
        let source = std::error::Error::source(&err).map(|s| s.to_string());
        assert_eq!(source.as_deref(), Some("denied"));
    }
}
