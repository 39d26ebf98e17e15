//! Where a batch's time goes outside Tesseract, and what it asks of Redis.
//!
//! The profile pass runs `kdesk ocr` with the Tesseract shim, which logs
//! when each Tesseract run starts and ends. With the batch's own start and
//! exit, a project's core-seconds (`wall × workers`) split exactly into:
//! Tesseract busy; start-up (spawn to the first page); ramp-up (slots idle
//! before every worker first has a page); steady gaps (a slot idle while
//! pages wait: queueing, tracking, writing output); tail (slots idle after
//! the last page started: nothing left to hand out); and shut-down (last
//! page end to exit). The count pass runs `kdesk ocr` again under
//! `MONITOR` and counts its Redis commands and round trips per page.
//!
//! Rule: the two passes are separate, because `MONITOR` slows Redis and the
//! shim adds an exec per page; neither pass feeds the throughput figures.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::corpus::Project;
use crate::error::{Error, ErrorKind, Result};
use crate::monitor::{Counted, Monitor};
use crate::throughput::{run_a, ProjectRun, Tools};

/// One batch's core-seconds, split by what the cores were doing.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Breakdown {
    pub slug: String,
    pub pages: usize,
    pub jobs: usize,
    pub wall: f64,
    /// Seconds from spawning `kdesk` to the start of the first page.
    pub startup: f64,
    /// Of which Tesseract's `--version` and `--list-langs` probes.
    pub probes: f64,
    /// Core-seconds inside Tesseract's page runs.
    pub busy: f64,
    /// Idle core-seconds before all workers first had a page.
    pub ramp: f64,
    /// Idle core-seconds between pages while pages were waiting.
    pub gaps: f64,
    /// Page starts counted in `gaps` (hand-overs in the steady state).
    pub handovers: usize,
    /// Idle core-seconds after the last page started.
    pub tail: f64,
    /// Seconds from the end of the last page to the exit of `kdesk`.
    pub shutdown: f64,
}

impl Breakdown {
    /// Mean steady gap per page hand-over, in seconds.
    pub fn gap_per_page(&self) -> f64 {
        self.gaps / self.handovers.max(1) as f64
    }

    /// Mean Tesseract time of a page.
    pub fn page_time(&self) -> f64 {
        self.busy / self.pages.max(1) as f64
    }

    /// Share of the core-seconds outside Tesseract, all causes.
    pub fn outside_share(&self) -> f64 {
        1.0 - self.busy / (self.wall * self.jobs as f64)
    }
}

/// Splits a batch's time from the shim's log lines.
pub fn breakdown(
    slug: &str,
    jobs: usize,
    spawned: f64,
    exited: f64,
    log: &str,
) -> Result<Breakdown> {
    let mut pages = Vec::new();
    let mut probes = 0.0;
    for line in log.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(start), Some(end), Some(kind)) = (
            fields.first().and_then(|f| f.parse::<f64>().ok()),
            fields.get(1).and_then(|f| f.parse::<f64>().ok()),
            fields.get(3),
        ) else {
            continue;
        };
        if *kind == "page" {
            pages.push((start, end));
        } else {
            probes += end - start;
        }
    }
    if pages.is_empty() {
        let message = format!("the shim logged no page of '{slug}'; was KDESK_TESSERACT honoured?");
        return Err(Error::new(ErrorKind::Check, message));
    }
    pages.sort_by(|a, b| a.0.total_cmp(&b.0));
    let first_start = pages[0].0;
    let last_start = pages[pages.len() - 1].0;
    let last_end = pages.iter().map(|p| p.1).fold(f64::MIN, f64::max);

    // Sweep the starts and ends, adding idle slots over each stretch.
    let mut events: Vec<(f64, i32)> = pages.iter().flat_map(|&(s, e)| [(s, 1), (e, -1)]).collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut running = 0i32;
    let mut full_at: Option<f64> = None;
    let mut previous = first_start;
    let (mut ramp, mut gaps, mut tail) = (0.0, 0.0, 0.0);
    for (time, change) in events {
        let idle = (jobs as i32 - running).max(0) as f64 * (time - previous);
        if full_at.is_none() {
            ramp += idle;
        } else if time <= last_start {
            gaps += idle;
        } else {
            tail += idle;
        }
        running += change;
        if full_at.is_none() && (running as usize >= jobs || time >= last_start) {
            full_at = Some(time);
        }
        previous = time;
    }
    let full_at = full_at.unwrap_or(last_start);
    let handovers = pages.iter().filter(|p| p.0 > full_at).count();
    Ok(Breakdown {
        slug: slug.to_string(),
        pages: pages.len(),
        jobs,
        wall: exited - spawned,
        startup: first_start - spawned,
        probes,
        busy: pages.iter().map(|p| p.1 - p.0).sum(),
        ramp,
        gaps,
        handovers,
        tail,
        shutdown: exited - last_end,
    })
}

/// Runs each project once under the shim and splits its time.
pub fn profile(tools: &Tools, projects: &[Project], shim: &Path) -> Result<Vec<Breakdown>> {
    let mut breakdowns = Vec::new();
    for project in projects {
        let log = tools.work.join(format!("shim-{}.log", project.slug));
        if log.exists() {
            std::fs::remove_file(&log).map_err(|e| Error::io("remove", &log, e))?;
        }
        let real = tools.tesseract.to_string_lossy().into_owned();
        let shim_path = shim.to_string_lossy().into_owned();
        let log_path = log.to_string_lossy().into_owned();
        let env = [
            (kdesk_ocr::TESSERACT_ENV, shim_path.as_str()),
            ("KDESK_BENCH_REAL_TESSERACT", real.as_str()),
            ("KDESK_BENCH_SHIM_LOG", log_path.as_str()),
        ];
        let spawned = crate::measure::unix_now();
        let run: ProjectRun = run_a(tools, project, 0, "profile", &env)?;
        let exited = spawned + run.wall;
        let text = std::fs::read_to_string(&log).map_err(|e| Error::io("read", &log, e))?;
        let split = breakdown(&project.slug, tools.jobs, spawned, exited, &text)?;
        tracing::info!(slug = %project.slug, wall = split.wall, startup = split.startup, gaps = split.gaps, tail = split.tail, shutdown = split.shutdown, "profiled");
        breakdowns.push(split);
    }
    Ok(breakdowns)
}

/// Redis commands and round trips of one project's batch.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RedisCost {
    pub slug: String,
    pub pages: usize,
    pub wall: f64,
    pub counted: Counted,
}

/// Runs each project once under `MONITOR` and counts its Redis traffic.
pub fn count_redis(
    tools: &Tools,
    projects: &[Project],
    monitor: &Monitor,
    connection: &mut redis::Connection,
) -> Result<Vec<RedisCost>> {
    let mut costs = Vec::new();
    for project in projects {
        let (from, to) = (format!("{}-start", project.slug), format!("{}-end", project.slug));
        monitor.mark(connection, &from)?;
        let run = run_a(tools, project, 0, "count", &[])?;
        monitor.mark(connection, &to)?;
        let counted = monitor.between(&from, &to);
        tracing::info!(slug = %project.slug, commands = counted.commands, round_trips = counted.round_trips, "counted redis traffic");
        costs.push(RedisCost {
            slug: project.slug.clone(),
            pages: project.pages.len(),
            wall: run.wall,
            counted,
        });
    }
    Ok(costs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_seconds_add_up() {
        // Two workers, three pages: 0-2 and 0.1-1.1, then 1.2-2.2.
        let log = "10.000 10.050 0 --version\n\
                   10.1 12.1 0 page\n10.2 11.2 0 page\n11.3 12.3 0 page\n";
        let split = breakdown("p", 2, 9.9, 12.5, log).unwrap();
        assert!((split.startup - 0.2).abs() < 1e-9);
        assert!((split.probes - 0.05).abs() < 1e-9);
        assert!((split.busy - 4.0).abs() < 1e-9);
        assert!((split.ramp - 0.1).abs() < 1e-9, "{split:?}");
        assert!((split.gaps - 0.1).abs() < 1e-9, "{split:?}");
        assert_eq!(split.handovers, 1);
        assert!((split.tail - 0.2).abs() < 1e-9, "{split:?}");
        assert!((split.shutdown - 0.2).abs() < 1e-9);
        let accounted = split.busy
            + 2.0 * split.startup
            + split.ramp
            + split.gaps
            + split.tail
            + 2.0 * split.shutdown;
        assert!((accounted - split.wall * 2.0).abs() < 1e-9, "{accounted} vs {}", split.wall * 2.0);
    }
}
