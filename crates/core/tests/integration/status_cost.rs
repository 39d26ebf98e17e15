//! A status look-up costs the same few Redis commands however many other
//! batches Redis holds: no `SCAN` or `KEYS` on that path.

use std::collections::BTreeMap;

use chrono::{Duration as Days, Utc};

use kdesk_core::tracking::{TaskSnapshot, TaskState};
use kdesk_testkit::RedisServer;

use crate::util;

/// The task whose status is looked up, and its project.
const TASK_ID: &str = "kdesk-cost-target";
const SLUG: &str = "cost-book";

/// `total_commands_processed` from `INFO stats`.
fn commands_processed(redis: &mut redis::Connection) -> u64 {
    let info: redis::InfoDict = redis::cmd("INFO").arg("stats").query(redis).expect("INFO answers");
    info.get("total_commands_processed").expect("INFO stats has total_commands_processed")
}

/// A snapshot of a batch as its owner would publish it.
fn snapshot(task_id: &str, slug: &str, state: TaskState) -> TaskSnapshot {
    TaskSnapshot {
        task_id: task_id.to_string(),
        project_slug: slug.to_string(),
        engine: "tesseract".to_string(),
        language: "san".to_string(),
        started_at: "2026-12-04T10:00:00.000+00:00".to_string(),
        state,
        outcome: None,
        total: 40,
        done: 12,
        failed: 0,
        skipped: 0,
        running_locally: 0,
        run_started_at: Utc::now() - Days::seconds(60),
        run_finished_pages: 12,
        run_page_seconds: 9.0,
        failed_pages: Vec::new(),
        finished_at: None,
        owner: "elsewhere:1:cafe".to_string(),
        force: false,
    }
}

fn record_json(task_id: &str, slug: &str) -> String {
    serde_json::json!({
        "task_id": task_id,
        "engine": "tesseract",
        "language": "san",
        "started_at": "2026-12-04T10:00:00.000+00:00",
        "project_slug": slug,
    })
    .to_string()
}

/// Adds fake tasks `from..to`: finished hashes of ours, and records of other
/// projects (half ours, half another application's), in one pipeline.
fn seed(redis: &mut redis::Connection, from: usize, to: usize) {
    let mut pipe = redis::pipe();
    for n in from..to {
        let task_id = format!("kdesk-fake-{n}");
        let slug = format!("other-book-{n}");
        let fields = snapshot(&task_id, &slug, TaskState::Success).to_fields();
        pipe.hset_multiple(format!("kdesk:task:{task_id}"), &fields).ignore();
        let record_task = if n % 2 == 0 { task_id } else { format!("celery-{n}") };
        pipe.set_ex(format!("ocr_task:{slug}"), record_json(&record_task, &slug), 86_400).ignore();
    }
    pipe.query::<()>(redis).expect("the seeding pipeline runs");
    let keys: u64 = redis::cmd("DBSIZE").query(redis).expect("DBSIZE answers");
    assert!(keys >= 2 * to as u64, "seeding left only {keys} keys");
}

/// Calls per command name from `INFO commandstats`, INFO itself left out.
fn command_calls(redis: &mut redis::Connection) -> BTreeMap<String, u64> {
    let text: String = redis::cmd("INFO").arg("commandstats").query(redis).expect("INFO answers");
    text.lines()
        .filter_map(|line| {
            let (name, rest) = line.strip_prefix("cmdstat_")?.split_once(':')?;
            let calls = rest.strip_prefix("calls=")?.split(',').next()?.parse().ok()?;
            (name != "info").then(|| (name.to_string(), calls))
        })
        .collect()
}

/// What one look-up cost: commands counted by Redis (those a script runs
/// included), and which ones.
#[derive(Debug, PartialEq, Eq)]
struct Cost {
    commands: u64,
    by_name: BTreeMap<String, u64>,
}

/// What Redis processed for one call to `look_up`, the INFO calls around it
/// discounted (their own count is measured as INFOs with nothing between).
async fn cost<F: std::future::Future>(
    redis: &mut redis::Connection,
    look_up: F,
) -> (Cost, F::Output) {
    let first = commands_processed(redis);
    let second = commands_processed(redis);
    let info_cost = second - first;
    let calls_before = command_calls(redis);
    let before = commands_processed(redis);
    let output = look_up.await;
    let after = commands_processed(redis);
    let calls_after = command_calls(redis);
    let by_name = calls_after
        .into_iter()
        .filter_map(|(name, calls)| {
            let delta = calls - calls_before.get(&name).copied().unwrap_or(0);
            (delta > 0).then_some((name, delta))
        })
        .collect();
    (Cost { commands: after - before - info_cost, by_name }, output)
}

/// A desk whose Redis holds our running target batch and `others` fake
/// tasks, warmed up (connected, status script loaded).
struct Seeded {
    _server: RedisServer,
    _library: tempfile::TempDir,
    desk: kdesk_core::Desk,
    redis: redis::Connection,
    others: usize,
}

impl Seeded {
    async fn new(others: usize) -> Seeded {
        let server = RedisServer::start();
        let library = util::library();
        let desk = util::desk(library.path(), &server);
        let mut redis = util::connect(&server);

        let target = snapshot(TASK_ID, SLUG, TaskState::Progress);
        redis::cmd("HSET")
            .arg(format!("kdesk:task:{TASK_ID}"))
            .arg(target.to_fields())
            .query::<()>(&mut redis)
            .expect("HSET answers");
        redis::cmd("SET")
            .arg(format!("ocr_task:{SLUG}"))
            .arg(record_json(TASK_ID, SLUG))
            .arg("EX")
            .arg(86_400)
            .query::<()>(&mut redis)
            .expect("SET answers");
        seed(&mut redis, 0, others);

        // Connecting and loading the status script are one-off costs.
        desk.tracker().status(TASK_ID).await.expect("status answers");
        desk.status(&util::slug(SLUG)).await.expect("status answers");
        Seeded { _server: server, _library: library, desk, redis, others }
    }

    /// The cost of `Tracker::status(task_id)` and of `Desk::status(slug)`.
    async fn costs(&mut self) -> (Cost, Cost) {
        let (by_task, status) = cost(&mut self.redis, self.desk.tracker().status(TASK_ID)).await;
        let status = status.expect("status answers").expect("the task is found");
        assert_eq!((status.task_id.as_str(), status.done), (TASK_ID, 12));
        let slug = util::slug(SLUG);
        let (by_slug, status) = cost(&mut self.redis, self.desk.status(&slug)).await;
        let status = status.expect("status answers").expect("the batch is found");
        assert_eq!((status.task_id.as_str(), status.done), (TASK_ID, 12));
        eprintln!(
            "with {} other tasks: Tracker::status {by_task:?}, Desk::status {by_slug:?}",
            self.others
        );
        (by_task, by_slug)
    }
}

/// `Tracker::status` and `Desk::status` cost the same Redis commands with
/// 10 and with 5000 other tasks in Redis.
#[tokio::test]
async fn status_costs_the_same_commands_with_10_or_5000_other_tasks() {
    let mut few = Seeded::new(10).await;
    let mut many = Seeded::new(5000).await;
    let (few_by_task, few_by_slug) = few.costs().await;
    let (many_by_task, many_by_slug) = many.costs().await;
    assert_eq!(few_by_task, many_by_task, "Tracker::status grew with the number of tasks");
    assert_eq!(few_by_slug, many_by_slug, "Desk::status grew with the number of tasks");
    assert!(few_by_task.commands >= 1, "the measurement saw nothing: {few_by_task:?}");
}

/// A status look-up stays small: at most five commands, those run inside
/// Lua scripts included.
#[tokio::test]
async fn status_costs_at_most_five_commands() {
    let mut seeded = Seeded::new(10).await;
    let (by_task, by_slug) = seeded.costs().await;
    assert!(by_task.commands <= 5, "Tracker::status took {by_task:?}");
    assert!(by_slug.commands <= 5, "Desk::status took {by_slug:?}");
}
