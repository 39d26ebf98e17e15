//! Watching Redis for batches run by anyone: `kdesk` in a terminal, the app
//! on another machine, or this app before it restarted.
//!
//! The watcher subscribes to the channel on which every batch announces
//! each change, and asks for the status of the batch named in each notice
//! (several notices at once cost one look-up per batch). Notices can be
//! missed while disconnected, so after every (re)connection, and every
//! half minute as a safety net, it reads all ongoing batches again. While
//! Redis is unreachable it retries with a growing delay, which the UI shows
//! as a countdown. Rule: a notice is only a hint to look; the status read
//! afterwards is what counts.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use tauri::{AppHandle, Manager, Runtime};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use kdesk_core::tracking::keys::EVENTS_CHANNEL;

use crate::batches;
use crate::events::{emit, AppEvent};
use crate::state::AppState;
use crate::updates;
use crate::views::{RedisHealth, RedisState};

/// The first delay before trying an unreachable Redis again; it doubles.
const FIRST_RETRY: Duration = Duration::from_secs(2);

/// The longest delay between two attempts.
const MAX_RETRY: Duration = Duration::from_secs(30);

/// How often all ongoing batches are read again while connected.
const RESYNC_EVERY: Duration = Duration::from_secs(30);

/// How long connecting and subscribing may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs for the life of the app.
pub async fn watch<R: Runtime>(app: AppHandle<R>) {
    let mut delay = FIRST_RETRY;
    loop {
        let state = app.state::<AppState>();
        let generation = state.generation();
        match subscribe(&state).await {
            Ok(pubsub) => {
                delay = FIRST_RETRY;
                set_health(&app, RedisState::Connected, None, None);
                resync(&app).await;
                listen(&app, pubsub, generation).await;
            }
            Err(reason) => {
                let retry_at =
                    chrono::Utc::now() + chrono::Duration::milliseconds(delay.as_millis() as i64);
                set_health(&app, RedisState::Unreachable, Some(reason), Some(retry_at));
                resync(&app).await;
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = state.wake.notified() => {}
                }
                delay = (delay * 2).min(MAX_RETRY);
            }
        }
    }
}

/// Connects a subscriber; on failure, says why in the core's words (which
/// never show the password).
async fn subscribe(state: &AppState) -> Result<redis::aio::PubSub, String> {
    let effective = state.effective().map_err(|error| error.message)?;
    let attempt = async {
        let client = redis::Client::open(effective.redis_url.as_str())?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(EVENTS_CHANNEL).await?;
        Ok::<_, redis::RedisError>(pubsub)
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, attempt).await {
        Ok(Ok(pubsub)) => return Ok(pubsub),
        Ok(Err(error)) => debug!(%error, "redis subscription failed"),
        Err(_) => debug!("redis subscription timed out"),
    }
    let reason = match state.desk() {
        Ok(desk) => match desk.redis_reachable().await {
            Err(error) => error.to_string(),
            Ok(()) => format!("redis at '{}' refused the subscription", effective.redis),
        },
        Err(error) => error.message,
    };
    Err(reason)
}

/// Follows notices until the connection drops or the settings change.
async fn listen<R: Runtime>(app: &AppHandle<R>, pubsub: redis::aio::PubSub, generation: u64) {
    let state = app.state::<AppState>();
    let mut messages = pubsub.into_on_message();
    let mut next_resync = Instant::now() + RESYNC_EVERY;
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else {
                    info!("redis subscription lost; reconnecting");
                    return;
                };
                // Notices that came together are looked up once per batch.
                let mut task_ids = BTreeSet::new();
                task_ids.extend(message.get_payload::<String>().ok());
                while let Some(Some(more)) = messages.next().now_or_never() {
                    task_ids.extend(more.get_payload::<String>().ok());
                }
                for task_id in task_ids {
                    refresh(app, &task_id).await;
                }
            }
            _ = tokio::time::sleep_until(next_resync) => {
                next_resync = Instant::now() + RESYNC_EVERY;
                if !resync(app).await {
                    return;
                }
            }
            _ = state.wake.notified() => {
                if state.generation() != generation {
                    return;
                }
            }
        }
    }
}

/// Reads one batch after a notice about it.
async fn refresh<R: Runtime>(app: &AppHandle<R>, task_id: &str) {
    let state = app.state::<AppState>();
    if state.is_own_task(task_id) {
        return;
    }
    let Ok(desk) = state.desk() else {
        return;
    };
    match desk.task_status(task_id).await {
        Ok(Some(status)) => updates::report(app, status),
        Ok(None) => {
            let slug = state.board().get(task_id).map(|s| s.project_slug.clone());
            if let Some(slug) = slug {
                updates::forget(app, task_id, &slug);
            }
        }
        Err(error) => debug!(task_id, %error, "could not read a batch after a notice"),
    }
}

/// Reads every ongoing batch, settles those that ended unseen, and resumes
/// this app's interrupted ones. Returns whether Redis answered.
async fn resync<R: Runtime>(app: &AppHandle<R>) -> bool {
    let state = app.state::<AppState>();
    let Ok(desk) = state.desk() else {
        return false;
    };
    let (statuses, redis_error) = match desk.ongoing().await {
        Ok(found) => found,
        Err(error) => {
            warn!(%error, "could not list the ongoing batches");
            return false;
        }
    };
    for status in &statuses {
        if !state.is_own_task(&status.task_id) {
            updates::report(app, status.clone());
        }
    }

    // Batches shown as running that are no longer listed have ended (or
    // vanished) while no notice reached us.
    let shown = state.board().ongoing();
    for gone in shown.iter().filter(|s| !statuses.iter().any(|o| o.task_id == s.task_id)) {
        if state.is_own_task(&gone.task_id) {
            continue;
        }
        match desk.task_status(&gone.task_id).await {
            Ok(Some(status)) => updates::report(app, status),
            Ok(None) => updates::forget(app, &gone.task_id, &gone.project_slug),
            Err(error) => debug!(task_id = %gone.task_id, %error, "could not settle a batch"),
        }
    }

    let mut alive = statuses.clone();
    alive.extend(shown.into_iter().filter(|s| state.is_own_task(&s.task_id)));
    state.own_log().keep_only_ongoing(desk.library().root(), &alive);
    batches::resume_interrupted(app, &statuses).await;
    if let Some(error) = &redis_error {
        debug!(%error, "ongoing batches read from this computer's record only");
    }
    redis_error.is_none()
}

fn set_health<R: Runtime>(
    app: &AppHandle<R>,
    state_now: RedisState,
    message: Option<String>,
    retry_at: Option<chrono::DateTime<chrono::Utc>>,
) {
    let state = app.state::<AppState>();
    let url = state.effective().map(|e| e.redis.to_string()).unwrap_or_default();
    let health = RedisHealth {
        state: state_now,
        url,
        message,
        retry_at_ms: retry_at.map(|t| t.timestamp_millis() as f64),
    };
    let before = state.health().state;
    if before != health.state {
        match health.state {
            RedisState::Connected => info!(url = %health.url, "redis connected"),
            _ => {
                warn!(
                    url = %health.url,
                    reason = ?health.message,
                    "redis unreachable; tracking on this computer"
                )
            }
        }
    }
    if state.set_health(health.clone()) {
        emit(app, AppEvent::RedisChanged { health });
    }
}
