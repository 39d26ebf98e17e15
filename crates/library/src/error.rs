//! The crate's one error type.
//!
//! Every fallible function in this crate returns [`Error`]. Callers branch on
//! [`Error::kind`] and show [`Error`]'s `Display` to a person as it is.
//!
//! Rule: the message is complete on its own. It quotes the bad input and says
//! what to do next, and where a lower-level error caused it, it already ends
//! with that cause. The cause is also kept as [`std::error::Error::source`] for
//! logs and tests, so print the message alone rather than the whole chain.

use std::io;
use std::path::Path;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error from the library: a kind to branch on and a message for a person.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Source>,
}

/// What went wrong, for callers that react differently to different failures.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A project slug broke the naming rule; the user should pick another.
    InvalidSlug,
    /// A library folder, project or input file does not exist.
    NotFound,
    /// A project or PDF has no pages to work on.
    NoPages,
    /// A `project.toml` could not be parsed; the user should fix or delete it.
    InvalidMetadata,
    /// A PDF could not be turned into page images; nothing was left behind.
    ImportFailed,
    /// An import would overwrite a project that already has pages.
    AlreadyExists,
    /// Reading or writing the disk failed (permissions, full disk, ...).
    Io,
}

impl ErrorKind {
    /// A stable snake_case name, for error codes sent to a UI or a log.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidSlug => "invalid_slug",
            ErrorKind::NotFound => "not_found",
            ErrorKind::NoPages => "no_pages",
            ErrorKind::InvalidMetadata => "invalid_metadata",
            ErrorKind::ImportFailed => "import_failed",
            ErrorKind::AlreadyExists => "already_exists",
            ErrorKind::Io => "io",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// What went wrong, to branch on.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), source: None }
    }

    /// Keeps `source` as the cause; the message must already mention it.
    pub(crate) fn with_source(mut self, source: impl Into<Source>) -> Error {
        self.source = Some(source.into());
        self
    }

    /// A failed disk operation: "could not {action} '{path}': {cause}".
    pub(crate) fn io(action: &str, path: &Path, err: io::Error) -> Error {
        let message = format!("could not {action} '{}': {err}", path.display());
        Error::new(ErrorKind::Io, message).with_source(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn io_error_keeps_its_source_and_quotes_the_path() {
        let cause = io::Error::new(io::ErrorKind::PermissionDenied, "permission denied");
        let err = Error::io("read folder", Path::new("/books/x"), cause);

        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(err.to_string(), "could not read folder '/books/x': permission denied");
        assert!(err.source().is_some());
    }

    #[test]
    fn kinds_have_distinct_codes() {
        let kinds = [
            ErrorKind::InvalidSlug,
            ErrorKind::NotFound,
            ErrorKind::NoPages,
            ErrorKind::InvalidMetadata,
            ErrorKind::ImportFailed,
            ErrorKind::AlreadyExists,
            ErrorKind::Io,
        ];
        let mut codes: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), kinds.len());
    }
}
