//! The app's state, shared by commands, the Redis watcher and the batches
//! it runs: settings and the desk they open, the board of known batches,
//! this app's running batches, Redis health and the notification log.
//!
//! Rule: no lock here is held across an `.await`; every accessor copies
//! what it needs out (the desk is an `Arc`, statuses are cloned).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use kdesk_core::{Desk, DeskConfig};

use crate::batches::OwnLog;
use crate::board::Board;
use crate::error::{AppError, ErrorCode};
use crate::notices::NoticeLog;
use crate::settings::{Effective, Environment, Settings, SettingsView, ValueSource};
use crate::views::{RedisHealth, RedisState};

/// A page that takes longer than this is stopped and failed, as in `kdesk`.
pub const PAGE_TIMEOUT: Duration = Duration::from_secs(300);

/// Where the app keeps its files.
#[derive(Clone, Debug)]
pub struct AppPaths {
    /// `settings.json`.
    pub config_dir: PathBuf,
    /// The notification log and the list of batches this app started.
    pub data_dir: PathBuf,
    /// Page thumbnails.
    pub cache_dir: PathBuf,
}

/// A batch running in this process.
#[derive(Clone, Debug)]
pub struct OwnRun {
    pub task_id: String,
    /// Cancels the batch: no more pages are handed out.
    pub stop: CancellationToken,
}

/// The settings and what they opened; replaced whole when they change.
struct Current {
    settings: Settings,
    effective: Result<Effective, AppError>,
    desk: Result<Arc<Desk>, AppError>,
    /// Counts replacements, so the watcher knows to reconnect.
    generation: u64,
}

pub struct AppState {
    pub paths: AppPaths,
    environment: Environment,
    current: RwLock<Current>,
    board: Mutex<Board>,
    /// This process's running batches, by project slug.
    own: Mutex<HashMap<String, OwnRun>>,
    own_log: Mutex<OwnLog>,
    notices: Mutex<NoticeLog>,
    health: Mutex<RedisHealth>,
    /// Installed Tesseract languages, once known.
    languages: Mutex<Option<Vec<String>>>,
    /// Wakes the watcher when the settings changed.
    pub wake: Notify,
}

impl AppState {
    /// Reads the settings and opens the library and Redis they name. A
    /// problem is kept and shown; the app starts anyway.
    pub fn new(paths: AppPaths, environment: Environment) -> AppState {
        let settings = Settings::load(&paths.config_dir).unwrap_or_else(|error| {
            warn!(%error, "settings not usable; using the defaults");
            Settings::default()
        });
        let current = open(settings, &environment, 0);
        let health = initial_health(&current);
        AppState {
            own_log: Mutex::new(OwnLog::open(&paths.data_dir)),
            notices: Mutex::new(NoticeLog::open(&paths.data_dir)),
            paths,
            environment,
            current: RwLock::new(current),
            board: Mutex::new(Board::default()),
            own: Mutex::new(HashMap::new()),
            health: Mutex::new(health),
            languages: Mutex::new(None),
            wake: Notify::new(),
        }
    }

    /// The desk of the current settings, or why there is none.
    pub fn desk(&self) -> Result<Arc<Desk>, AppError> {
        self.read().desk.clone()
    }

    /// The values in effect, or why the settings cannot be used.
    pub fn effective(&self) -> Result<Effective, AppError> {
        self.read().effective.clone()
    }

    pub fn generation(&self) -> u64 {
        self.read().generation
    }

    pub fn settings(&self) -> Settings {
        self.read().settings.clone()
    }

    pub fn environment(&self) -> &Environment {
        &self.environment
    }

    /// The settings form's content.
    pub fn settings_view(&self) -> Result<SettingsView, AppError> {
        let languages = self.languages().unwrap_or_default();
        Ok(self.effective()?.view(&languages))
    }

    /// Keeps new settings and opens what they name. Running batches go on
    /// with the library and Redis they started with.
    pub fn replace_settings(&self, settings: Settings) -> Result<(), AppError> {
        settings.save(&self.paths.config_dir)?;
        {
            let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
            let generation = current.generation + 1;
            *current = open(settings, &self.environment, generation);
            *lock(&self.health) = initial_health(&current);
        }
        info!("settings changed; reconnecting");
        self.wake.notify_one();
        Ok(())
    }

    pub fn board(&self) -> MutexGuard<'_, Board> {
        lock(&self.board)
    }

    pub fn own_log(&self) -> MutexGuard<'_, OwnLog> {
        lock(&self.own_log)
    }

    pub fn notices(&self) -> MutexGuard<'_, NoticeLog> {
        lock(&self.notices)
    }

    /// This process's running batch on `slug`.
    pub fn own_run(&self, slug: &str) -> Option<OwnRun> {
        lock(&self.own).get(slug).cloned()
    }

    pub fn is_own_task(&self, task_id: &str) -> bool {
        lock(&self.own).values().any(|run| run.task_id == task_id)
    }

    pub fn add_own_run(&self, slug: &str, run: OwnRun) {
        lock(&self.own).insert(slug.to_string(), run);
    }

    /// Forgets the run of `task_id` on `slug` (not a newer one).
    pub fn remove_own_run(&self, slug: &str, task_id: &str) {
        let mut own = lock(&self.own);
        if own.get(slug).is_some_and(|run| run.task_id == task_id) {
            own.remove(slug);
        }
    }

    pub fn own_runs_count(&self) -> usize {
        lock(&self.own).len()
    }

    pub fn health(&self) -> RedisHealth {
        lock(&self.health).clone()
    }

    /// Stores the health; true if it changed in a way the UI shows.
    pub fn set_health(&self, health: RedisHealth) -> bool {
        let mut current = lock(&self.health);
        let changed = *current != health;
        *current = health;
        changed
    }

    pub fn languages(&self) -> Option<Vec<String>> {
        lock(&self.languages).clone()
    }

    /// Finds Tesseract's languages once, through the desk's engine.
    pub async fn load_languages(&self) -> Option<Vec<String>> {
        if let Some(known) = self.languages() {
            return Some(known);
        }
        let desk = self.desk().ok()?;
        match desk.engine().await {
            Ok(engine) => {
                let languages = engine.languages().to_vec();
                *lock(&self.languages) = Some(languages.clone());
                Some(languages)
            }
            Err(error) => {
                warn!(%error, "tesseract not usable; languages unknown");
                None
            }
        }
    }
}

impl AppState {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.current.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// A poisoned lock only means another thread panicked while holding it;
/// the data (plain maps and logs) is still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn open(settings: Settings, environment: &Environment, generation: u64) -> Current {
    let effective = settings.effective(environment);
    let desk = match &effective {
        Ok(effective) => open_desk(effective),
        Err(error) => Err(error.clone()),
    };
    if let Err(error) = &desk {
        warn!(%error, "library or redis not usable");
    }
    Current { settings, effective, desk, generation }
}

fn open_desk(effective: &Effective) -> Result<Arc<Desk>, AppError> {
    // The default library is the app's own folder: made on first use.
    if effective.library_from == ValueSource::Default && !effective.library.exists() {
        if let Err(error) = std::fs::create_dir_all(&effective.library) {
            warn!(
                folder = %effective.library.display(),
                %error,
                "cannot create the default library"
            );
        }
    }
    if !effective.library.is_dir() {
        let message = format!(
            "library folder '{}' does not exist; create it, or choose another folder in Settings",
            effective.library.display()
        );
        return Err(AppError::new(ErrorCode::NotFound, message));
    }
    let config = DeskConfig {
        library: effective.library.clone(),
        redis: effective.redis.clone(),
        page_timeout: PAGE_TIMEOUT,
    };
    Ok(Arc::new(Desk::open(config)?))
}

fn initial_health(current: &Current) -> RedisHealth {
    RedisHealth {
        state: RedisState::Connecting,
        url: current.effective.as_ref().map(|e| e.redis.to_string()).unwrap_or_default(),
        message: None,
        retry_at_ms: None,
    }
}
