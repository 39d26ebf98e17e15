//! `kdesk-bench`: runs every benchmark end to end on its own Redis and
//! writes `report.md` and `raw.json`. `scripts/bench.sh` builds what it
//! needs and runs it; see `kdesk-bench --help` for the knobs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;

use kdesk_bench::corpus::{self, Project};
use kdesk_bench::error::{Error, ErrorKind, Result};
use kdesk_bench::monitor::Monitor;
use kdesk_bench::report::{self, ProjectInfo, QualityRow, Report};
use kdesk_bench::scaleout::{self, Submission};
use kdesk_bench::status::{self, Effort};
use kdesk_bench::system::{LoadSampler, Machine};
use kdesk_bench::throughput::{self, Mode, ProjectRun, Tools};
use kdesk_bench::{overhead, quality};

#[derive(Parser, Debug)]
#[command(
    name = "kdesk-bench",
    about = "Benchmarks kdesk against plain Tesseract, and its status look-ups"
)]
struct Args {
    /// A few minutes: one repetition, three pages per project, at most 10,000 tasks.
    #[arg(long)]
    quick: bool,
    /// Folder that receives report.md, raw.json and the scratch work/ folder.
    #[arg(long, default_value = "bench-report")]
    out: PathBuf,
    /// The release `kdesk` binary [default: beside this program]
    #[arg(long)]
    kdesk: Option<PathBuf>,
    /// Repetitions of A, B, C and of each scale-out size [default: 3; 1 with --quick]
    #[arg(long)]
    reps: Option<usize>,
    /// Criterion's output folder (target/criterion), to quote its status estimates.
    #[arg(long)]
    criterion: Option<PathBuf>,
    /// Measure nothing: write report.md again from this raw.json (into --out).
    #[arg(long, value_name = "RAW_JSON")]
    render: Option<PathBuf>,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let args = Args::parse();
    match run(&args) {
        Ok(path) => println!("kdesk-bench: report written to {}", path.display()),
        Err(error) => {
            eprintln!("kdesk-bench: error ({}): {error}", error.kind());
            std::process::exit(1);
        }
    }
}

fn run(args: &Args) -> Result<PathBuf> {
    if let Some(raw) = &args.render {
        let bytes = std::fs::read(raw).map_err(|e| Error::io("read", raw, e))?;
        let report: Report = serde_json::from_slice(&bytes).map_err(|e| {
            let message = format!("'{}' is not a raw.json of this version: {e}", raw.display());
            Error::with_source(ErrorKind::Io, message, e)
        })?;
        return write_report(&args.out, &report);
    }
    let started = Instant::now();
    let machine = Machine::describe();
    let reps = args.reps.unwrap_or(if args.quick { 1 } else { 3 }).max(1);
    let corpus_dir = kdesk_testkit::corpus_dir();
    let projects = corpus::projects(&corpus_dir, args.quick.then_some(3))?;
    let (kdesk, shim) = binaries(args)?;
    let work = args.out.join("work");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| Error::io("clear", &work, e))?;
    }
    std::fs::create_dir_all(&work).map_err(|e| Error::io("create", &work, e))?;
    let work = std::path::absolute(&work).map_err(|e| Error::io("resolve", &work, e))?;

    let server = kdesk_testkit::RedisServer::start();
    let client = server.client();
    let mut connection = client.get_connection().map_err(|e| Error::redis("a connection", e))?;
    let redis_pid = redis_pid(&mut connection);
    let tools = Tools {
        kdesk,
        tesseract: tesseract()?,
        redis_url: server.url(),
        jobs: kdesk_core::default_jobs(),
        work,
    };
    tracing::info!(projects = projects.len(), reps, jobs = tools.jobs, redis = %tools.redis_url, "benchmark starting");
    let mut other_load = BTreeMap::new();

    // 1. Throughput, modes interleaved per project, their order rotated per repetition.
    let sampler = LoadSampler::start(redis_pid);
    let mut runs: Vec<ProjectRun> = Vec::new();
    let order = [Mode::A, Mode::B, Mode::C];
    for rep in 0..reps {
        for project in &projects {
            for index in 0..order.len() {
                let mode = order[(index + rep) % order.len()];
                let run = match mode {
                    Mode::A => throughput::run_a(&tools, project, rep, "A", &[])?,
                    Mode::B => throughput::run_sequential(&tools, project, rep, false)?,
                    _ => throughput::run_parallel(&tools, project, rep)?,
                };
                tracing::info!(mode = ?mode, rep, slug = %project.slug, wall = run.wall, "ran");
                runs.push(run);
            }
        }
    }
    other_load.insert("1 throughput A, B, C".to_string(), sampler.finish());
    let sampler = LoadSampler::start(redis_pid);
    for project in &projects {
        let run = throughput::run_sequential(&tools, project, 0, true)?;
        tracing::info!(mode = "B0", slug = %project.slug, wall = run.wall, "ran");
        runs.push(run);
    }
    other_load.insert("1 throughput B0".to_string(), sampler.finish());
    let quality = quality_rows(&projects, &runs)?;

    // 2. Where the time goes, and the Redis traffic per page.
    let sampler = LoadSampler::start(redis_pid);
    let profile = overhead::profile(&tools, &projects, &shim)?;
    other_load.insert("2 profile (shim)".to_string(), sampler.finish());
    let monitor = Monitor::attach(server.port())?;
    let redis_cost = overhead::count_redis(&tools, &projects, &monitor, &mut connection)?;

    // 3. Scale-out: batches one by one, then all at once (three pages each:
    // several streams per worker make each page wait out the claim time).
    // A run the product fails is reported and the benchmark goes on.
    let sampler = LoadSampler::start(redis_pid);
    let mut scale = Vec::new();
    let mut failures = Vec::new();
    let mut keep = |run: Result<scaleout::ScaleRun>, what: String| match run {
        Ok(run) => scale.push(run),
        Err(error) if matches!(error.kind(), ErrorKind::Check | ErrorKind::Process) => {
            tracing::warn!(%what, %error, "a scale-out run failed; going on");
            failures.push(format!("{what}: {error}"));
        }
        Err(error) => failures.push(format!("{what}: {error}")),
    };
    for workers in [1, 2, 4] {
        for rep in 0..reps {
            let run = scaleout::run(&tools, &projects, Submission::OneByOne, workers, rep);
            keep(run, format!("scale-out one by one, {workers} workers, repetition {rep}"));
        }
    }
    other_load.insert("3 scale-out, one batch at a time".to_string(), sampler.finish());
    let sampler = LoadSampler::start(redis_pid);
    let few = corpus::projects(&corpus_dir, Some(3))?;
    for workers in [1, 2, 4] {
        let run = scaleout::run(&tools, &few, Submission::AllAtOnce, workers, 0);
        keep(run, format!("scale-out all at once, {workers} workers"));
    }
    other_load.insert("3 scale-out, all batches at once".to_string(), sampler.finish());

    // 2b. Status look-ups against the number of tasks (empties Redis first).
    let sampler = LoadSampler::start(redis_pid);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| {
        Error::with_source(ErrorKind::Setup, format!("cannot start a tokio runtime: {e}"), e)
    })?;
    let tracker = {
        let _inside = runtime.enter();
        status::tracker(&tools.redis_url)?
    };
    let sizes: &[usize] = if args.quick { &[10, 1_000, 10_000] } else { &[10, 1_000, 100_000] };
    let effort = if args.quick {
        Effort { status_samples: 1_000, scan_budget: 5.0 }
    } else {
        Effort { status_samples: 5_000, scan_budget: 40.0 }
    };
    let mut status_figures = Vec::new();
    for &tasks in sizes {
        status_figures.push(status::measure(
            &runtime,
            &tracker,
            &mut connection,
            &monitor,
            tasks,
            effort,
        )?);
    }
    other_load.insert("2 status look-ups".to_string(), sampler.finish());
    drop(monitor);
    redis::cmd("FLUSHALL").query::<()>(&mut connection).map_err(|e| Error::redis("FLUSHALL", e))?;

    let report = Report {
        quick: args.quick,
        machine,
        repetitions: reps,
        jobs: tools.jobs,
        projects: projects.iter().map(ProjectInfo::of).collect(),
        throughput: runs,
        quality,
        profile,
        redis_cost,
        status: status_figures,
        criterion: args.criterion.as_deref().map(report::read_criterion).unwrap_or_default(),
        scaleout: scale,
        other_load,
        failures,
        total_seconds: started.elapsed().as_secs_f64(),
    };
    let written = write_report(&args.out, &report)?;
    if !report.failures.is_empty() {
        let message = format!(
            "{} run(s) failed a check (listed at the end of '{}'): {}",
            report.failures.len(),
            written.display(),
            report.failures.join("; ")
        );
        return Err(Error::new(ErrorKind::Check, message));
    }
    Ok(written)
}

/// CER of each mode's first repetition; the run fails if A's text is worse
/// than plain Tesseract's by more than half a point.
fn quality_rows(projects: &[Project], runs: &[ProjectRun]) -> Result<Vec<QualityRow>> {
    let mut rows = Vec::new();
    for project in projects {
        let first = |mode: Mode| {
            runs.iter().find(|r| r.mode == mode && r.rep == 0 && r.slug == project.slug)
        };
        let mut cer = BTreeMap::new();
        for mode in [Mode::A, Mode::B, Mode::B0, Mode::C] {
            if let Some(run) = first(mode) {
                let texts = run.texts.clone();
                cer.insert(mode, quality::measure(project, |id| texts.join(format!("{id}.txt"))));
            }
        }
        let identical_a_b = match (first(Mode::A), first(Mode::B)) {
            (Some(a), Some(b)) => quality::identical_pages(
                project,
                |id| a.texts.join(format!("{id}.txt")),
                |id| b.texts.join(format!("{id}.txt")),
            ),
            _ => 0,
        };
        if let (Some(a), Some(b)) = (cer.get(&Mode::A), cer.get(&Mode::B)) {
            if a.percent() - b.percent() > 0.5 || a.missing > 0 {
                let message = format!(
                    "kdesk's text of '{}' is worse than plain tesseract's: CER {:.2} % against \
                     {:.2} %, {} pages missing",
                    project.slug,
                    a.percent(),
                    b.percent(),
                    a.missing
                );
                return Err(Error::new(ErrorKind::Check, message));
            }
        }
        rows.push(QualityRow {
            slug: project.slug.clone(),
            cer,
            identical_a_b,
            pages: project.pages.len(),
        });
    }
    Ok(rows)
}

fn write_report(out: &Path, report: &Report) -> Result<PathBuf> {
    std::fs::create_dir_all(out).map_err(|e| Error::io("create", out, e))?;
    let raw = out.join("raw.json");
    let json = serde_json::to_vec_pretty(report).map_err(|e| {
        Error::with_source(ErrorKind::Io, format!("cannot encode the figures: {e}"), e)
    })?;
    std::fs::write(&raw, json).map_err(|e| Error::io("write", &raw, e))?;
    let markdown = out.join("report.md");
    std::fs::write(&markdown, report.to_markdown())
        .map_err(|e| Error::io("write", &markdown, e))?;
    Ok(markdown)
}

/// `kdesk` and the Tesseract shim, beside this program unless told.
fn binaries(args: &Args) -> Result<(PathBuf, PathBuf)> {
    let here = std::env::current_exe().map_err(|e| {
        Error::with_source(ErrorKind::Setup, format!("cannot find this program's path: {e}"), e)
    })?;
    let dir = here.parent().map(Path::to_path_buf).unwrap_or_default();
    let kdesk = args.kdesk.clone().unwrap_or_else(|| dir.join("kdesk"));
    let shim = dir.join("kdesk-bench-tesseract-shim");
    for (path, build) in [(&kdesk, "kdesk-cli"), (&shim, "kdesk-bench")] {
        if !path.is_file() {
            let message = format!(
                "'{}' is missing; build it with `cargo build --release -p {build}` \
                 (scripts/bench.sh does)",
                path.display()
            );
            return Err(Error::new(ErrorKind::Setup, message));
        }
    }
    Ok((kdesk, shim))
}

/// The Tesseract `kdesk` would use: `$KDESK_TESSERACT`, else `tesseract` on PATH.
fn tesseract() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(kdesk_ocr::TESSERACT_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join("tesseract")).find(|p| p.is_file()).ok_or_else(
        || {
            let message = "tesseract is not on PATH; run scripts/install-deps.sh";
            Error::new(ErrorKind::Setup, message)
        },
    )
}

fn redis_pid(connection: &mut redis::Connection) -> Option<u32> {
    let info: String = redis::cmd("INFO").arg("server").query(connection).ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
}
