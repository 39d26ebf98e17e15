//! Page jobs and their results, and the two ways they travel: Redis
//! streams (shared with workers on other machines) or, while Redis is
//! unreachable, channels inside this process.
//!
//! Both carry the same [`PageJob`] and [`PageResult`] and every page is
//! recognised by the same [`recognise_job`], so the in-process pool is not a
//! special case. Rule: a job carries its page image, because a worker on
//! another machine cannot see the editor's disk; the owner bounds how many
//! jobs are out at once, so Redis holds a few images, never a whole book.

pub mod local;
pub mod streams;

use serde::{Deserialize, Serialize};

use kdesk_ocr::{Recognition, Tesseract};

/// What a worker needs to know about a page, apart from its image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobHeader {
    pub task_id: String,
    pub page_id: String,
    /// The image's file name, for messages ("007.tif", "book.tif").
    pub file_name: String,
    /// Frame of a multi-page TIFF, 0-based.
    pub frame: Option<u32>,
    pub engine: String,
    pub language: String,
    /// 1 for the first try; the owner decides whether a failure is retried.
    pub attempt: u32,
}

/// One page to recognise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageJob {
    pub header: JobHeader,
    pub image: Vec<u8>,
}

/// What became of one attempt at a page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum PageOutcome {
    Recognised(Recognition),
    Failed {
        kind: kdesk_ocr::ErrorKind,
        /// Retrying cannot help (not an image, too large, missing language).
        permanent: bool,
        reason: String,
    },
}

/// A worker's answer for one job, sent back to the batch's owner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PageResult {
    pub task_id: String,
    pub page_id: String,
    pub attempt: u32,
    /// Which worker did it (`host:pid/n`), for the log.
    pub worker: String,
    pub outcome: PageOutcome,
}

/// Recognises one job's page. Never fails: a failure is an outcome.
pub async fn recognise_job(engine: &Tesseract, job: &PageJob, worker: &str) -> PageResult {
    let header = &job.header;
    let name = match header.frame {
        Some(frame) => format!("{} frame {}", header.file_name, frame + 1),
        None => header.file_name.clone(),
    };
    let outcome = if header.engine != "tesseract" {
        PageOutcome::Failed {
            kind: kdesk_ocr::ErrorKind::EngineMissing,
            permanent: true,
            reason: format!(
                "this worker has no engine '{}'; only 'tesseract' is available",
                header.engine
            ),
        }
    } else {
        match engine.recognise(&job.image, header.frame, &header.language, &name).await {
            Ok(recognition) => PageOutcome::Recognised(recognition),
            Err(error) => PageOutcome::Failed {
                kind: error.kind(),
                permanent: error.is_permanent(),
                reason: error.to_string(),
            },
        }
    };
    tracing::debug!(
        task_id = %header.task_id,
        page = %header.page_id,
        attempt = header.attempt,
        ok = matches!(outcome, PageOutcome::Recognised(_)),
        "page recognised"
    );
    PageResult {
        task_id: header.task_id.clone(),
        page_id: header.page_id.clone(),
        attempt: header.attempt,
        worker: worker.to_string(),
        outcome,
    }
}
