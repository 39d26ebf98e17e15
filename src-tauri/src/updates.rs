//! Where every batch status the app learns of goes: onto the board, to the
//! UI, to the tray, and when a batch it saw running ends, to a desktop
//! notification.
//!
//! Rule: statuses from every source (the app's own batches, Redis notices,
//! resyncs) go through [`report`], so that ordering, notifications and the
//! tray follow one set of rules.

use tauri::{AppHandle, Manager, Runtime};
use tracing::{info, warn};

use kdesk_core::TaskStatus;
use kdesk_library::Slug;

use crate::board::Change;
use crate::events::{emit, AppEvent};
use crate::notices::{notice_for, Notice};
use crate::state::AppState;
use crate::tray;

/// Takes in a batch's status.
pub fn report<R: Runtime>(app: &AppHandle<R>, status: TaskStatus) {
    let state = app.state::<AppState>();
    let change = state.board().apply(status.clone());
    match change {
        Change::Unchanged => return,
        Change::Updated => {}
        Change::Ended { seen_running } => {
            info!(
                task_id = %status.task_id,
                slug = %status.project_slug,
                outcome = ?status.outcome,
                seen_running,
                "batch ended"
            );
            if seen_running {
                announce(app, &status);
            }
        }
    }
    emit(app, AppEvent::TaskUpdated { status: Box::new(status) });
    tray::refresh(app);
}

/// Drops a batch that vanished without an end state.
pub fn forget<R: Runtime>(app: &AppHandle<R>, task_id: &str, project_slug: &str) {
    let state = app.state::<AppState>();
    if state.board().forget(task_id) {
        emit(
            app,
            AppEvent::TaskGone {
                task_id: task_id.to_string(),
                project_slug: project_slug.to_string(),
            },
        );
        tray::refresh(app);
    }
}

/// Sends the end-of-batch notification, once per batch on this desktop.
fn announce<R: Runtime>(app: &AppHandle<R>, status: &TaskStatus) {
    let state = app.state::<AppState>();
    let title = project_title(&state, &status.project_slug);
    let Some(notice) = notice_for(status, &title) else {
        return;
    };
    if !state.notices().record(&status.task_id, &notice) {
        return;
    }
    show(app, &notice);
}

/// The project's title, or its slug when it cannot be read.
pub fn project_title(state: &AppState, slug: &str) -> String {
    let title = state.desk().ok().and_then(|desk| {
        let slug = Slug::parse(slug).ok()?;
        desk.library().project(&slug).ok().map(|project| project.metadata.title)
    });
    title.unwrap_or_else(|| slug.to_string())
}

fn show<R: Runtime>(app: &AppHandle<R>, notice: &Notice) {
    // The plugin is absent under the test runtime; the log above is kept.
    let Some(plugin) = app.try_state::<tauri_plugin_notification::Notification<R>>() else {
        return;
    };
    let shown = plugin.builder().title(&notice.title).body(&notice.body).show();
    match shown {
        Ok(()) => info!(title = %notice.title, body = %notice.body, "notification sent"),
        Err(error) => warn!(%error, title = %notice.title, "could not show a notification"),
    }
}
