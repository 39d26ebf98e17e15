//! How statuses, plans and errors read in the terminal.

use chrono::Utc;

use kdesk_core::{Outcome, Source, TaskState, TaskStatus};

/// An error and its causes, one sentence after another, without repeats.
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

pub fn duration(seconds: f64) -> String {
    let seconds = seconds.max(0.0).round() as u64;
    match seconds {
        0..=59 => format!("{seconds} s"),
        60..=3599 => format!("{} min {:02} s", seconds / 60, seconds % 60),
        _ => format!("{} h {:02} min", seconds / 3600, (seconds % 3600) / 60),
    }
}

/// The counters of a batch on one line.
pub fn counts(status: &TaskStatus) -> String {
    format!(
        "{} done · {} failed · {} skipped · {} running · {} queued of {}",
        status.done, status.failed, status.skipped, status.running, status.queued, status.total
    )
}

pub fn state(status: &TaskStatus) -> String {
    match (status.state, status.outcome) {
        (TaskState::Success, Some(Outcome::FinishedWithFailures)) => {
            format!("SUCCESS, {} pages failed", status.failed)
        }
        (state, _) => state.as_str().to_string(),
    }
}

/// A few lines about one batch, for `kdesk status`.
pub fn status_block(status: &TaskStatus) -> String {
    let mut lines = Vec::new();
    if status.source == Source::Elsewhere {
        lines.push(format!(
            "{}  running elsewhere (task {}, {} {}, started {})",
            status.project_slug, status.task_id, status.engine, status.language, status.started_at
        ));
        return lines.join("\n");
    }
    lines.push(format!("{}  {}  {:.1}%", status.project_slug, state(status), status.percent));
    lines.push(format!("  {}", counts(status)));
    let mut detail = format!(
        "  task {} · {} ({}) · started {}",
        status.task_id, status.engine, status.language, status.started_at
    );
    if let Some(rate) = status.pages_per_minute {
        detail.push_str(&format!(" · {rate:.1} pages/min"));
    }
    if let (Some(eta), false) = (status.eta_seconds, status.state.is_finished()) {
        detail.push_str(&format!(" · about {} left", duration(eta)));
    }
    lines.push(detail);
    if status.interrupted {
        lines.push(format!(
            "  interrupted: the process running it is gone; `kdesk ocr {}` on its computer \
             resumes it, `kdesk cancel {}` ends it",
            status.project_slug, status.project_slug
        ));
    } else if status.source == Source::LocalRecord {
        lines.push(
            "  (from this computer's record: Redis is unreachable or has forgotten it)".into(),
        );
    }
    if let Some(finished) = status.finished_at {
        let ago = (Utc::now() - finished).num_seconds().max(0) as f64;
        lines.push(format!("  finished {} ago", duration(ago)));
    }
    for failed in &status.failed_pages {
        lines.push(format!("  failed page {}: {}", failed.page_id, failed.reason));
    }
    lines.join("\n")
}
