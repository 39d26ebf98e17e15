//! Batches this app runs: starting (or resuming) one, cancelling it, and
//! after a restart resuming those whose workers died with the app.
//!
//! A batch runs on the app's async runtime, not tied to any window; its
//! progress goes to the board through [`crate::updates::report`] as each
//! page finishes. The batches this app started are listed in a small file
//! in its data folder, so that a later launch knows which interrupted
//! batches are its own to resume. Rule: a batch started by `kdesk` is never
//! resumed by the app on its own; the editor may resume it with Run OCR.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use atomic_write_file::AtomicWriteFile;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use kdesk_core::{Batch, BatchRequest, Desk, ErrorKind, TaskStatus};
use kdesk_library::{Project, Slug};

use crate::error::{AppError, ErrorCode};
use crate::settings::Effective;
use crate::state::{AppState, OwnRun};
use crate::updates;
use crate::views::{RunOptions, StartedBatch};

/// The list's file name in the app's data folder.
pub const OWN_LOG_FILE: &str = "app-batches.json";

/// A page failing this many times (for reasons a retry may cure) fails for good.
const MAX_ATTEMPTS: u32 = 3;

/// A batch this app started, kept until it ends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OwnEntry {
    pub task_id: String,
    pub slug: String,
    /// The library it runs in; another library's batches are not resumed.
    pub library: PathBuf,
    pub options: RunOptions,
}

/// The batches this app started and that have not ended.
pub struct OwnLog {
    path: PathBuf,
    entries: Vec<OwnEntry>,
}

impl OwnLog {
    pub fn open(data_dir: &Path) -> OwnLog {
        let path = data_dir.join(OWN_LOG_FILE);
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        OwnLog { path, entries }
    }

    pub fn get(&self, task_id: &str) -> Option<&OwnEntry> {
        self.entries.iter().find(|entry| entry.task_id == task_id)
    }

    pub fn add(&mut self, entry: OwnEntry) {
        self.entries.retain(|e| e.task_id != entry.task_id);
        self.entries.push(entry);
        self.save();
    }

    pub fn remove(&mut self, task_id: &str) {
        let before = self.entries.len();
        self.entries.retain(|e| e.task_id != task_id);
        if self.entries.len() != before {
            self.save();
        }
    }

    /// Drops the entries of `library` whose batch is no longer unfinished
    /// (it ended while the app was not running).
    pub fn keep_only_ongoing(&mut self, library: &Path, ongoing: &[TaskStatus]) {
        let before = self.entries.len();
        self.entries.retain(|entry| {
            entry.library != library || ongoing.iter().any(|s| s.task_id == entry.task_id)
        });
        if self.entries.len() != before {
            self.save();
        }
    }

    fn save(&self) {
        let result = (|| -> std::io::Result<()> {
            if let Some(folder) = self.path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            let json = serde_json::to_vec_pretty(&self.entries).map_err(std::io::Error::other)?;
            let mut file = AtomicWriteFile::open(&self.path)?;
            file.write_all(&json)?;
            file.commit()
        })();
        if let Err(error) = result {
            warn!(
                file = %self.path.display(),
                %error,
                "could not keep the list of the app's batches; an interrupted batch may not \
                 resume by itself"
            );
        }
    }
}

/// Starts a batch on `slug`, resumes this computer's interrupted one, or
/// (when one is running) returns that one.
pub async fn start<R: Runtime>(
    app: &AppHandle<R>,
    slug: &str,
    options: RunOptions,
) -> Result<StartedBatch, AppError> {
    let state = app.state::<AppState>();
    let slug = Slug::parse(slug)?;
    if let Some(run) = state.own_run(slug.as_str()) {
        let status = state.board().get(&run.task_id).cloned();
        if let Some(status) = status {
            return Ok(StartedBatch { status, already_running: true, resumed: false });
        }
    }
    let desk = state.desk()?;
    let effective = state.effective()?;
    let project = desk.library().project(&slug)?;
    let request = request_for(&options, &effective, &project);

    match desk.start_batch(&slug, &request).await {
        Ok(batch) => {
            let status = batch.status();
            let resumed = batch.is_resumed();
            let entry = OwnEntry {
                task_id: batch.task_id().to_string(),
                slug: slug.to_string(),
                library: desk.library().root().to_path_buf(),
                options,
            };
            run_in_background(app, desk, batch, entry);
            Ok(StartedBatch { status, already_running: false, resumed })
        }
        Err(error) if error.kind() == ErrorKind::BatchRunning => {
            let status = desk.status(&slug).await?.ok_or_else(|| AppError::from(error))?;
            updates::report(app, status.clone());
            Ok(StartedBatch { status, already_running: true, resumed: false })
        }
        Err(error) => Err(error.into()),
    }
}

/// The request for the core: the form's choices, else for a project
/// without metadata the settings' defaults, else the project's.
pub fn request_for(options: &RunOptions, effective: &Effective, project: &Project) -> BatchRequest {
    let has_metadata = project.metadata_path().is_file();
    let engine = options
        .engine
        .clone()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| (!has_metadata).then(|| effective.engine.clone()));
    let language = options.language.clone().filter(|l| !l.trim().is_empty()).or_else(|| {
        if has_metadata {
            None
        } else {
            effective.language.clone()
        }
    });
    BatchRequest {
        engine,
        language,
        jobs: effective.workers as usize,
        force: options.force,
        max_attempts: MAX_ATTEMPTS,
        window: None,
        only_pages: options.only_pages.clone().filter(|pages| !pages.is_empty()),
    }
}

/// Runs `batch` on the app's runtime and reports its progress until it ends.
fn run_in_background<R: Runtime>(
    app: &AppHandle<R>,
    desk: Arc<Desk>,
    batch: Batch,
    entry: OwnEntry,
) {
    let state = app.state::<AppState>();
    let stop = CancellationToken::new();
    let (sender, mut receiver) = watch::channel(batch.status());
    state.add_own_run(&entry.slug, OwnRun { task_id: entry.task_id.clone(), stop: stop.clone() });
    state.own_log().add(entry.clone());
    updates::report(app, batch.status());
    info!(
        task_id = %entry.task_id,
        slug = %entry.slug,
        resumed = batch.is_resumed(),
        "batch started by the app"
    );

    let running = tauri::async_runtime::spawn(batch.run(sender, stop));
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        // Every change, as it happens; the channel closes when the run ends.
        while receiver.changed().await.is_ok() {
            let status = receiver.borrow_and_update().clone();
            updates::report(&app, status);
        }

        let last = match running.await {
            Ok(Ok(status)) => Some(status),
            Ok(Err(error)) => {
                warn!(task_id = %entry.task_id, %error, "the batch stopped on an error");
                desk.task_status(&entry.task_id).await.ok().flatten()
            }
            Err(error) => {
                warn!(task_id = %entry.task_id, %error, "the batch's task ended abnormally");
                None
            }
        };
        let state = app.state::<AppState>();
        state.remove_own_run(&entry.slug, &entry.task_id);
        if last.as_ref().is_some_and(|s| s.state.is_finished()) {
            state.own_log().remove(&entry.task_id);
        }
        if let Some(status) = last {
            updates::report(&app, status);
        }
    });
}

/// Cancels the batch on `slug`: at once if this app runs it, else by
/// asking its owner (or ending it, if its owner is gone).
pub async fn cancel<R: Runtime>(app: &AppHandle<R>, slug: &str) -> Result<TaskStatus, AppError> {
    let state = app.state::<AppState>();
    let slug = Slug::parse(slug)?;
    if let Some(run) = state.own_run(slug.as_str()) {
        run.stop.cancel();
        info!(task_id = %run.task_id, slug = %slug, "cancel asked in the app");
        let status = state.board().get(&run.task_id).cloned();
        return status.ok_or_else(|| {
            AppError::new(ErrorCode::TaskNotFound, format!("no batch is running on '{slug}'"))
        });
    }
    let desk = state.desk()?;
    let status = desk.cancel(&slug).await?;
    updates::report(app, status.clone());
    Ok(status)
}

/// Resumes, among `statuses`, the batches this app started whose workers
/// died with an earlier run of the app.
pub async fn resume_interrupted<R: Runtime>(app: &AppHandle<R>, statuses: &[TaskStatus]) {
    let state = app.state::<AppState>();
    let Ok(desk) = state.desk() else {
        return;
    };
    for status in statuses.iter().filter(|s| s.interrupted && !s.state.is_finished()) {
        let entry = state.own_log().get(&status.task_id).cloned();
        let Some(entry) = entry else {
            continue;
        };
        if entry.library != desk.library().root() || state.own_run(&entry.slug).is_some() {
            continue;
        }
        info!(
            task_id = %entry.task_id,
            slug = %entry.slug,
            "resuming a batch interrupted when the app last stopped"
        );
        match start(app, &entry.slug, entry.options.clone()).await {
            Ok(started) if started.status.task_id != entry.task_id => {
                warn!(
                    task_id = %entry.task_id,
                    now = %started.status.task_id,
                    "another batch runs on the project; the interrupted one is left"
                );
            }
            Ok(_) => {}
            Err(error) => {
                warn!(
                    task_id = %entry.task_id,
                    %error,
                    "could not resume an interrupted batch; it is tried again later"
                );
            }
        }
    }
}
