//! The shapes that cross the bridge to the UI, apart from the core's
//! `TaskStatus` and the settings: what each command takes and returns.
//!
//! These are plain data; building them is the commands' business. Rule:
//! every type here derives `specta::Type`, and the UI's TypeScript types are
//! generated from them (see `bindings`), never written by hand.

use serde::{Deserialize, Serialize};

use kdesk_core::{Outcome, TaskState, TaskStatus};

use crate::error::AppError;

/// What the app is connected to, shown in its frame.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct Overview {
    pub version: String,
    /// This computer's name, as batches' owners name it.
    pub host: String,
    pub library: String,
    /// Why the library cannot be used now, if it cannot.
    pub library_problem: Option<AppError>,
    pub redis: RedisHealth,
}

/// Whether Redis answers, as the status line shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RedisHealth {
    pub state: RedisState,
    /// The server, with its password hidden.
    pub url: String,
    /// Why it is unreachable, when it is.
    pub message: Option<String>,
    /// When the next attempt is made (milliseconds since 1970, UTC), while
    /// unreachable; the UI counts down to it.
    pub retry_at_ms: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum RedisState {
    /// Not tried yet since the app started or the settings changed.
    Connecting,
    Connected,
    /// Batches are tracked on this computer until Redis answers again.
    Unreachable,
}

/// One project in the list.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct ProjectSummary {
    pub slug: String,
    pub title: String,
    pub pages: u32,
    pub language: String,
    pub engine: String,
    /// The newest finished batch of this project on this computer.
    pub last_batch: Option<LastBatch>,
    /// The project's unfinished batch, whoever runs it.
    pub running: Option<TaskStatus>,
}

#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct LastBatch {
    pub task_id: String,
    pub state: TaskState,
    pub outcome: Option<Outcome>,
    pub done: u32,
    pub failed: u32,
    /// RFC 3339, UTC.
    pub finished_at: Option<String>,
}

/// A project with its pages.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct ProjectDetail {
    pub project: ProjectSummary,
    pub pages: Vec<PageInfo>,
}

/// Where a page stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum PageState {
    /// Has text on disk.
    Done,
    /// Failed in the project's running or last batch, and has no text.
    Failed,
    NotDone,
}

#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct PageInfo {
    pub id: String,
    pub file_name: String,
    /// Frame of a multi-page TIFF, 0-based.
    pub frame: Option<u32>,
    pub state: PageState,
    pub engine: Option<String>,
    pub language: Option<String>,
    /// Tesseract's mean word confidence, 0–100.
    pub confidence: Option<f32>,
    pub words: Option<u32>,
    pub finished_at: Option<String>,
    /// Why the page failed, for [`PageState::Failed`].
    pub failure: Option<String>,
}

/// The recognised text of a page and how it was made.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct PageText {
    pub page_id: String,
    pub text: String,
    pub engine: String,
    pub engine_version: String,
    pub language: String,
    pub confidence: Option<f32>,
    pub words: u32,
    pub finished_at: String,
}

/// What the editor chose in the Run OCR form. Left-out values come from
/// the project, then the settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct RunOptions {
    pub engine: Option<String>,
    pub language: Option<String>,
    /// Redo pages that already have text from the same engine and language.
    pub force: bool,
    /// Only these pages (a retry of failed ones); all when left out.
    pub only_pages: Option<Vec<String>>,
}

/// What a batch would do, shown before it starts.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct BatchPreview {
    pub slug: String,
    pub engine: String,
    pub language: String,
    pub force: bool,
    pub total: u32,
    /// Pages that will be recognised.
    pub to_run: u32,
    /// Pages skipped, grouped by why.
    pub skipped: Vec<SkipGroup>,
    /// Workers of this app that will recognise pages (0: `kdesk worker`s).
    pub workers: u32,
    /// The project's unfinished batch: starting would open it instead.
    pub running: Option<TaskStatus>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, specta::Type)]
pub struct SkipGroup {
    pub reason: String,
    pub pages: Vec<String>,
}

/// The batch a Run OCR led to.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct StartedBatch {
    pub status: TaskStatus,
    /// A batch was running on the project already; this is that batch.
    pub already_running: bool,
    /// This continues an interrupted batch under its own task id.
    pub resumed: bool,
}

/// A finished batch, for the history.
#[derive(Clone, Debug, Serialize, specta::Type)]
pub struct HistoryEntry {
    pub task_id: String,
    pub project_slug: String,
    pub project_title: String,
    pub state: TaskState,
    pub outcome: Option<Outcome>,
    pub total: u32,
    pub done: u32,
    pub failed: u32,
    pub skipped: u32,
    pub engine: String,
    pub language: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub duration_seconds: Option<f64>,
}
