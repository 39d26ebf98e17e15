//! Reaching Redis: the URL (shown only with its password hidden), the shared
//! multiplexed connection, and dedicated connections for blocking reads.
//!
//! Rule: nothing outside this module formats a Redis URL; everything shows a
//! [`RedisTarget`], whose `Display` never contains the password.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::error::{Error, ErrorKind, Result};

/// The default of the original web site, kept so its monitoring commands work.
pub const DEFAULT_REDIS_URL: &str = "redis://localhost:6379/0";

/// How long any single call that a person or the batch waits on may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// A Redis URL, kept whole for connecting and redacted for showing.
#[derive(Clone)]
pub struct RedisTarget {
    url: String,
    redacted: String,
    /// A PEM file of the certificate authority that signed the server's
    /// certificate, for `rediss://` servers with a private CA
    /// (`KDESK_REDIS_CA`); the system's roots otherwise.
    ca_file: Option<std::path::PathBuf>,
}

impl RedisTarget {
    /// Checks the URL's shape (`redis://`, `rediss://`, `unix://`); reaches nothing.
    pub fn parse(url: &str) -> Result<RedisTarget> {
        let url = url.trim();
        let redacted = redact(url);
        let scheme_ok = ["redis://", "rediss://", "unix://", "redis+unix://"]
            .iter()
            .any(|scheme| url.starts_with(scheme));
        if !scheme_ok {
            let message = format!(
                "'{redacted}' is not a Redis URL; use redis://host:6379/0 \
                 (or rediss:// for TLS)"
            );
            return Err(Error::new(ErrorKind::InvalidRedisUrl, message));
        }
        if let Err(error) = redis::Client::open(url) {
            let message = format!(
                "'{redacted}' is not a usable Redis URL ({}); check host, port and database \
                 number, and percent-encode special characters in the password",
                error.detail().unwrap_or("malformed")
            );
            return Err(Error::new(ErrorKind::InvalidRedisUrl, message));
        }
        let ca_file = std::env::var_os("KDESK_REDIS_CA")
            .filter(|path| !path.is_empty())
            .map(std::path::PathBuf::from);
        Ok(RedisTarget { url: url.to_string(), redacted, ca_file })
    }

    /// Trusts the certificate authority in this PEM file for `rediss://`.
    pub fn with_ca_file(mut self, path: impl Into<std::path::PathBuf>) -> RedisTarget {
        self.ca_file = Some(path.into());
        self
    }

    /// `REDIS_URL`, or the original's default when it is unset or empty.
    pub fn from_env() -> Result<RedisTarget> {
        match std::env::var("REDIS_URL") {
            Ok(url) if !url.trim().is_empty() => RedisTarget::parse(&url),
            _ => RedisTarget::parse(DEFAULT_REDIS_URL),
        }
    }

    fn client(&self) -> Result<redis::Client> {
        let Some(ca_file) = self.ca_file.as_ref().filter(|_| self.url.starts_with("rediss://"))
        else {
            return redis::Client::open(self.url.as_str()).map_err(|error| self.error(error));
        };
        let pem = std::fs::read(ca_file).map_err(|error| {
            let message = format!(
                "cannot read the certificate authority '{}' (KDESK_REDIS_CA): {error}; \
                 point it at the PEM file that signed the Redis server's certificate",
                ca_file.display()
            );
            Error::with_source(ErrorKind::InvalidRedisUrl, message, error)
        })?;
        let certificates = redis::TlsCertificates { client_tls: None, root_cert: Some(pem) };
        redis::Client::build_with_tls(self.url.as_str(), certificates)
            .map_err(|error| self.error(error))
    }

    /// Turns a client error into ours, naming the server without its password.
    pub(crate) fn error(&self, error: redis::RedisError) -> Error {
        if is_auth_error(&error) {
            let message = format!(
                "redis at '{}' refused the credentials; fix the user or password in REDIS_URL",
                self.redacted
            );
            return Error::with_source(ErrorKind::RedisAuth, message, error);
        }
        let unreachable = error.is_io_error()
            || error.is_connection_dropped()
            || error.is_connection_refusal()
            || error.is_timeout()
            || error.is_unrecoverable_error();
        if !unreachable {
            let message = format!(
                "redis at '{}' refused a command ({error}); check that it is Redis 6.2 or newer \
                 and that no other program writes kdesk:* keys",
                self.redacted
            );
            return Error::with_source(ErrorKind::RedisCommand, message, error);
        }
        let reason = match error.detail() {
            Some(detail) => detail.to_string(),
            None => error.to_string(),
        };
        let hint = if reason.contains("certificate") {
            "if the server's certificate comes from a private authority, set KDESK_REDIS_CA \
             to that authority's PEM file"
        } else {
            "start it or point REDIS_URL at a running server"
        };
        let message = format!("redis at '{}' is unreachable ({reason}); {hint}", self.redacted);
        Error::with_source(ErrorKind::RedisUnavailable, message, error)
    }

    fn timeout(&self) -> Error {
        let message = format!(
            "redis at '{}' did not answer within {} s; check that it is running and not overloaded",
            self.redacted,
            CALL_TIMEOUT.as_secs()
        );
        Error::new(ErrorKind::RedisUnavailable, message)
    }
}

impl fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisTarget({})", self.redacted)
    }
}

fn is_auth_error(error: &redis::RedisError) -> bool {
    if error.kind() == redis::ErrorKind::AuthenticationFailed {
        return true;
    }
    let code = error.code().unwrap_or_default();
    code == "WRONGPASS" || code == "NOAUTH" || code == "NOPERM"
}

/// Replaces the password (and a lone user-info part) of a URL with `***`.
/// The user-info ends at the last `@` before any query, so a password
/// holding `/` or `@` is hidden whole.
fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let before_query = rest.find('?').unwrap_or(rest.len());
    let Some(at) = rest[..before_query].rfind('@') else {
        return url.to_string();
    };
    let user_info = &rest[..at];
    let hidden = match user_info.split_once(':') {
        Some((user, _password)) if !user.is_empty() && !user.contains('/') => {
            format!("{user}:***")
        }
        _ => "***".to_string(),
    };
    format!("{}{}@{}", &url[..scheme_end + 3], hidden, &rest[at + 1..])
}

/// A handle on one Redis server: a shared connection that reconnects by
/// itself, and the means to open dedicated ones for blocking reads.
#[derive(Clone)]
pub struct Redis {
    target: RedisTarget,
    client: redis::Client,
    shared: ConnectionManager,
}

impl Redis {
    /// Prepares the connection without waiting for the server: the first
    /// command connects. Fails only on a malformed URL.
    pub fn new(target: RedisTarget) -> Result<Redis> {
        install_tls_provider();
        let client = target.client()?;
        let shared = ConnectionManager::new_lazy_with_config(client.clone(), manager_config(None))
            .map_err(|error| target.error(error))?;
        Ok(Redis { target, client, shared })
    }

    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    /// The shared connection; cheap to clone. Never use it for blocking reads.
    pub fn connection(&self) -> ConnectionManager {
        self.shared.clone()
    }

    /// A connection of its own for commands that block on the server for up
    /// to `block`: a blocked multiplexed connection would stall every caller.
    pub fn dedicated_connection(&self, block: Duration) -> Result<ConnectionManager> {
        let config = manager_config(Some(block + Duration::from_secs(2)));
        ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|error| self.target.error(error))
    }

    /// Answers whether the server is there now, within [`CALL_TIMEOUT`].
    pub async fn ping(&self) -> Result<()> {
        let mut connection = self.connection();
        self.call(async move { redis::cmd("PING").query_async::<String>(&mut connection).await })
            .await
            .map(|_| ())
    }

    /// Runs one Redis call under [`CALL_TIMEOUT`], turning its failure into ours.
    pub async fn call<T>(
        &self,
        call: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(CALL_TIMEOUT, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.target.error(error)),
            Err(_) => Err(self.target.timeout()),
        }
    }
}

fn manager_config(response_timeout: Option<Duration>) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_number_of_retries(1)
        .set_min_delay(Duration::from_millis(100))
        .set_max_delay(Duration::from_millis(500))
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(response_timeout.unwrap_or(Duration::from_secs(2))))
}

/// rustls ships without a crypto provider; `rediss://` panics on first use
/// unless one is installed for the process.
fn install_tls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_shows_in_display_or_errors() {
        let target = RedisTarget::parse("redis://:s3cret@localhost:6380/0").unwrap();
        assert_eq!(target.to_string(), "redis://***@localhost:6380/0");
        let target = RedisTarget::parse("rediss://editor:s3cret@db.example:6380/2").unwrap();
        assert_eq!(target.to_string(), "rediss://editor:***@db.example:6380/2");
        assert!(!format!("{target:?}").contains("s3cret"));
    }

    #[test]
    fn wrong_scheme_is_refused_with_a_hint_and_no_password() {
        let error = RedisTarget::parse("http://:pw@localhost:6379").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidRedisUrl);
        assert!(error.to_string().contains("redis://host:6379/0"), "{error}");
        assert!(!error.to_string().contains("pw@"), "{error}");
    }

    /// Regression: a password holding '/' was printed whole, because the
    /// user-info was taken to end at the first '/'.
    #[test]
    fn password_with_slash_or_at_is_hidden_whole() {
        for url in ["redis://:pa/ss@127.0.0.1:6379/0", "redis://u:p@ss/w@host:1/0"] {
            let shown = redact(url);
            assert!(!shown.contains("pa/ss") && !shown.contains("ss/w"), "{shown}");
            assert!(shown.ends_with("/0"), "{shown}");
        }
        let error = RedisTarget::parse("redis://:pa/ss@127.0.0.1:6379/0");
        if let Err(error) = error {
            assert!(!error.to_string().contains("pa/ss"), "{error}");
        }
    }

    #[test]
    fn url_without_password_is_shown_as_is() {
        let target = RedisTarget::parse("redis://127.0.0.1:6379/0").unwrap();
        assert_eq!(target.to_string(), "redis://127.0.0.1:6379/0");
    }
}
