//! A status look-up against the number of tracked tasks: `kdesk`'s
//! `Tracker::status` beside the original's way, a scan of every
//! `ocr_task:*` key for the task id, on the same Redis.
//!
//! [`seed`] fills Redis with `n` tasks as `kdesk` tracks them: the
//! `ocr_task:{slug}` record and the `kdesk:task:{id}` hash, written with
//! pipelined commands. [`scan_lookup`] is the original's look-up: `SCAN`
//! with `MATCH ocr_task:*` at the server's default `COUNT`, a `GET` of each
//! key found, and a compare of its `task_id`, stopping at the first match.
//! Rule: both look-ups are asked for random tasks from one seeded sequence,
//! and every answer is checked, so a fast wrong answer cannot pass for a
//! fast one.

use std::time::Instant;

use chrono::Utc;
use serde::{Deserialize, Serialize};

use kdesk_core::tracking::{keys, Redis, RedisTarget, TaskRecord, TaskSnapshot, Tracker};
use kdesk_core::TaskState;

use crate::error::{Error, ErrorKind, Result};
use crate::monitor::Monitor;
use crate::stats::Summary;

/// Commands per pipeline while seeding.
const SEED_CHUNK: usize = 1_000;

/// Status calls whose round trips `MONITOR` counts.
const COUNTED_CALLS: usize = 20;

/// The id of the `index`-th seeded task; it starts with `kdesk-`, as ours do.
pub fn task_id(index: usize) -> String {
    format!("{}bench-{index:07}", keys::TASK_ID_PREFIX)
}

/// Empties Redis and tracks `n` tasks in it; returns their ids.
pub fn seed(connection: &mut redis::Connection, n: usize) -> Result<Vec<String>> {
    redis::cmd("FLUSHALL").query::<()>(connection).map_err(|e| Error::redis("FLUSHALL", e))?;
    let mut ids = Vec::with_capacity(n);
    for chunk_start in (0..n).step_by(SEED_CHUNK) {
        let mut pipe = redis::pipe();
        for index in chunk_start..(chunk_start + SEED_CHUNK).min(n) {
            let id = task_id(index);
            let slug = format!("book-{index:07}");
            let record = TaskRecord::new(&id, "tesseract", "san", &slug);
            let snapshot = snapshot_of(&record, index);
            pipe.cmd("SET")
                .arg(keys::record(&slug))
                .arg(record.to_json())
                .arg("EX")
                .arg(keys::RECORD_TTL_SECONDS)
                .ignore();
            pipe.hset_multiple(keys::task(&id), &snapshot.to_fields()).ignore();
            pipe.expire(keys::task(&id), keys::TASK_TTL_SECONDS as i64).ignore();
            ids.push(id);
        }
        pipe.query::<()>(connection).map_err(|e| Error::redis("the seeding pipeline", e))?;
    }
    Ok(ids)
}

/// A batch half way through, as its owner would have published it.
fn snapshot_of(record: &TaskRecord, index: usize) -> TaskSnapshot {
    let total = 100 + (index % 400) as u64;
    TaskSnapshot {
        task_id: record.task_id.clone(),
        project_slug: record.project_slug.clone(),
        engine: record.engine.clone(),
        language: record.language.clone(),
        started_at: record.started_at.clone(),
        state: TaskState::Progress,
        outcome: None,
        total,
        done: total / 2,
        failed: 0,
        skipped: 0,
        running_locally: 0,
        run_started_at: Utc::now(),
        run_finished_pages: total / 2,
        run_page_seconds: total as f64 * 0.4,
        failed_pages: Vec::new(),
        finished_at: None,
        owner: "bench:1".to_string(),
        force: false,
    }
}

/// The original's look-up: the slug whose record holds `task_id`, and the
/// round trips it took.
pub fn scan_lookup(
    connection: &mut redis::Connection,
    task_id: &str,
) -> Result<(Option<String>, u64)> {
    let pattern = format!("{}*", keys::RECORD_PREFIX);
    let mut cursor: u64 = 0;
    let mut round_trips = 0;
    loop {
        let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(&pattern)
            .query(connection)
            .map_err(|e| Error::redis("SCAN", e))?;
        round_trips += 1;
        for key in found {
            let raw: Option<Vec<u8>> = redis::cmd("GET")
                .arg(&key)
                .query(connection)
                .map_err(|e| Error::redis("GET", e))?;
            round_trips += 1;
            let Some(raw) = raw else {
                continue;
            };
            let Ok(record) = serde_json::from_slice::<serde_json::Value>(&raw) else {
                continue;
            };
            if record["task_id"].as_str() == Some(task_id) {
                let slug = key.strip_prefix(keys::RECORD_PREFIX).unwrap_or(&key).to_string();
                return Ok((Some(slug), round_trips));
            }
        }
        if next == 0 {
            return Ok((None, round_trips));
        }
        cursor = next;
    }
}

/// `kdesk`'s tracker on `url`, as the CLI and the app make it.
pub fn tracker(url: &str) -> Result<Tracker> {
    let target = RedisTarget::parse(url).map_err(|e| {
        Error::with_source(ErrorKind::Setup, format!("bad redis url '{url}': {e}"), e)
    })?;
    let redis = Redis::new(target).map_err(|e| {
        Error::with_source(ErrorKind::Setup, format!("cannot prepare redis at '{url}': {e}"), e)
    })?;
    Ok(Tracker::new(redis))
}

/// `kdesk`'s status of `task_id`, checked to be that task's.
pub async fn tracker_lookup(tracker: &Tracker, task_id: &str) -> Result<()> {
    let status = tracker.status(task_id).await.map_err(|e| {
        Error::with_source(ErrorKind::Redis, format!("status of '{task_id}' failed: {e}"), e)
    })?;
    match status {
        Some(status) if status.task_id == task_id => Ok(()),
        _ => {
            let message = format!("status of seeded task '{task_id}' came back empty or wrong");
            Err(Error::new(ErrorKind::Check, message))
        }
    }
}

/// A small, seeded pseudo-random sequence (xorshift), so runs pick the same tasks.
pub struct Picker(u64);

impl Picker {
    pub fn new(seed: u64) -> Picker {
        Picker(seed.max(1))
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// The two look-ups at one number of tasks.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StatusFigures {
    pub tasks: usize,
    pub seed_seconds: f64,
    /// Microseconds per `Tracker::status`.
    pub status_us: Summary,
    /// Top-level commands per `Tracker::status`, counted by `MONITOR`.
    pub status_round_trips: f64,
    /// Microseconds per scan look-up.
    pub scan_us: Summary,
    pub scan_round_trips: Summary,
}

/// How many look-ups to time at one size.
#[derive(Clone, Copy, Debug)]
pub struct Effort {
    pub status_samples: usize,
    /// Time allowed for the scan look-ups at one size, in seconds; at least
    /// five are timed whatever it takes.
    pub scan_budget: f64,
}

/// Seeds `tasks` tasks and times both look-ups on them.
pub fn measure(
    runtime: &tokio::runtime::Runtime,
    tracker: &Tracker,
    connection: &mut redis::Connection,
    monitor: &Monitor,
    tasks: usize,
    effort: Effort,
) -> Result<StatusFigures> {
    let seeding = Instant::now();
    let ids = seed(connection, tasks)?;
    let seed_seconds = seeding.elapsed().as_secs_f64();
    let mut picker = Picker::new(0x5eed ^ tasks as u64);

    // Warm up: connect, load the script, fill caches.
    for _ in 0..50 {
        runtime.block_on(tracker_lookup(tracker, &ids[picker.below(ids.len())]))?;
    }

    let label = format!("status-{tasks}");
    monitor.mark(connection, &format!("{label}-start"))?;
    for _ in 0..COUNTED_CALLS {
        runtime.block_on(tracker_lookup(tracker, &ids[picker.below(ids.len())]))?;
    }
    monitor.mark(connection, &format!("{label}-end"))?;
    let counted = monitor.between(&format!("{label}-start"), &format!("{label}-end"));
    let status_round_trips = counted.round_trips as f64 / COUNTED_CALLS as f64;

    let mut status_us = Vec::with_capacity(effort.status_samples);
    for _ in 0..effort.status_samples {
        let id = &ids[picker.below(ids.len())];
        let started = Instant::now();
        runtime.block_on(tracker_lookup(tracker, id))?;
        status_us.push(started.elapsed().as_secs_f64() * 1e6);
    }

    let mut scan_us = Vec::new();
    let mut scan_trips = Vec::new();
    let scanning = Instant::now();
    while scan_us.len() < 5 || scanning.elapsed().as_secs_f64() < effort.scan_budget {
        let index = picker.below(ids.len());
        let started = Instant::now();
        let (slug, round_trips) = scan_lookup(connection, &ids[index])?;
        scan_us.push(started.elapsed().as_secs_f64() * 1e6);
        scan_trips.push(round_trips as f64);
        if slug.as_deref() != Some(format!("book-{index:07}").as_str()) {
            let message = format!("the scan look-up of '{}' found {slug:?}", ids[index]);
            return Err(Error::new(ErrorKind::Check, message));
        }
        if scan_us.len() >= 2_000 {
            break;
        }
    }
    let figures = StatusFigures {
        tasks,
        seed_seconds,
        status_us: Summary::of(&status_us),
        status_round_trips,
        scan_us: Summary::of(&scan_us),
        scan_round_trips: Summary::of(&scan_trips),
    };
    tracing::info!(
        tasks,
        status_median_us = figures.status_us.median,
        scan_median_us = figures.scan_us.median,
        "status look-ups timed"
    );
    Ok(figures)
}
