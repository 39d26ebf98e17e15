//! Scale-out: the corpus projects submitted by `kdesk ocr --jobs 0` (the
//! owner recognises nothing itself), with 1, 2 or 4 `kdesk worker --jobs 1`
//! processes on the same Redis taking the pages. Batches go either one
//! after another ([`Submission::OneByOne`]) or all at once
//! ([`Submission::AllAtOnce`], several job streams for each worker).
//!
//! The workers are started and ready before the batches are submitted,
//! as a farm would be; the wall time runs from the first submission to the
//! end of the last batch. Every page must come out done exactly once: the
//! owners' final counts, the output files and the workers' own log of the
//! pages they recognised are all checked. Rule: workers are stopped with
//! SIGINT by pid (finish the page in hand), never killed by name.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::corpus::{copy_into_library, Project};
use crate::error::{Error, ErrorKind, Result};
use crate::measure::{self, Measured, Running};
use crate::throughput::Tools;

/// How long a worker may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// What the workers print once they take pages.
const READY_LINE: &str = "workers taking pages";

/// The log filter that makes workers log each page they recognise and
/// each page they claim from another consumer's pending list.
const WORKER_LOG: &str = "warn,kdesk_core::queue=debug,kdesk_core::worker=info";

/// What a worker logs when it claims a page left pending by another.
const CLAIM_LINE: &str = "claimed a page abandoned by another worker";

/// How the batches are submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Submission {
    /// Each project's batch starts when the previous one has ended.
    OneByOne,
    /// Every project's batch starts at once.
    AllAtOnce,
}

/// One scale-out run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScaleRun {
    pub submission: Submission,
    pub workers: usize,
    pub rep: usize,
    pub pages: usize,
    pub wall: f64,
    pub pages_per_minute: f64,
    /// Pages each worker process recognised.
    pub per_worker: Vec<usize>,
    /// Pages without output at the end.
    pub lost: usize,
    /// Recognitions beyond the first of a page.
    pub twice: usize,
    /// Pages a worker took over from a consumer's pending list (after the
    /// claim idle time): delivered once, not worked on, delivered again.
    pub reclaimed: usize,
    /// Peak RSS of each worker process.
    pub worker_peak_kb: Vec<u64>,
}

pub fn run(
    tools: &Tools,
    projects: &[Project],
    submission: Submission,
    workers: usize,
    rep: usize,
) -> Result<ScaleRun> {
    let dir = tools.work.join(format!("scale-{submission:?}-{workers}-rep{rep}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io("clear", &dir, e))?;
    }
    // Batches at once get a library each, as on separate computers: owners
    // sharing one library would also measure its local record's locking.
    let library_of = |project: &Project| match submission {
        Submission::OneByOne => dir.join("library"),
        Submission::AllAtOnce => dir.join(format!("library-{}", project.slug)),
    };
    for project in projects {
        copy_into_library(project, &library_of(project))?;
    }

    // The farm first, ready before any batch exists.
    let mut farm = Vec::with_capacity(workers);
    for index in 0..workers {
        let log = dir.join(format!("worker-{index}.log"));
        let mut command = Command::new(&tools.kdesk);
        command
            .arg("--redis-url")
            .arg(&tools.redis_url)
            .args(["worker", "--jobs", "1"])
            .env("RUST_LOG", WORKER_LOG)
            .env_remove(kdesk_ocr::TESSERACT_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(create(&log)?);
        farm.push((measure::start(&mut command, true)?, log));
    }
    let result = submit_and_check(tools, projects, submission, &library_of, &dir, &farm);

    // Stop the farm whatever happened: SIGINT, then wait for each.
    let mut worker_peak_kb = Vec::with_capacity(workers);
    let mut logs = Vec::with_capacity(workers);
    for (worker, log) in farm {
        worker.signal(libc::SIGINT);
        let stopped = worker.wait()?;
        worker_peak_kb.push(stopped.own_peak_kb.unwrap_or(0));
        logs.push(log);
    }
    let (wall, task_slugs) = result?;

    // Every page done once: outputs, owners' counts, workers' own logs.
    let pages: usize = projects.iter().map(|p| p.pages.len()).sum();
    let mut lost = 0;
    for project in projects {
        let output = library_of(project).join(&project.slug).join("ocr");
        lost += project
            .pages
            .iter()
            .filter(|page| !output.join(format!("{}.json", page.id)).is_file())
            .count();
    }
    let mut recognised: HashMap<(String, String), usize> = HashMap::new();
    let mut per_worker = Vec::with_capacity(logs.len());
    let mut reclaimed = 0;
    for log in &logs {
        let (pages_here, claims) = recognitions(log)?;
        reclaimed += claims;
        per_worker.push(pages_here.len());
        for (task_id, page) in pages_here {
            if task_slugs.contains_key(&task_id) {
                *recognised.entry((task_id, page)).or_default() += 1;
            }
        }
    }
    let twice = recognised.values().map(|count| count.saturating_sub(1)).sum();
    if recognised.len() + lost < pages {
        let message = format!(
            "the workers' logs name {} pages of {pages}; is `{WORKER_LOG}` still where pages are logged?",
            recognised.len()
        );
        return Err(Error::new(ErrorKind::Check, message));
    }
    let run = ScaleRun {
        submission,
        workers,
        rep,
        pages,
        wall,
        pages_per_minute: pages as f64 * 60.0 / wall,
        per_worker,
        lost,
        twice,
        reclaimed,
        worker_peak_kb,
    };
    tracing::info!(submission = ?submission, workers, wall, lost, twice, reclaimed, "scale-out run done");
    Ok(run)
}

/// Submits the projects and waits for all; returns the wall time and the
/// task id of each batch.
fn submit_and_check(
    tools: &Tools,
    projects: &[Project],
    submission: Submission,
    library_of: &dyn Fn(&Project) -> std::path::PathBuf,
    dir: &Path,
    farm: &[(Running, std::path::PathBuf)],
) -> Result<(f64, HashMap<String, String>)> {
    for (_, log) in farm {
        wait_for_line(log, READY_LINE)?;
    }
    let started = Instant::now();
    let finished: Vec<Result<Measured>> = match submission {
        Submission::OneByOne => projects
            .iter()
            .map(|project| owner(tools, project, &library_of(project), dir).and_then(Running::wait))
            .collect(),
        Submission::AllAtOnce => {
            let owners = projects
                .iter()
                .map(|project| owner(tools, project, &library_of(project), dir))
                .collect::<Result<Vec<_>>>()?;
            std::thread::scope(|scope| {
                let handles: Vec<_> =
                    owners.into_iter().map(|owner| scope.spawn(move || owner.wait())).collect();
                handles
                    .into_iter()
                    .map(|handle| {
                        handle.join().unwrap_or_else(|_| {
                            Err(Error::new(ErrorKind::Process, "a waiting thread panicked"))
                        })
                    })
                    .collect()
            })
        }
    };
    let wall = started.elapsed().as_secs_f64();
    let mut task_slugs = HashMap::new();
    for (measured, project) in finished.into_iter().zip(projects) {
        let measured = measured?;
        let status_path = dir.join(format!("status-{}.json", project.slug));
        let text = std::fs::read(&status_path).map_err(|e| Error::io("read", &status_path, e))?;
        let status: serde_json::Value = serde_json::from_slice(&text).unwrap_or_default();
        let done = status["done"].as_u64().unwrap_or(0);
        if measured.exit != 0 || done != project.pages.len() as u64 {
            let message = format!(
                "the batch of '{}' exited {} with {done} of {} pages done; see '{}'",
                project.slug,
                measured.exit,
                project.pages.len(),
                dir.join(format!("owner-{}.log", project.slug)).display()
            );
            return Err(Error::new(ErrorKind::Check, message));
        }
        let task_id = status["task_id"].as_str().unwrap_or_default().to_string();
        task_slugs.insert(task_id, project.slug.clone());
    }
    Ok((wall, task_slugs))
}

/// Starts `kdesk ocr --jobs 0` on one project.
fn owner(tools: &Tools, project: &Project, library: &Path, dir: &Path) -> Result<Running> {
    let status = dir.join(format!("status-{}.json", project.slug));
    let log = dir.join(format!("owner-{}.log", project.slug));
    let mut command = Command::new(&tools.kdesk);
    command
        .arg("--library")
        .arg(library)
        .arg("--redis-url")
        .arg(&tools.redis_url)
        .args(["ocr", &project.slug, "--lang", &project.language, "--jobs", "0", "--json"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(create(&status)?)
        .stderr(create(&log)?);
    measure::start(&mut command, false)
}

/// `(task_id, page)` of each "page recognised" line of a worker's log, and
/// the number of pages it claimed from another consumer.
fn recognitions(log: &Path) -> Result<(Vec<(String, String)>, usize)> {
    let text = std::fs::read_to_string(log).map_err(|e| Error::io("read", log, e))?;
    let claims = text.lines().filter(|line| line.contains(CLAIM_LINE)).count();
    let mut found = Vec::new();
    for line in text.lines().filter(|line| line.contains("page recognised")) {
        let field = |name: &str| {
            line.split_whitespace().find_map(|token| token.strip_prefix(name)).map(str::to_string)
        };
        if let (Some(task_id), Some(page), Some("true")) =
            (field("task_id="), field("page="), field("ok=").as_deref())
        {
            found.push((task_id, page));
        }
    }
    Ok((found, claims))
}

fn wait_for_line(log: &Path, line: &str) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if std::fs::read_to_string(log).is_ok_and(|text| text.contains(line)) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let message = format!("a worker did not say '{line}' within 30 s; see '{}'", log.display());
    Err(Error::new(ErrorKind::Process, message))
}

fn create(path: &Path) -> Result<std::fs::File> {
    std::fs::File::create(path).map_err(|e| Error::io("create", path, e))
}
