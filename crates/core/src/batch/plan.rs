//! Which pages of a project a batch will recognise, and which it skips and why.
//!
//! Rule: the plan is made from the output files on disk, which are the truth
//! about what has been done; Redis and the local record only say what is
//! happening now.

use serde::Serialize;

use kdesk_library::{Page, Project};
use kdesk_ocr::read_output_meta;

use crate::error::{Error, ErrorKind, Result};

/// A page the batch will not recognise, with the reason shown before it starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedPage {
    pub page_id: String,
    pub reason: String,
}

/// The pages of one batch, sorted into what to do with each.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Pages to recognise, in page order.
    pub to_run: Vec<Page>,
    /// Pages already recognised by this same task before it was interrupted.
    pub already_done: Vec<String>,
    pub skipped: Vec<SkippedPage>,
    pub total: u64,
}

impl Plan {
    /// A plan of no pages, for a batch known only by its record.
    pub fn empty() -> Plan {
        Plan { to_run: Vec::new(), already_done: Vec::new(), skipped: Vec::new(), total: 0 }
    }

    /// Sorts the pages of `project` for a batch with this engine and language.
    /// `resumed_task` names the task being resumed, whose outputs count as done.
    pub fn make(
        project: &Project,
        engine: &str,
        language: &str,
        force: bool,
        resumed_task: Option<&str>,
        only_pages: Option<&[String]>,
    ) -> Result<Plan> {
        let pages = project.pages()?;
        if let Some(only) = only_pages {
            let unknown: Vec<&str> = only
                .iter()
                .filter(|id| !pages.iter().any(|page| &page.id == *id))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() || only.is_empty() {
                let known: Vec<&str> = pages.iter().take(5).map(|page| page.id.as_str()).collect();
                let message = format!(
                    "project '{}' has no page {}; pages are named after their image files \
                     without the extension (for example {})",
                    project.slug,
                    unknown.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(", "),
                    known.join(", ")
                );
                return Err(Error::new(ErrorKind::InvalidInput, message));
            }
        }
        let output_dir = project.output_dir();
        let mut plan = Plan {
            to_run: Vec::new(),
            already_done: Vec::new(),
            skipped: Vec::new(),
            total: pages.len() as u64,
        };
        for page in pages {
            if let Some(only) = only_pages {
                if !only.contains(&page.id) {
                    plan.skipped.push(SkippedPage {
                        page_id: page.id.clone(),
                        reason: "not among the pages asked for".to_string(),
                    });
                    continue;
                }
            }
            let existing = read_output_meta(&output_dir, &page.id);
            match existing {
                Some(meta) if resumed_task == Some(meta.task_id.as_str()) => {
                    plan.already_done.push(page.id.clone());
                }
                Some(meta) if !force && meta.engine == engine && meta.language == language => {
                    let reason = format!(
                        "already has text from {} ({}) of {}; use --force to redo it",
                        meta.engine,
                        meta.language,
                        meta.finished_at.format("%Y-%m-%d %H:%M UTC")
                    );
                    plan.skipped.push(SkippedPage { page_id: page.id.clone(), reason });
                }
                _ => plan.to_run.push(page),
            }
        }
        Ok(plan)
    }

    /// Skip reasons with how many pages have each, most common first.
    pub fn skip_summary(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for skipped in &self.skipped {
            let general = if skipped.reason.starts_with("already has text") {
                "already have text from the same engine and language (use --force to redo)"
                    .to_string()
            } else {
                skipped.reason.clone()
            };
            match counts.iter_mut().find(|(reason, _)| *reason == general) {
                Some((_, count)) => *count += 1,
                None => counts.push((general, 1)),
            }
        }
        counts.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        counts
    }
}
