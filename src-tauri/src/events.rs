//! What the backend tells the UI without being asked.
//!
//! One enum, [`AppEvent`], sent as one Tauri event whose name and payload
//! type are generated into the UI's bindings. Rule: nothing else in the app
//! emits to the UI; everything goes through [`emit`].

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime};
use tauri_specta::Event;
use tracing::debug;

use kdesk_core::TaskStatus;

use crate::views::RedisHealth;

/// A change the UI should show.
#[derive(Clone, Debug, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AppEvent {
    /// A batch moved on, started or ended.
    TaskUpdated { status: Box<TaskStatus> },
    /// A batch vanished without an end state (another application's
    /// record expired); the UI drops it.
    TaskGone { task_id: String, project_slug: String },
    /// Redis became reachable or unreachable.
    RedisChanged { health: RedisHealth },
    /// The library or Redis in use changed: lists must be read again.
    SettingsChanged,
}

/// Sends `event` to every window. A window that is gone is not an error.
pub fn emit<R: Runtime>(app: &AppHandle<R>, event: AppEvent) {
    if let Err(error) = event.emit(app) {
        debug!(%error, "could not send an event to the UI");
    }
}
