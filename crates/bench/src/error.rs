//! The one error type of the benchmark, with a kind that says whose fault
//! a failed run is: the machine's set-up, a process we started, Redis, the
//! disk, or a correctness check on the product.

use std::fmt;

/// What went wrong, for the exit message and for callers that branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A tool, the corpus or a built binary is missing.
    Setup,
    /// A process we started failed or could not be started.
    Process,
    /// Our own `redis-server` refused or broke a command.
    Redis,
    /// Reading or writing a file failed.
    Io,
    /// The product did something wrong: a page lost or done twice, a status
    /// look-up that found nothing, text worse than plain Tesseract's.
    Check,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ErrorKind::Setup => "setup",
            ErrorKind::Process => "process",
            ErrorKind::Redis => "redis",
            ErrorKind::Io => "io",
            ErrorKind::Check => "check",
        };
        f.write_str(name)
    }
}

/// A failed benchmark step, with the message for the person running it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
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

    /// A file operation on `path` failed.
    pub fn io(doing: &str, path: &std::path::Path, source: std::io::Error) -> Error {
        let message = format!("could not {doing} '{}': {source}", path.display());
        Error::with_source(ErrorKind::Io, message, source)
    }

    /// A Redis command of the benchmark itself failed.
    pub fn redis(doing: &str, source: redis::RedisError) -> Error {
        let message =
            format!("redis refused {doing}: {source}; is the benchmark's server still up?");
        Error::with_source(ErrorKind::Redis, message, source)
    }
}

pub type Result<T> = std::result::Result<T, Error>;
