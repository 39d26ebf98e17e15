//! Desktop notifications when a batch ends: their wording, and the log that
//! makes sure each batch is announced once on this desktop.
//!
//! The log is a small JSON file in the app's data folder, so a batch is not
//! announced again after the app restarts. Rule: a batch is announced only
//! if this app saw it running; sending goes through the notification plugin
//! and is the caller's business.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};

use atomic_write_file::AtomicWriteFile;
use serde::{Deserialize, Serialize};
use tracing::warn;

use kdesk_core::{Outcome, TaskStatus};

/// The log's file name in the app's data folder.
pub const NOTICE_LOG_FILE: &str = "notified.json";

/// Batches remembered; older ones cannot end again anyway.
const REMEMBERED: usize = 500;

/// One notification's text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub title: String,
    pub body: String,
}

/// The notification for a batch that has ended; `None` while it runs.
pub fn notice_for(status: &TaskStatus, project_title: &str) -> Option<Notice> {
    let outcome = status.outcome?;
    let pages = |n: u64| if n == 1 { "1 page".to_string() } else { format!("{n} pages") };
    let notice = match outcome {
        Outcome::Succeeded | Outcome::FinishedWithFailures => Notice {
            title: format!("OCR finished: {project_title}"),
            body: format!("{} OCR'd, {} failed", pages(status.done), status.failed),
        },
        Outcome::Cancelled => Notice {
            title: format!("OCR cancelled: {project_title}"),
            body: format!(
                "{} OCR'd before it was cancelled, {} failed",
                pages(status.done),
                status.failed
            ),
        },
        Outcome::Failed => {
            let reason = status
                .failed_pages
                .first()
                .map(|page| format!(" (page {}: {})", page.page_id, page.reason))
                .unwrap_or_default();
            Notice {
                title: format!("OCR failed: {project_title}"),
                body: format!("no page could be OCR'd; {} failed{reason}", pages(status.failed)),
            }
        }
    };
    Some(notice)
}

/// A notification that was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    pub task_id: String,
    pub notice: Notice,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// The batches already announced on this desktop.
pub struct NoticeLog {
    path: PathBuf,
    sent: VecDeque<Sent>,
}

impl NoticeLog {
    /// Reads the log; a missing or unreadable one starts empty (at worst a
    /// batch is announced twice).
    pub fn open(data_dir: &Path) -> NoticeLog {
        let path = data_dir.join(NOTICE_LOG_FILE);
        let sent = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                warn!(
                    file = %path.display(),
                    %error,
                    "notification log is not valid; starting a new one"
                );
                VecDeque::new()
            }),
            Err(_) => VecDeque::new(),
        };
        NoticeLog { path, sent }
    }

    /// Records `notice` for `task_id`; false if that batch was announced
    /// already, in which case nothing is to be sent.
    pub fn record(&mut self, task_id: &str, notice: &Notice) -> bool {
        if self.sent.iter().any(|sent| sent.task_id == task_id) {
            return false;
        }
        self.sent.push_back(Sent {
            task_id: task_id.to_string(),
            notice: notice.clone(),
            at: chrono::Utc::now(),
        });
        while self.sent.len() > REMEMBERED {
            self.sent.pop_front();
        }
        if let Err(error) = self.save() {
            warn!(file = %self.path.display(), %error, "could not keep the notification log");
        }
        true
    }

    pub fn sent(&self) -> impl Iterator<Item = &Sent> {
        self.sent.iter()
    }

    fn save(&self) -> std::io::Result<()> {
        if let Some(folder) = self.path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let json = serde_json::to_vec_pretty(&self.sent).map_err(std::io::Error::other)?;
        let mut file = AtomicWriteFile::open(&self.path)?;
        file.write_all(&json)?;
        file.commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kdesk_core::{FailedPage, Source, TaskState};

    fn ended(outcome: Outcome, done: u64, failed: u64) -> TaskStatus {
        TaskStatus {
            task_id: "kdesk-1".into(),
            project_slug: "tulasi".into(),
            engine: "tesseract".into(),
            language: "san".into(),
            started_at: "2026-12-04T10:00:00.000+00:00".into(),
            state: outcome.state(),
            outcome: Some(outcome),
            total: done + failed,
            done,
            failed,
            skipped: 0,
            running: 0,
            queued: 0,
            percent: 100.0,
            pages_per_minute: None,
            mean_page_seconds: None,
            eta_seconds: Some(0.0),
            failed_pages: (0..failed)
                .map(|n| FailedPage {
                    page_id: format!("00{n}"),
                    reason: "not an image".into(),
                    attempts: 1,
                })
                .collect(),
            finished_at: None,
            owner: String::new(),
            source: Source::Redis,
            interrupted: false,
        }
    }

    #[test]
    fn finished_batches_say_pages_done_and_failed() {
        let notice = notice_for(&ended(Outcome::FinishedWithFailures, 7, 1), "Tulasi").unwrap();
        assert_eq!(notice.title, "OCR finished: Tulasi");
        assert_eq!(notice.body, "7 pages OCR'd, 1 failed");
        let notice = notice_for(&ended(Outcome::Succeeded, 1, 0), "Tulasi").unwrap();
        assert_eq!(notice.body, "1 page OCR'd, 0 failed");
    }

    #[test]
    fn cancelled_and_failed_batches_read_differently() {
        let cancelled = notice_for(&ended(Outcome::Cancelled, 2, 0), "Tulasi").unwrap();
        assert_eq!(cancelled.title, "OCR cancelled: Tulasi");
        assert_eq!(cancelled.body, "2 pages OCR'd before it was cancelled, 0 failed");
        let failed = notice_for(&ended(Outcome::Failed, 0, 2), "Tulasi").unwrap();
        assert_eq!(failed.title, "OCR failed: Tulasi");
        assert!(failed.body.starts_with("no page could be OCR'd; 2 pages failed (page 000"));
    }

    #[test]
    fn a_running_batch_has_no_notice() {
        let mut running = ended(Outcome::Succeeded, 1, 0);
        running.outcome = None;
        running.state = TaskState::Progress;
        assert_eq!(notice_for(&running, "Tulasi"), None);
    }

    #[test]
    fn each_batch_is_announced_once_even_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let notice = Notice { title: "t".into(), body: "b".into() };
        let mut log = NoticeLog::open(dir.path());
        assert!(log.record("kdesk-1", &notice));
        assert!(!log.record("kdesk-1", &notice));
        let mut reopened = NoticeLog::open(dir.path());
        assert!(!reopened.record("kdesk-1", &notice));
        assert!(reopened.record("kdesk-2", &notice));
        assert_eq!(reopened.sent().count(), 2);
    }
}
