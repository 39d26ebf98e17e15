//! The corpus projects the benchmark runs on: their pages, ground truth
//! and OCR language, and fresh library copies for `kdesk`.
//!
//! The corpus itself is found by `kdesk-testkit` (`KDESK_CORPUS`, or
//! `shared/corpus` above the repository). Rule: the corpus is read only;
//! `kdesk` always works on a copy made by [`copy_into_library`].

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};

/// One page image and its ground truth, if the corpus has one.
#[derive(Clone, Debug, Serialize)]
pub struct Page {
    /// The file stem, also `kdesk`'s page id ("001").
    pub id: String,
    pub path: PathBuf,
    pub ground_truth: Option<PathBuf>,
    pub bytes: u64,
}

/// One corpus project with the pages benchmarked.
#[derive(Clone, Debug, Serialize)]
pub struct Project {
    pub slug: String,
    /// Tesseract's `-l` for it, the same in every mode.
    pub language: String,
    pub pages: Vec<Page>,
}

impl Project {
    pub fn bytes(&self) -> u64 {
        self.pages.iter().map(|page| page.bytes).sum()
    }
}

/// The projects of `corpus/projects`, sorted by slug, each cut to its first
/// `first_n` pages when given.
pub fn projects(corpus: &Path, first_n: Option<usize>) -> Result<Vec<Project>> {
    let dir = corpus.join("projects");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| Error::io("list the projects in", &dir, e))?;
    let mut projects = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list the projects in", &dir, e))?;
        let slug = entry.file_name().to_string_lossy().into_owned();
        let pages_dir = entry.path().join("pages");
        if slug.starts_with('.') || !pages_dir.is_dir() {
            continue;
        }
        let mut pages = pages_of(&pages_dir)?;
        if let Some(n) = first_n {
            pages.truncate(n);
        }
        projects.push(Project { language: language_of(&slug)?, slug, pages });
    }
    if projects.is_empty() {
        let message = format!(
            "no projects with a pages/ folder in '{}'; point KDESK_CORPUS at the shared corpus",
            dir.display()
        );
        return Err(Error::new(ErrorKind::Setup, message));
    }
    projects.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(projects)
}

/// The language a corpus project is written in, from its slug's prefix,
/// as BASELINE.md ran it.
fn language_of(slug: &str) -> Result<String> {
    let known = [("en-", "eng"), ("san-", "san"), ("tam-", "tam"), ("hin-", "hin")];
    known
        .iter()
        .find(|(prefix, _)| slug.starts_with(prefix))
        .map(|(_, l)| l.to_string())
        .ok_or_else(|| {
            let message = format!(
                "corpus project '{slug}' has no known language prefix (en-, san-, tam-, hin-); \
                 rename it or add its prefix to corpus.rs"
            );
            Error::new(ErrorKind::Setup, message)
        })
}

fn pages_of(dir: &Path) -> Result<Vec<Page>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("list the pages in", dir, e))?;
    let mut pages = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list the pages in", dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".gt.txt") {
            continue;
        }
        let path = entry.path();
        let Some(id) = path.file_stem().map(|stem| stem.to_string_lossy().into_owned()) else {
            continue;
        };
        let ground_truth = dir.join(format!("{id}.gt.txt"));
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        pages.push(Page {
            id,
            path,
            ground_truth: ground_truth.is_file().then_some(ground_truth),
            bytes,
        });
    }
    pages.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(pages)
}

/// Copies the project's benchmarked pages into `<library>/<slug>/pages/`.
pub fn copy_into_library(project: &Project, library: &Path) -> Result<PathBuf> {
    let root = library.join(&project.slug);
    let pages = root.join("pages");
    std::fs::create_dir_all(&pages).map_err(|e| Error::io("create", &pages, e))?;
    for page in &project.pages {
        let Some(name) = page.path.file_name() else {
            continue;
        };
        let copy = pages.join(name);
        std::fs::copy(&page.path, &copy).map_err(|e| Error::io("copy a page to", &copy, e))?;
        let writable = std::os::unix::fs::PermissionsExt::from_mode(0o644);
        std::fs::set_permissions(&copy, writable)
            .map_err(|e| Error::io("make writable", &copy, e))?;
    }
    Ok(root)
}
