//! Throughput on the corpus projects, in four modes over the same pages,
//! languages and Tesseract:
//!
//! - A: `kdesk ocr <slug>` with its default worker count, as a person runs it;
//! - B: plain `tesseract page out -l L`, one page after another,
//!   `OMP_THREAD_LIMIT=1`; B0: the same with Tesseract's default threading;
//! - C: one plain Tesseract process per page, as many at once as cores,
//!   `OMP_THREAD_LIMIT=1`, a new page started as soon as one ends (what
//!   `xargs -P` does, without the shell in between).
//!
//! Each mode runs a project from a cold start of its processes to the end
//! of its last page; A's time includes `kdesk`'s start-up, Redis, and the
//! writing of outputs. Rule: every run works on its own copy or output
//! folder, so no mode can reuse another's work.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::corpus::{copy_into_library, Project};
use crate::error::{Error, ErrorKind, Result};
use crate::measure::{self, Measured};

/// What the modes run, and where.
#[derive(Clone, Debug)]
pub struct Tools {
    pub kdesk: PathBuf,
    pub tesseract: PathBuf,
    pub redis_url: String,
    /// Pages at once in mode C; `kdesk`'s own default in mode A is the same
    /// (one per core), and is left to `kdesk`.
    pub jobs: usize,
    /// Scratch folder for libraries and outputs.
    pub work: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Mode {
    A,
    B,
    B0,
    C,
}

impl Mode {
    pub fn describe(self) -> &'static str {
        match self {
            Mode::A => "`kdesk ocr`, default workers",
            Mode::B => "plain tesseract, one page at a time, OMP_THREAD_LIMIT=1",
            Mode::B0 => "plain tesseract, one page at a time, default threading",
            Mode::C => "plain tesseract, one process per page, one per core, OMP_THREAD_LIMIT=1",
        }
    }
}

/// One mode over one project, once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProjectRun {
    pub mode: Mode,
    pub rep: usize,
    pub slug: String,
    pub pages: usize,
    pub wall: f64,
    /// CPU seconds (user + system) of every process of the run.
    pub cpu: f64,
    /// Seconds Tesseract took per page, as `kdesk` measured it (A) or as the
    /// process's wall time (B, B0, C).
    pub page_seconds: Vec<f64>,
    /// A: peak RSS of the `kdesk ocr` process itself.
    pub own_peak_kb: Option<u64>,
    /// Peak RSS of the largest Tesseract process (A: of the process tree).
    pub max_rss_kb: u64,
    /// Folder holding `<page_id>.txt` for each page.
    pub texts: PathBuf,
}

impl ProjectRun {
    /// The share of the run's core-seconds not spent inside Tesseract:
    /// `1 - sum(page seconds) / (wall * pages at once)`.
    pub fn outside_share(&self, at_once: usize) -> f64 {
        let busy: f64 = self.page_seconds.iter().sum();
        1.0 - busy / (self.wall * at_once as f64)
    }
}

/// Runs `kdesk ocr` on a fresh copy of `project`. `env` is added to its
/// environment (the profile pass swaps in the Tesseract shim there).
pub fn run_a(
    tools: &Tools,
    project: &Project,
    rep: usize,
    tag: &str,
    env: &[(&str, &str)],
) -> Result<ProjectRun> {
    let dir = fresh_dir(&tools.work, tag, rep, &project.slug)?;
    let library = dir.join("library");
    let root = copy_into_library(project, &library)?;
    let status_path = dir.join("status.json");
    let log_path = dir.join("kdesk.log");
    let mut command = Command::new(&tools.kdesk);
    command
        .arg("--library")
        .arg(&library)
        .arg("--redis-url")
        .arg(&tools.redis_url)
        .args(["ocr", &project.slug, "--lang", &project.language, "--json"])
        .env_remove(kdesk_ocr::TESSERACT_ENV)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(create(&status_path)?)
        .stderr(create(&log_path)?);
    for (name, value) in env {
        command.env(name, value);
    }
    let measured = measure::run_ok(&mut command, true, &log_path)?;

    // The run counts only if every page was done, once.
    let status: serde_json::Value = read_json(&status_path)?;
    let done = status["done"].as_u64().unwrap_or(0);
    let failed = status["failed"].as_u64().unwrap_or(0);
    if done != project.pages.len() as u64 || failed != 0 {
        let message = format!(
            "kdesk ocr {} did {done} pages and failed {failed} of {}; see '{}'",
            project.slug,
            project.pages.len(),
            log_path.display()
        );
        return Err(Error::new(ErrorKind::Check, message));
    }
    let texts = root.join("ocr");
    let mut page_seconds = Vec::with_capacity(project.pages.len());
    for page in &project.pages {
        let meta: serde_json::Value = read_json(&texts.join(format!("{}.json", page.id)))?;
        page_seconds.push(meta["seconds"].as_f64().unwrap_or(0.0));
    }
    Ok(ProjectRun {
        mode: Mode::A,
        rep,
        slug: project.slug.clone(),
        pages: project.pages.len(),
        wall: measured.wall,
        cpu: measured.user + measured.sys,
        page_seconds,
        own_peak_kb: measured.own_peak_kb,
        max_rss_kb: measured.max_rss_kb,
        texts,
    })
}

/// Mode B (`default_threads` false) or B0: one page after another.
pub fn run_sequential(
    tools: &Tools,
    project: &Project,
    rep: usize,
    default_threads: bool,
) -> Result<ProjectRun> {
    let mode = if default_threads { Mode::B0 } else { Mode::B };
    let dir = fresh_dir(&tools.work, &format!("{mode:?}"), rep, &project.slug)?;
    let started = Instant::now();
    let mut runs = Vec::with_capacity(project.pages.len());
    for page in &project.pages {
        runs.push(tesseract(tools, project, &page.path, &dir.join(&page.id), !default_threads)?);
    }
    let wall = started.elapsed().as_secs_f64();
    Ok(finish(mode, rep, project, wall, &runs, dir))
}

/// Mode C: `tools.jobs` pages at once, each in its own process.
pub fn run_parallel(tools: &Tools, project: &Project, rep: usize) -> Result<ProjectRun> {
    let dir = fresh_dir(&tools.work, "C", rep, &project.slug)?;
    let next = AtomicUsize::new(0);
    let runs: Mutex<Vec<Result<Measured>>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..tools.jobs.max(1) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(page) = project.pages.get(index) else {
                    break;
                };
                let run = tesseract(tools, project, &page.path, &dir.join(&page.id), true);
                if let Ok(mut runs) = runs.lock() {
                    runs.push(run);
                }
            });
        }
    });
    let wall = started.elapsed().as_secs_f64();
    let runs = runs.into_inner().unwrap_or_default().into_iter().collect::<Result<Vec<_>>>()?;
    if runs.len() != project.pages.len() {
        let message = format!("mode C ran {} of {} pages", runs.len(), project.pages.len());
        return Err(Error::new(ErrorKind::Check, message));
    }
    Ok(finish(Mode::C, rep, project, wall, &runs, dir))
}

fn finish(
    mode: Mode,
    rep: usize,
    project: &Project,
    wall: f64,
    runs: &[Measured],
    texts: PathBuf,
) -> ProjectRun {
    ProjectRun {
        mode,
        rep,
        slug: project.slug.clone(),
        pages: project.pages.len(),
        wall,
        cpu: runs.iter().map(|run| run.user + run.sys).sum(),
        page_seconds: runs.iter().map(|run| run.wall).collect(),
        own_peak_kb: None,
        max_rss_kb: runs.iter().map(|run| run.max_rss_kb).max().unwrap_or(0),
        texts,
    }
}

/// `tesseract <page> <out> -l <language>`, the plain way.
fn tesseract(
    tools: &Tools,
    project: &Project,
    page: &Path,
    out: &Path,
    one_thread: bool,
) -> Result<Measured> {
    let mut command = Command::new(&tools.tesseract);
    command
        .arg(page)
        .arg(out)
        .args(["-l", &project.language])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if one_thread {
        command.env("OMP_THREAD_LIMIT", "1");
    } else {
        command.env_remove("OMP_THREAD_LIMIT").env_remove("OMP_NUM_THREADS");
    }
    let measured = measure::run(&mut command, false)?;
    if measured.exit != 0 {
        let message = format!(
            "tesseract failed on '{}' with exit {}; run it by hand to see why",
            page.display(),
            measured.exit
        );
        return Err(Error::new(ErrorKind::Process, message));
    }
    Ok(measured)
}

fn fresh_dir(work: &Path, tag: &str, rep: usize, slug: &str) -> Result<PathBuf> {
    let dir = work.join(format!("{tag}-rep{rep}")).join(slug);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("clear", &dir, e))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    Ok(dir)
}

fn create(path: &Path) -> Result<std::fs::File> {
    std::fs::File::create(path).map_err(|e| Error::io("create", path, e))
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let message = format!("'{}' is not the JSON expected: {e}", path.display());
        Error::with_source(ErrorKind::Check, message, e)
    })
}
