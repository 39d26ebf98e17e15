//! The app's picture of every batch it knows of: the latest status of each,
//! and which ones it has seen running.
//!
//! Statuses arrive from several places (this process's own batches, Redis
//! notices about others, full resyncs), not always in order. The board keeps
//! the newest and tells its caller what changed, including the moment a
//! batch it saw running ends, which is when a notification is due. Rule: a
//! status never goes backwards: a finished batch does not become running
//! again, and the pages counted as finished never decrease.

use std::collections::{HashMap, HashSet};

use kdesk_core::{Source, TaskStatus};

/// What applying a status changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Nothing new, or an older status than the one held.
    Unchanged,
    Updated,
    /// The batch has just ended. `seen_running` is whether this app saw it
    /// running before, which is when the editor is told.
    Ended {
        seen_running: bool,
    },
}

#[derive(Default)]
pub struct Board {
    /// Latest status by task id; finished batches stay until forgotten.
    tasks: HashMap<String, TaskStatus>,
    /// Task ids seen in an unfinished state by this process.
    seen_running: HashSet<String>,
}

impl Board {
    pub fn apply(&mut self, status: TaskStatus) -> Change {
        let previous = self.tasks.get(&status.task_id);
        if let Some(previous) = previous {
            if previous == &status || is_older(previous, &status) {
                return Change::Unchanged;
            }
        }
        let was_finished = previous.is_some_and(|p| p.state.is_finished());
        let finished = status.state.is_finished();
        let seen_running = self.seen_running.contains(&status.task_id);
        if !finished {
            self.seen_running.insert(status.task_id.clone());
        }
        self.tasks.insert(status.task_id.clone(), status);
        if finished && !was_finished {
            Change::Ended { seen_running }
        } else {
            Change::Updated
        }
    }

    /// Drops a batch that is gone without an end state (another
    /// application's record expired or was removed). True if it was known.
    pub fn forget(&mut self, task_id: &str) -> bool {
        self.seen_running.remove(task_id);
        self.tasks.remove(task_id).is_some()
    }

    pub fn get(&self, task_id: &str) -> Option<&TaskStatus> {
        self.tasks.get(task_id)
    }

    /// Unfinished batches, by project slug.
    pub fn ongoing(&self) -> Vec<TaskStatus> {
        let mut ongoing: Vec<TaskStatus> =
            self.tasks.values().filter(|s| !s.state.is_finished()).cloned().collect();
        ongoing.sort_by(|a, b| a.project_slug.cmp(&b.project_slug));
        ongoing
    }

    /// The unfinished batch of a project, if one is known.
    pub fn running_on(&self, slug: &str) -> Option<&TaskStatus> {
        self.tasks.values().find(|s| s.project_slug == slug && !s.state.is_finished())
    }

    /// Whether a batch of ours (this app, `kdesk` here or on another
    /// machine) is running; another application's records, and batches
    /// whose owner is gone, do not count.
    pub fn any_of_ours_running(&self) -> bool {
        self.tasks
            .values()
            .any(|s| !s.state.is_finished() && !s.interrupted && s.source != Source::Elsewhere)
    }
}

/// Whether `next` is older news than `held` about the same batch.
fn is_older(held: &TaskStatus, next: &TaskStatus) -> bool {
    if held.state.is_finished() {
        return !next.state.is_finished();
    }
    if next.state.is_finished() {
        return false;
    }
    let counted = |s: &TaskStatus| s.done + s.failed + s.skipped;
    counted(next) < counted(held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdesk_core::{Outcome, TaskState};

    fn status(task_id: &str, state: TaskState, done: u64) -> TaskStatus {
        TaskStatus {
            task_id: task_id.into(),
            project_slug: "gita".into(),
            engine: "tesseract".into(),
            language: "san".into(),
            started_at: "2026-12-04T10:00:00.000+00:00".into(),
            state,
            outcome: state.is_finished().then_some(Outcome::Succeeded),
            total: 4,
            done,
            failed: 0,
            skipped: 0,
            running: 0,
            queued: 4 - done,
            percent: done as f64 * 25.0,
            pages_per_minute: None,
            mean_page_seconds: None,
            eta_seconds: None,
            failed_pages: Vec::new(),
            finished_at: None,
            owner: "host:1:a".into(),
            source: Source::Redis,
            interrupted: false,
        }
    }

    #[test]
    fn an_end_seen_running_is_reported_once() {
        let mut board = Board::default();
        assert_eq!(board.apply(status("t", TaskState::Progress, 1)), Change::Updated);
        let ended = board.apply(status("t", TaskState::Success, 4));
        assert_eq!(ended, Change::Ended { seen_running: true });
        assert_eq!(board.apply(status("t", TaskState::Success, 4)), Change::Unchanged);
        assert!(board.ongoing().is_empty());
    }

    #[test]
    fn a_batch_first_seen_finished_was_not_seen_running() {
        let mut board = Board::default();
        let change = board.apply(status("t", TaskState::Success, 4));
        assert_eq!(change, Change::Ended { seen_running: false });
    }

    #[test]
    fn late_news_does_not_undo_progress_or_an_end() {
        let mut board = Board::default();
        board.apply(status("t", TaskState::Progress, 3));
        assert_eq!(board.apply(status("t", TaskState::Progress, 2)), Change::Unchanged);
        assert_eq!(board.get("t").unwrap().done, 3);
        board.apply(status("t", TaskState::Cancelled, 3));
        assert_eq!(board.apply(status("t", TaskState::Progress, 3)), Change::Unchanged);
        assert!(board.get("t").unwrap().state.is_finished());
    }

    #[test]
    fn running_on_finds_the_unfinished_batch_of_a_project() {
        let mut board = Board::default();
        board.apply(status("old", TaskState::Success, 4));
        board.apply(status("new", TaskState::Progress, 1));
        assert_eq!(board.running_on("gita").unwrap().task_id, "new");
        assert!(board.any_of_ours_running());
        let mut foreign = status("web", TaskState::Progress, 0);
        foreign.project_slug = "other".into();
        foreign.source = Source::Elsewhere;
        board.forget("new");
        board.apply(foreign);
        assert!(!board.any_of_ours_running(), "another application's batch does not count");
    }
}
