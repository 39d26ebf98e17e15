//! The app's settings: what the editor chose, where it is kept, and the
//! values in effect once the environment and the defaults fill the gaps.
//!
//! Settings live in `settings.json` in the app's config folder, readable
//! only by the user because the Redis URL may hold a password. A setting
//! left empty falls back, as the `kdesk` command does, to `REDIS_URL` or
//! `KDESK_LIBRARY`, then to the defaults. Rule: the Redis password is never
//! sent to the UI; the UI sees the URL with `***` in its place, and sending
//! that form back keeps the stored password.

use std::io::Write;
use std::path::{Path, PathBuf};

use atomic_write_file::AtomicWriteFile;
use serde::{Deserialize, Serialize};

use kdesk_core::tracking::DEFAULT_REDIS_URL;
use kdesk_core::RedisTarget;

use crate::error::{AppError, ErrorCode, FieldError};

/// The settings file's name in the app's config folder.
pub const SETTINGS_FILE: &str = "settings.json";

/// The only OCR engine this build offers.
pub const ENGINE: &str = "tesseract";

/// The most workers the settings accept; more only make Tesseract runs
/// compete for the same cores.
pub const MAX_WORKERS: u32 = 32;

/// What the editor chose; `None` means "not set here".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The whole URL, password included.
    pub redis_url: Option<String>,
    pub library: Option<PathBuf>,
    pub default_engine: Option<String>,
    /// Used for projects without a `project.toml`; a project's own
    /// language always wins.
    pub default_language: Option<String>,
    /// Pages recognised at once by the app; 0 leaves them to `kdesk worker`.
    pub workers: Option<u32>,
}

/// The environment variables that stand in for unset settings, read once
/// at start so that tests can give their own.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    pub redis_url: Option<String>,
    pub library: Option<PathBuf>,
}

impl Environment {
    pub fn from_process() -> Environment {
        let non_empty = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Environment {
            redis_url: non_empty("REDIS_URL"),
            library: non_empty("KDESK_LIBRARY").map(PathBuf::from),
        }
    }
}

/// Where a value in effect came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ValueSource {
    Settings,
    Environment,
    Default,
}

/// The values in effect.
#[derive(Clone, Debug)]
pub struct Effective {
    pub redis: RedisTarget,
    /// The URL with its password, for connecting; never shown.
    pub redis_url: String,
    pub redis_from: ValueSource,
    pub library: PathBuf,
    pub library_from: ValueSource,
    pub engine: String,
    pub language: Option<String>,
    pub workers: u32,
}

/// The settings as the UI shows them.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct SettingsView {
    /// The URL in effect, with `***` for its password.
    pub redis_url: String,
    pub redis_url_from: ValueSource,
    pub library: String,
    pub library_from: ValueSource,
    pub default_engine: String,
    /// Empty when projects without metadata use the library's default, "eng".
    pub default_language: String,
    pub workers: u32,
    pub max_workers: u32,
    pub engines: Vec<String>,
    /// Installed Tesseract languages; empty when Tesseract was not found.
    pub languages: Vec<String>,
}

/// The settings form as the UI sends it. Text throughout, so that a value
/// that is not even a number gets a message at its field.
#[derive(Clone, Debug, Deserialize, specta::Type)]
pub struct SettingsInput {
    /// Empty for `REDIS_URL` or the default; the shown form with `***`
    /// keeps the stored password.
    pub redis_url: String,
    /// Empty for `KDESK_LIBRARY` or the default.
    pub library: String,
    pub default_engine: String,
    pub default_language: String,
    pub workers: String,
}

impl Settings {
    /// Reads the settings file; a missing file is all defaults, a broken
    /// one is an error naming it (it is not overwritten silently).
    pub fn load(config_dir: &Path) -> Result<Settings, AppError> {
        let path = config_dir.join(SETTINGS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Settings::default())
            }
            Err(error) => {
                let message = format!(
                    "cannot read the settings file '{}': {error}; check its permissions",
                    path.display()
                );
                return Err(AppError::new(ErrorCode::Io, message));
            }
        };
        serde_json::from_str(&text).map_err(|error| {
            let message = format!(
                "the settings file '{}' is not valid ({error}); fix it or delete it to start \
                 from the defaults",
                path.display()
            );
            AppError::new(ErrorCode::InvalidSettings, message)
        })
    }

    /// Writes the settings file atomically, readable by the user only.
    pub fn save(&self, config_dir: &Path) -> Result<(), AppError> {
        let path = config_dir.join(SETTINGS_FILE);
        let failed = |error: std::io::Error| {
            let message = format!(
                "cannot write the settings file '{}': {error}; check the folder's permissions",
                path.display()
            );
            AppError::new(ErrorCode::Io, message)
        };
        std::fs::create_dir_all(config_dir).map_err(failed)?;
        let mut json = serde_json::to_vec_pretty(self)
            .map_err(|error| AppError::internal("encoding the settings", error))?;
        json.push(b'\n');
        let mut file = AtomicWriteFile::open(&path).map_err(failed)?;
        restrict_to_user(&file).map_err(failed)?;
        file.write_all(&json).map_err(failed)?;
        file.commit().map_err(failed)
    }

    /// The values in effect under `environment`.
    pub fn effective(&self, environment: &Environment) -> Result<Effective, AppError> {
        let (redis_url, redis_from) = match (&self.redis_url, &environment.redis_url) {
            (Some(url), _) => (url.clone(), ValueSource::Settings),
            (None, Some(url)) => (url.clone(), ValueSource::Environment),
            (None, None) => (DEFAULT_REDIS_URL.to_string(), ValueSource::Default),
        };
        let redis = RedisTarget::parse(&redis_url)?;
        let (library, library_from) = match (&self.library, &environment.library) {
            (Some(path), _) => (path.clone(), ValueSource::Settings),
            (None, Some(path)) => (path.clone(), ValueSource::Environment),
            (None, None) => (default_library(), ValueSource::Default),
        };
        Ok(Effective {
            redis,
            redis_url,
            redis_from,
            library,
            library_from,
            engine: self.default_engine.clone().unwrap_or_else(|| ENGINE.to_string()),
            language: self.default_language.clone(),
            workers: self.workers.unwrap_or_else(default_workers),
        })
    }

    /// The settings after the editor's `input`, or every refused field.
    /// `languages` are Tesseract's installed ones (`None`: not known).
    pub fn with_input(
        &self,
        input: &SettingsInput,
        environment: &Environment,
        languages: Option<&[String]>,
    ) -> Result<Settings, AppError> {
        let mut next = self.clone();
        let mut refused = Vec::new();
        let mut refuse = |field: &str, message: String| {
            refused.push(FieldError { field: field.to_string(), message });
        };
        let current = self.effective(environment).ok();

        // Redis URL: the shown (redacted) form means "unchanged".
        let url = input.redis_url.trim();
        let shown = current.as_ref().map(|c| c.redis.to_string());
        if url.is_empty() {
            next.redis_url = None;
        } else if Some(url) == shown.as_deref() {
            // Unchanged; an unset value stays unset.
        } else if url.contains("***") {
            refuse(
                "redis_url",
                "the URL still holds '***' where its password goes; type the password, or \
                 leave the URL as it was shown to keep the stored one"
                    .to_string(),
            );
        } else {
            match RedisTarget::parse(url) {
                Ok(_) => next.redis_url = Some(url.to_string()),
                Err(error) => refuse("redis_url", error.to_string()),
            }
        }

        // Library folder: it must exist; an unchanged value stays unset.
        let library = input.library.trim();
        let shown = current.as_ref().map(|c| c.library.display().to_string());
        if library.is_empty() {
            next.library = None;
        } else if Some(library) != shown.as_deref() || next.library.is_some() {
            let path = expand_home(library);
            if !path.is_absolute() {
                refuse(
                    "library",
                    format!(
                        "'{library}' is not a full path; give the folder from the root, \
                         like /home/you/books"
                    ),
                );
            } else if !path.is_dir() {
                refuse(
                    "library",
                    format!(
                        "folder '{}' does not exist; create it or choose another",
                        path.display()
                    ),
                );
            } else {
                next.library = Some(path);
            }
        }

        let engine = input.default_engine.trim();
        if engine.is_empty() || engine == ENGINE {
            next.default_engine = (!engine.is_empty()).then(|| engine.to_string());
        } else {
            refuse(
                "default_engine",
                format!("engine '{engine}' is not available; the engine here is '{ENGINE}'"),
            );
        }

        let language = input.default_language.trim();
        if language.is_empty() {
            next.default_language = None;
        } else {
            match check_language(language, languages) {
                Ok(()) => next.default_language = Some(language.to_string()),
                Err(message) => refuse("default_language", message),
            }
        }

        let workers = input.workers.trim();
        match workers.parse::<u32>() {
            Ok(count) if count <= MAX_WORKERS => next.workers = Some(count),
            _ => refuse(
                "workers",
                format!(
                    "'{workers}' is not a number of workers; enter 0 to {MAX_WORKERS} \
                     (0 leaves pages to `kdesk worker` processes)"
                ),
            ),
        }

        if refused.is_empty() {
            Ok(next)
        } else {
            Err(AppError::invalid_settings(refused))
        }
    }
}

impl Effective {
    pub fn view(&self, languages: &[String]) -> SettingsView {
        SettingsView {
            redis_url: self.redis.to_string(),
            redis_url_from: self.redis_from,
            library: self.library.display().to_string(),
            library_from: self.library_from,
            default_engine: self.engine.clone(),
            default_language: self.language.clone().unwrap_or_default(),
            workers: self.workers,
            max_workers: MAX_WORKERS,
            engines: vec![ENGINE.to_string()],
            languages: languages.to_vec(),
        }
    }
}

/// The library folder the `kdesk` command uses when nothing is set.
pub fn default_library() -> PathBuf {
    dirs::data_dir().unwrap_or_else(|| PathBuf::from(".")).join("kalanjiyam-desk").join("library")
}

/// One worker per core, as `kdesk ocr` does.
pub fn default_workers() -> u32 {
    u32::try_from(kdesk_core::default_jobs()).unwrap_or(2).min(MAX_WORKERS)
}

fn check_language(language: &str, installed: Option<&[String]>) -> Result<(), String> {
    for part in language.split('+') {
        let plain = !part.is_empty()
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !plain {
            return Err(format!(
                "'{language}' is not a Tesseract language; write codes like 'san' or 'san+eng'"
            ));
        }
        if let Some(installed) = installed {
            if !installed.iter().any(|name| name == part) {
                return Err(format!(
                    "language '{part}' is not installed (installed: {}); install it with \
                     `apt-get install {}`",
                    installed.join(", "),
                    kdesk_ocr::debian_package(part)
                ));
            }
        }
    }
    Ok(())
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

#[cfg(unix)]
fn restrict_to_user(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_to_user(_file: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(redis_url: &str, library: &str, workers: &str) -> SettingsInput {
        SettingsInput {
            redis_url: redis_url.into(),
            library: library.into(),
            default_engine: "tesseract".into(),
            default_language: String::new(),
            workers: workers.into(),
        }
    }

    fn languages() -> Vec<String> {
        ["eng", "san", "tam"].map(String::from).to_vec()
    }

    #[test]
    fn unset_values_fall_back_to_environment_then_defaults() {
        let settings = Settings::default();
        let env = Environment { redis_url: Some("redis://127.0.0.1:7000/1".into()), library: None };
        let effective = settings.effective(&env).unwrap();
        assert_eq!(effective.redis_url, "redis://127.0.0.1:7000/1");
        assert_eq!(effective.redis_from, ValueSource::Environment);
        assert_eq!(effective.library_from, ValueSource::Default);
        assert!(effective.library.ends_with("kalanjiyam-desk/library"));

        let effective = settings.effective(&Environment::default()).unwrap();
        assert_eq!(effective.redis_url, DEFAULT_REDIS_URL);
    }

    #[test]
    fn the_shown_url_keeps_the_stored_password() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            redis_url: Some("redis://:s3cret@127.0.0.1:6380/0".into()),
            ..Settings::default()
        };
        let env = Environment::default();
        let view = settings.effective(&env).unwrap().view(&[]);
        assert_eq!(view.redis_url, "redis://***@127.0.0.1:6380/0");
        assert!(!serde_json::to_string(&view).unwrap().contains("s3cret"));

        let library = dir.path().display().to_string();
        let next = settings
            .with_input(&input(&view.redis_url, &library, "2"), &env, Some(&languages()))
            .unwrap();
        assert_eq!(next.redis_url.as_deref(), Some("redis://:s3cret@127.0.0.1:6380/0"));
        assert_eq!(next.workers, Some(2));
    }

    #[test]
    fn every_bad_field_gets_its_own_message() {
        let settings = Settings::default();
        let env = Environment::default();
        let mut bad = input("http://localhost", "/no/such/folder/kdesk", "lots");
        bad.default_language = "klingon".into();
        bad.default_engine = "abbyy".into();
        let error = settings.with_input(&bad, &env, Some(&languages())).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidSettings);
        let fields: Vec<&str> = error.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["redis_url", "library", "default_engine", "default_language", "workers"]
        );
        let message = |name: &str| &error.fields.iter().find(|f| f.field == name).unwrap().message;
        assert!(message("library").contains("'/no/such/folder/kdesk' does not exist"));
        assert!(message("workers").contains("'lots'"));
        assert!(message("default_language").contains("tesseract-ocr-klingon"));
        assert!(message("redis_url").contains("redis://host:6379/0"));
    }

    #[test]
    fn a_url_with_the_placeholder_but_changed_is_refused() {
        let settings = Settings {
            redis_url: Some("redis://:pw@127.0.0.1:6380/0".into()),
            ..Settings::default()
        };
        let env = Environment::default();
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().display().to_string();
        let changed = input("redis://***@127.0.0.1:6390/0", &library, "1");
        let error = settings.with_input(&changed, &env, None).unwrap_err();
        assert_eq!(error.fields[0].field, "redis_url");
        assert!(error.fields[0].message.contains("'***'"));
    }

    #[test]
    fn saved_settings_read_back_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            redis_url: Some("redis://:pw@127.0.0.1:6380/0".into()),
            workers: Some(3),
            ..Settings::default()
        };
        settings.save(dir.path()).unwrap();
        assert_eq!(Settings::load(dir.path()).unwrap(), settings);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SETTINGS_FILE)).unwrap().permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_broken_settings_file_is_named_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SETTINGS_FILE), "{ not json").unwrap();
        let error = Settings::load(dir.path()).unwrap_err();
        assert!(error.message.contains(SETTINGS_FILE), "{}", error.message);
        assert!(error.message.contains("fix it or delete it"), "{}", error.message);
    }
}
