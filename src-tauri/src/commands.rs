//! The commands the UI calls: thin adapters that take the app's state, call
//! the core (or [`crate::batches`]) and return a view or an [`AppError`].
//!
//! Rule: a command does no work of its own beyond shaping data; anything
//! with a rule in it lives in the module that owns that rule. Every command
//! is listed in `app_commands!` (lib.rs), in `build.rs` and in the
//! capability file; a test checks that the three agree.

use std::collections::HashMap;

use tauri::{AppHandle, Manager, Runtime, State};

use kdesk_core::TaskStatus;
use kdesk_library::{Project, Slug};
use kdesk_ocr::read_output_meta;

use crate::batches;
use crate::error::{AppError, ErrorCode};
use crate::events::{emit, AppEvent};
use crate::settings::{SettingsInput, SettingsView};
use crate::state::AppState;
use crate::updates;
use crate::views::{
    BatchPreview, HistoryEntry, LastBatch, Overview, PageInfo, PageState, PageText, ProjectDetail,
    ProjectSummary, RedisHealth, RunOptions, SkipGroup, StartedBatch,
};

/// Finished batches read to find each project's last one.
const HISTORY_SCAN: usize = 1000;

/// Version, library and Redis, for the app's frame.
#[tauri::command]
#[specta::specta]
pub async fn app_overview(state: State<'_, AppState>) -> Result<Overview, AppError> {
    let library = state.effective().map(|e| e.library.display().to_string()).unwrap_or_default();
    Ok(Overview {
        version: env!("CARGO_PKG_VERSION").to_string(),
        host: kdesk_core::owner::this_host(),
        library,
        library_problem: state.desk().err(),
        redis: state.health(),
    })
}

/// Every project of the library, with its last batch and running batch.
#[tauri::command]
#[specta::specta]
pub async fn list_projects(state: State<'_, AppState>) -> Result<Vec<ProjectSummary>, AppError> {
    let desk = state.desk()?;
    let projects = desk.library().projects()?;
    let last = last_batches(&desk.history(HISTORY_SCAN)?);
    projects.iter().map(|project| summary(&state, project, &last)).collect()
}

/// A project and the state of each of its pages.
#[tauri::command]
#[specta::specta]
pub async fn project_detail(
    state: State<'_, AppState>,
    slug: String,
) -> Result<ProjectDetail, AppError> {
    let desk = state.desk()?;
    let project = desk.library().project(&Slug::parse(&slug)?)?;
    let last = last_batches(&desk.history(HISTORY_SCAN)?);
    let summary = summary(&state, &project, &last)?;

    // Failures of the running batch, else of the last one.
    let failures: HashMap<&str, &str> = summary
        .running
        .as_ref()
        .map(|s| &s.failed_pages)
        .or_else(|| last.get(project.slug.as_str()).map(|s| &s.failed_pages))
        .map(|pages| pages.iter().map(|p| (p.page_id.as_str(), p.reason.as_str())).collect())
        .unwrap_or_default();
    let output_dir = project.output_dir();
    let pages = project
        .pages()?
        .into_iter()
        .map(|page| {
            let meta = read_output_meta(&output_dir, &page.id);
            let failure = failures.get(page.id.as_str()).map(|r| r.to_string());
            let state = match (&meta, &failure) {
                (Some(_), _) => PageState::Done,
                (None, Some(_)) => PageState::Failed,
                (None, None) => PageState::NotDone,
            };
            PageInfo {
                file_name: page
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                id: page.id,
                frame: page.frame,
                state,
                engine: meta.as_ref().map(|m| m.engine.clone()),
                language: meta.as_ref().map(|m| m.language.clone()),
                confidence: meta.as_ref().and_then(|m| m.mean_confidence),
                words: meta.as_ref().map(|m| m.words),
                finished_at: meta.as_ref().map(|m| m.finished_at.to_rfc3339()),
                failure: if meta.is_some() { None } else { failure },
            }
        })
        .collect();
    Ok(ProjectDetail { project: summary, pages })
}

/// The recognised text of one page.
#[tauri::command]
#[specta::specta]
pub async fn page_text(
    state: State<'_, AppState>,
    slug: String,
    page_id: String,
) -> Result<PageText, AppError> {
    let desk = state.desk()?;
    let project = desk.library().project(&Slug::parse(&slug)?)?;
    let output_dir = project.output_dir();
    let not_done = || {
        AppError::new(
            ErrorCode::NotFound,
            format!("page '{page_id}' of '{slug}' has no text yet; run OCR on the project first"),
        )
    };
    let meta = read_output_meta(&output_dir, &page_id).ok_or_else(not_done)?;
    let path = output_dir.join(format!("{page_id}.txt"));
    let text = std::fs::read_to_string(&path).map_err(|error| {
        let message = format!("cannot read '{}': {error}; check the file", path.display());
        AppError::new(ErrorCode::Io, message)
    })?;
    Ok(PageText {
        page_id,
        text,
        engine: meta.engine,
        engine_version: meta.engine_version,
        language: meta.language,
        confidence: meta.mean_confidence,
        words: meta.words,
        finished_at: meta.finished_at.to_rfc3339(),
    })
}

/// How many pages a batch would run and which it would skip, and why.
#[tauri::command]
#[specta::specta]
pub async fn preview_batch(
    state: State<'_, AppState>,
    slug: String,
    options: RunOptions,
) -> Result<BatchPreview, AppError> {
    let desk = state.desk()?;
    let effective = state.effective()?;
    let slug = Slug::parse(&slug)?;
    let project = desk.library().project(&slug)?;
    let request = batches::request_for(&options, &effective, &project);
    let plan = desk.preview(&slug, &request).await?;
    let running = match desk.status(&slug).await {
        Ok(status) => status.filter(|s| !s.state.is_finished()),
        Err(error) if error.is_transient() => state.board().running_on(slug.as_str()).cloned(),
        Err(error) => return Err(error.into()),
    };
    let mut skipped: Vec<SkipGroup> = Vec::new();
    for page in &plan.skipped {
        let reason = skip_reason(&page.reason);
        match skipped.iter_mut().find(|group| group.reason == reason) {
            Some(group) => group.pages.push(page.page_id.clone()),
            None => skipped.push(SkipGroup { reason, pages: vec![page.page_id.clone()] }),
        }
    }
    Ok(BatchPreview {
        slug: slug.to_string(),
        engine: request.engine.unwrap_or_else(|| project.metadata.engine.clone()),
        language: request.language.unwrap_or_else(|| project.metadata.language.clone()),
        force: options.force,
        total: count(plan.total),
        to_run: count(plan.to_run.len() as u64),
        skipped,
        workers: effective.workers,
        running,
    })
}

/// Starts (or resumes) a batch; when one runs already, returns that one.
#[tauri::command]
#[specta::specta]
pub async fn start_batch<R: Runtime>(
    app: AppHandle<R>,
    slug: String,
    options: RunOptions,
) -> Result<StartedBatch, AppError> {
    batches::start(&app, &slug, options).await
}

/// Cancels a project's batch; pages being recognised finish first.
#[tauri::command]
#[specta::specta]
pub async fn cancel_batch<R: Runtime>(
    app: AppHandle<R>,
    slug: String,
) -> Result<TaskStatus, AppError> {
    batches::cancel(&app, &slug).await
}

/// A batch's status now, for a view that opens or reconnects.
#[tauri::command]
#[specta::specta]
pub async fn batch_status<R: Runtime>(
    app: AppHandle<R>,
    task_id: String,
) -> Result<Option<TaskStatus>, AppError> {
    let state = app.state::<AppState>();
    if state.is_own_task(&task_id) {
        return Ok(state.board().get(&task_id).cloned());
    }
    let status = state.desk()?.task_status(&task_id).await?;
    if let Some(status) = &status {
        updates::report(&app, status.clone());
    }
    // The board may hold a newer status than a late answer.
    let newest = state.board().get(&task_id).cloned();
    Ok(newest.or(status))
}

/// Every unfinished batch: in Redis, and this computer's own.
#[tauri::command]
#[specta::specta]
pub async fn ongoing_batches<R: Runtime>(app: AppHandle<R>) -> Result<Vec<TaskStatus>, AppError> {
    let state = app.state::<AppState>();
    let (statuses, _redis_error) = state.desk()?.ongoing().await?;
    for status in statuses {
        if !state.is_own_task(&status.task_id) {
            updates::report(&app, status);
        }
    }
    let ongoing = state.board().ongoing();
    Ok(ongoing)
}

/// Finished batches of this library, newest first.
#[tauri::command]
#[specta::specta]
pub async fn batch_history(
    state: State<'_, AppState>,
    limit: u32,
) -> Result<Vec<HistoryEntry>, AppError> {
    let desk = state.desk()?;
    let mut titles: HashMap<String, String> = HashMap::new();
    let history = desk.history(limit.clamp(1, 1000) as usize)?;
    let entries = history
        .into_iter()
        .map(|status| {
            let title = titles
                .entry(status.project_slug.clone())
                .or_insert_with(|| updates::project_title(&state, &status.project_slug))
                .clone();
            history_entry(status, title)
        })
        .collect();
    Ok(entries)
}

/// Whether Redis answers, and when it is tried next.
#[tauri::command]
#[specta::specta]
pub async fn redis_health(state: State<'_, AppState>) -> Result<RedisHealth, AppError> {
    Ok(state.health())
}

/// The settings form's content.
#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> Result<SettingsView, AppError> {
    state.load_languages().await;
    state.settings_view()
}

/// Checks and keeps the settings; every refused field is named.
#[tauri::command]
#[specta::specta]
pub async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    input: SettingsInput,
) -> Result<SettingsView, AppError> {
    let state = app.state::<AppState>();
    let languages = state.load_languages().await;
    let next = state.settings().with_input(&input, state.environment(), languages.as_deref())?;
    if next != state.settings() {
        state.replace_settings(next)?;
        emit(&app, AppEvent::SettingsChanged);
    }
    state.settings_view()
}

fn summary(
    state: &AppState,
    project: &Project,
    last: &HashMap<String, TaskStatus>,
) -> Result<ProjectSummary, AppError> {
    let pages = project.pages()?.len() as u64;
    let last_batch = last.get(project.slug.as_str()).map(|status| LastBatch {
        task_id: status.task_id.clone(),
        state: status.state,
        outcome: status.outcome,
        done: count(status.done),
        failed: count(status.failed),
        finished_at: status.finished_at.map(|t| t.to_rfc3339()),
    });
    Ok(ProjectSummary {
        slug: project.slug.to_string(),
        title: project.metadata.title.clone(),
        pages: count(pages),
        language: project.metadata.language.clone(),
        engine: project.metadata.engine.clone(),
        last_batch,
        running: state.board().running_on(project.slug.as_str()).cloned(),
    })
}

/// The newest finished batch of each project, from a newest-first history.
fn last_batches(history: &[TaskStatus]) -> HashMap<String, TaskStatus> {
    let mut last = HashMap::new();
    for status in history {
        last.entry(status.project_slug.clone()).or_insert_with(|| status.clone());
    }
    last
}

fn history_entry(status: TaskStatus, project_title: String) -> HistoryEntry {
    let started = chrono::DateTime::parse_from_rfc3339(&status.started_at).ok();
    let duration_seconds = match (started, status.finished_at) {
        (Some(started), Some(finished)) => Some(
            (finished - started.with_timezone(&chrono::Utc)).num_milliseconds() as f64 / 1000.0,
        ),
        _ => None,
    };
    HistoryEntry {
        project_title,
        total: count(status.total),
        done: count(status.done),
        failed: count(status.failed),
        skipped: count(status.skipped),
        finished_at: status.finished_at.map(|t| t.to_rfc3339()),
        duration_seconds,
        state: status.state,
        outcome: status.outcome,
        task_id: status.task_id,
        project_slug: status.project_slug,
        engine: status.engine,
        language: status.language,
        started_at: status.started_at,
    }
}

/// The general reason for a skipped page, as the Run OCR form says it.
fn skip_reason(reason: &str) -> String {
    if reason.starts_with("already has text") {
        "already have text from the same engine and language; tick \"Redo pages that have \
         text\" to recognise them again"
            .to_string()
    } else {
        reason.to_string()
    }
}

/// Page counts fit a u32 (and a JavaScript number) by a wide margin.
fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
