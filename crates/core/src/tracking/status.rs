//! What a batch looks like to anyone asking: its counters as the owner
//! publishes them, and the progress derived from them.
//!
//! The owner of a batch keeps a [`TaskSnapshot`] and publishes it whole;
//! readers turn it into a [`TaskStatus`]. Rule: every derived figure
//! (queued, percent, time left) is computed here and nowhere else, so the
//! command line, the app and the tests agree.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The lifecycle of a batch, in the names the original's status endpoint used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskState {
    Pending,
    Progress,
    Success,
    Failure,
    Cancelled,
}

impl TaskState {
    pub fn is_finished(self) -> bool {
        matches!(self, TaskState::Success | TaskState::Failure | TaskState::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Pending => "PENDING",
            TaskState::Progress => "PROGRESS",
            TaskState::Success => "SUCCESS",
            TaskState::Failure => "FAILURE",
            TaskState::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<TaskState> {
        [
            TaskState::Pending,
            TaskState::Progress,
            TaskState::Success,
            TaskState::Failure,
            TaskState::Cancelled,
        ]
        .into_iter()
        .find(|state| state.as_str() == text)
    }
}

/// How a finished batch went. `SUCCESS` covers both of the first two.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every page has its text.
    Succeeded,
    /// The batch ran to its end but some pages failed; they are named.
    FinishedWithFailures,
    /// No page could be read, or the batch itself broke down.
    Failed,
    Cancelled,
}

impl Outcome {
    pub fn from_counts(done: u64, failed: u64, cancelled: bool) -> Outcome {
        match (cancelled, done, failed) {
            (true, _, _) => Outcome::Cancelled,
            (false, _, 0) => Outcome::Succeeded,
            (false, 0, _) => Outcome::Failed,
            (false, _, _) => Outcome::FinishedWithFailures,
        }
    }

    pub fn state(self) -> TaskState {
        match self {
            Outcome::Succeeded | Outcome::FinishedWithFailures => TaskState::Success,
            Outcome::Failed => TaskState::Failure,
            Outcome::Cancelled => TaskState::Cancelled,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::FinishedWithFailures => "finished_with_failures",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        [Outcome::Succeeded, Outcome::FinishedWithFailures, Outcome::Failed, Outcome::Cancelled]
            .into_iter()
            .find(|outcome| outcome.as_str() == text)
    }
}

/// A page that failed for good, with the reason from its last attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FailedPage {
    pub page_id: String,
    pub reason: String,
    pub attempts: u32,
}

/// Where the figures of a status come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Published in Redis by the batch's owner.
    Redis,
    /// Read from this computer's local record: Redis is unreachable or forgot the batch.
    LocalRecord,
    /// Only the `ocr_task` record exists: another application runs this batch.
    Elsewhere,
}

/// The owner's view of a batch, published whole on every change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskSnapshot {
    pub task_id: String,
    pub project_slug: String,
    pub engine: String,
    pub language: String,
    pub started_at: String,
    pub state: TaskState,
    pub outcome: Option<Outcome>,
    pub total: u64,
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Pages being recognised by this process's own pool when jobs do not go
    /// through Redis (the queue is local); zero otherwise.
    pub running_locally: u64,
    /// When the current owner began, and how many pages it has finished:
    /// the rate, and so the time left, is measured over this run only.
    pub run_started_at: DateTime<Utc>,
    pub run_finished_pages: u64,
    /// Sum of Tesseract's own seconds over the pages finished in this run.
    pub run_page_seconds: f64,
    pub failed_pages: Vec<FailedPage>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `host:pid` of the process that writes the results into the project.
    pub owner: String,
    /// Pages that already had text were to be done again (`--force`); a
    /// resumed batch keeps this.
    #[serde(default)]
    pub force: bool,
}

/// Failed pages beyond this many are counted but not listed in Redis.
const MAX_LISTED_FAILURES: usize = 200;

impl TaskSnapshot {
    /// The `ocr_task` record this batch was started with.
    pub fn record(&self) -> super::TaskRecord {
        super::TaskRecord {
            task_id: self.task_id.clone(),
            engine: self.engine.clone(),
            language: self.language.clone(),
            started_at: self.started_at.clone(),
            project_slug: self.project_slug.clone(),
        }
    }

    /// The fields of the task hash.
    pub fn to_fields(&self) -> Vec<(&'static str, String)> {
        let listed = &self.failed_pages[..self.failed_pages.len().min(MAX_LISTED_FAILURES)];
        let rfc3339 = |time: &DateTime<Utc>| time.to_rfc3339_opts(SecondsFormat::Millis, false);
        vec![
            ("task_id", self.task_id.clone()),
            ("project_slug", self.project_slug.clone()),
            ("engine", self.engine.clone()),
            ("language", self.language.clone()),
            ("started_at", self.started_at.clone()),
            ("state", self.state.as_str().to_string()),
            ("outcome", self.outcome.map(Outcome::as_str).unwrap_or("").to_string()),
            ("total", self.total.to_string()),
            ("done", self.done.to_string()),
            ("failed", self.failed.to_string()),
            ("skipped", self.skipped.to_string()),
            ("running_locally", self.running_locally.to_string()),
            ("run_started_at", rfc3339(&self.run_started_at)),
            ("run_finished_pages", self.run_finished_pages.to_string()),
            ("run_page_seconds", format!("{:.3}", self.run_page_seconds)),
            ("failed_pages", serde_json::to_string(listed).unwrap_or_default()),
            ("finished_at", self.finished_at.as_ref().map(rfc3339).unwrap_or_default()),
            ("owner", self.owner.clone()),
            ("force", if self.force { "1" } else { "0" }.to_string()),
        ]
    }

    /// Reads the task hash back; `None` when a field is missing or malformed
    /// (the hash was not written by us, or by an incompatible version).
    pub fn from_fields(fields: &HashMap<String, String>) -> Option<TaskSnapshot> {
        let text = |name: &str| fields.get(name).cloned();
        let number = |name: &str| fields.get(name)?.parse::<u64>().ok();
        let time = |name: &str| {
            DateTime::parse_from_rfc3339(fields.get(name)?).ok().map(|t| t.with_timezone(&Utc))
        };
        Some(TaskSnapshot {
            task_id: text("task_id")?,
            project_slug: text("project_slug")?,
            engine: text("engine")?,
            language: text("language")?,
            started_at: text("started_at")?,
            state: TaskState::parse(fields.get("state")?)?,
            outcome: fields.get("outcome").and_then(|o| Outcome::parse(o)),
            total: number("total")?,
            done: number("done")?,
            failed: number("failed")?,
            skipped: number("skipped")?,
            running_locally: number("running_locally").unwrap_or(0),
            run_started_at: time("run_started_at")?,
            run_finished_pages: number("run_finished_pages").unwrap_or(0),
            run_page_seconds: fields.get("run_page_seconds")?.parse().ok()?,
            failed_pages: serde_json::from_str(fields.get("failed_pages")?).ok()?,
            finished_at: time("finished_at"),
            owner: text("owner").unwrap_or_default(),
            force: fields.get("force").is_some_and(|flag| flag == "1"),
        })
    }

    /// The status as of `now`, with `running_in_queue` pages held by
    /// workers on the Redis queue.
    pub fn status(&self, running_in_queue: u64, source: Source, now: DateTime<Utc>) -> TaskStatus {
        let finished = self.done + self.failed + self.skipped;
        let remaining = self.total.saturating_sub(finished);
        let running = if self.state.is_finished() {
            0
        } else {
            (self.running_locally + running_in_queue).min(remaining)
        };
        let percent = if self.total == 0 {
            if self.state.is_finished() {
                100.0
            } else {
                0.0
            }
        } else {
            (finished as f64 * 1000.0 / self.total as f64).floor() / 10.0
        };
        let elapsed = (now - self.run_started_at).num_milliseconds().max(0) as f64 / 1000.0;
        let pages_per_minute = (self.run_finished_pages > 0 && elapsed > 0.0)
            .then(|| self.run_finished_pages as f64 * 60.0 / elapsed);
        let eta_seconds = match (self.state.is_finished(), pages_per_minute) {
            (true, _) => Some(0.0),
            (false, Some(rate)) => Some(remaining as f64 * 60.0 / rate),
            (false, None) => None,
        };
        let mean_page_seconds = (self.run_finished_pages > 0)
            .then(|| self.run_page_seconds / self.run_finished_pages as f64);
        TaskStatus {
            task_id: self.task_id.clone(),
            project_slug: self.project_slug.clone(),
            engine: self.engine.clone(),
            language: self.language.clone(),
            started_at: self.started_at.clone(),
            state: self.state,
            outcome: self.outcome,
            total: self.total,
            done: self.done,
            failed: self.failed,
            skipped: self.skipped,
            running,
            queued: remaining - running,
            percent,
            pages_per_minute,
            mean_page_seconds,
            eta_seconds,
            failed_pages: self.failed_pages.clone(),
            finished_at: self.finished_at,
            owner: self.owner.clone(),
            source,
            interrupted: !self.state.is_finished()
                && !crate::owner::Owner::is_alive_reading(&self.owner),
        }
        .settled()
    }
}

/// Progress of one batch as shown to people and returned by `--json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TaskStatus {
    pub task_id: String,
    pub project_slug: String,
    pub engine: String,
    pub language: String,
    pub started_at: String,
    pub state: TaskState,
    pub outcome: Option<Outcome>,
    pub total: u64,
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
    pub running: u64,
    pub queued: u64,
    /// Finished pages (done, failed or skipped) over all pages, 0–100, one decimal.
    pub percent: f64,
    pub pages_per_minute: Option<f64>,
    pub mean_page_seconds: Option<f64>,
    pub eta_seconds: Option<f64>,
    pub failed_pages: Vec<FailedPage>,
    pub finished_at: Option<DateTime<Utc>>,
    pub owner: String,
    pub source: Source,
    /// Not finished, and its owner is gone (killed, or quit): nothing runs
    /// until `kdesk ocr` or the app on the owner's computer resumes it.
    pub interrupted: bool,
}

impl TaskStatus {
    /// Marks the batch as having no live owner: nothing runs, no time left
    /// can be promised.
    pub fn mark_interrupted(&mut self) {
        self.interrupted = true;
        self.queued += self.running;
        self.running = 0;
        self.eta_seconds = None;
    }

    fn settled(mut self) -> TaskStatus {
        if self.interrupted {
            self.interrupted = false;
            self.mark_interrupted();
        }
        self
    }

    /// A batch known only from a record another application wrote.
    pub fn elsewhere(record: &super::TaskRecord) -> TaskStatus {
        TaskStatus {
            task_id: record.task_id.clone(),
            project_slug: record.project_slug.clone(),
            engine: record.engine.clone(),
            language: record.language.clone(),
            started_at: record.started_at.clone(),
            state: TaskState::Progress,
            outcome: None,
            total: 0,
            done: 0,
            failed: 0,
            skipped: 0,
            running: 0,
            queued: 0,
            percent: 0.0,
            pages_per_minute: None,
            mean_page_seconds: None,
            eta_seconds: None,
            failed_pages: Vec::new(),
            finished_at: None,
            owner: String::new(),
            source: Source::Elsewhere,
            interrupted: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn snapshot() -> TaskSnapshot {
        TaskSnapshot {
            task_id: "kdesk-t".into(),
            project_slug: "gita".into(),
            engine: "tesseract".into(),
            language: "san".into(),
            started_at: "2026-12-04T10:00:00.000+00:00".into(),
            state: TaskState::Progress,
            outcome: None,
            total: 10,
            done: 3,
            failed: 1,
            skipped: 2,
            running_locally: 0,
            run_started_at: Utc::now() - Duration::seconds(60),
            run_finished_pages: 4,
            run_page_seconds: 8.0,
            failed_pages: vec![FailedPage {
                page_id: "004".into(),
                reason: "not an image".into(),
                attempts: 1,
            }],
            finished_at: None,
            owner: "host:1".into(),
            force: true,
        }
    }

    #[test]
    fn snapshot_survives_the_hash_round_trip() {
        let original = snapshot();
        let fields: HashMap<String, String> =
            original.to_fields().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let read = TaskSnapshot::from_fields(&fields).unwrap();
        assert_eq!(read.failed_pages, original.failed_pages);
        assert!(read.force);
        assert_eq!(read.done, 3);
        assert_eq!(read.state, TaskState::Progress);
        assert_eq!(
            read.run_started_at.timestamp_millis(),
            original.run_started_at.timestamp_millis()
        );
    }

    #[test]
    fn status_counts_apart_and_estimates_from_this_run() {
        let now = Utc::now();
        let status = snapshot().status(2, Source::Redis, now);
        assert_eq!((status.running, status.queued), (2, 2));
        assert_eq!(status.percent, 60.0);
        let rate = status.pages_per_minute.unwrap();
        assert!((rate - 4.0).abs() < 0.1, "{rate}");
        let eta = status.eta_seconds.unwrap();
        assert!((eta - 60.0).abs() < 2.0, "{eta}");
    }

    #[test]
    fn running_never_exceeds_what_is_left() {
        let status = snapshot().status(50, Source::Redis, Utc::now());
        assert_eq!(status.running, 4);
        assert_eq!(status.queued, 0);
    }

    #[test]
    fn outcome_names_failures_apart_from_success() {
        assert_eq!(Outcome::from_counts(5, 0, false), Outcome::Succeeded);
        assert_eq!(Outcome::from_counts(5, 2, false), Outcome::FinishedWithFailures);
        assert_eq!(Outcome::from_counts(0, 2, false), Outcome::Failed);
        assert_eq!(Outcome::from_counts(5, 0, true), Outcome::Cancelled);
        assert_eq!(Outcome::FinishedWithFailures.state(), TaskState::Success);
    }
}
