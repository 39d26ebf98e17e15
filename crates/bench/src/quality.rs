//! Whether the text is as good in every mode: the character error rate
//! of each mode's output against the corpus ground truth, computed with
//! `kdesk-ocr`'s own CER (the one the project's tests use).
//!
//! Rule: a project's CER is the sum of edit distances over the sum of
//! ground-truth lengths (as BASELINE.md counts it), not a mean of rates.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::corpus::Project;

/// Errors against the ground truth over the pages that have one.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Cer {
    pub distance: u64,
    pub length: u64,
    /// Pages with ground truth but no output text.
    pub missing: u64,
}

impl Cer {
    /// In percent.
    pub fn percent(&self) -> f64 {
        if self.length == 0 {
            return 0.0;
        }
        self.distance as f64 / self.length as f64 * 100.0
    }

    pub fn add(&mut self, other: &Cer) {
        self.distance += other.distance;
        self.length += other.length;
        self.missing += other.missing;
    }
}

/// The CER of the texts `text_of(page_id)` names for `project`'s pages.
pub fn measure(project: &Project, text_of: impl Fn(&str) -> std::path::PathBuf) -> Cer {
    let mut cer = Cer::default();
    for page in &project.pages {
        let Some(truth_path) = &page.ground_truth else {
            continue;
        };
        let truth = read(truth_path);
        let length = kdesk_ocr::normalise(&truth).chars().count() as u64;
        let text_path = text_of(&page.id);
        if !text_path.is_file() {
            cer.missing += 1;
            cer.distance += length;
            cer.length += length;
            continue;
        }
        let rate = kdesk_ocr::character_error_rate(&truth, &read(&text_path));
        cer.distance += (rate * length.max(1) as f64).round() as u64;
        cer.length += length;
    }
    cer
}

/// How many pages have byte-identical text in two modes.
pub fn identical_pages(
    project: &Project,
    left: impl Fn(&str) -> std::path::PathBuf,
    right: impl Fn(&str) -> std::path::PathBuf,
) -> usize {
    project
        .pages
        .iter()
        .filter(|page| {
            let (a, b) = (std::fs::read(left(&page.id)), std::fs::read(right(&page.id)));
            matches!((a, b), (Ok(a), Ok(b)) if a == b)
        })
        .count()
}

fn read(path: &Path) -> String {
    std::fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}
