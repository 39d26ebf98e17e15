//! A status look-up costs the same few Redis commands however many other
//! batches Redis holds: no `SCAN` or `KEYS` on that path.

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

/// Commands Redis processed for one call to `look_up`, the INFO around it
/// discounted (measured as two INFOs with nothing between).
async fn cost<F: std::future::Future>(
    redis: &mut redis::Connection,
    look_up: F,
) -> (u64, F::Output) {
    let first = commands_processed(redis);
    let second = commands_processed(redis);
    let info_cost = second - first;
    let before = commands_processed(redis);
    let output = look_up.await;
    let after = commands_processed(redis);
    (after - before - info_cost, output)
}

/// `Tracker::status` and `Desk::status` cost the same small number of
/// commands with 10 and with 5000 other tasks in Redis.
#[tokio::test]
async fn status_costs_the_same_few_commands_with_10_or_5000_other_tasks() {
    let server = RedisServer::start();
    let library = util::library();
    let desk = util::desk(library.path(), &server);
    let slug = util::slug(SLUG);
    let mut redis = util::connect(&server);

    let target = snapshot(TASK_ID, SLUG, TaskState::Progress);
    redis::cmd("HSET")
        .arg(format!("kdesk:task:{TASK_ID}"))
        .arg(&target.to_fields())
        .query::<()>(&mut redis)
        .expect("HSET answers");
    redis::cmd("SET")
        .arg(format!("ocr_task:{SLUG}"))
        .arg(record_json(TASK_ID, SLUG))
        .arg("EX")
        .arg(86_400)
        .query::<()>(&mut redis)
        .expect("SET answers");
    seed(&mut redis, 0, 10);

    // Connecting and loading the status script are one-off costs.
    desk.tracker().status(TASK_ID).await.expect("status answers");
    desk.status(&slug).await.expect("status answers");

    let mut costs = Vec::new();
    for others in [10, 5000] {
        if others > 10 {
            seed(&mut redis, 10, others);
        }
        let (by_task, status) = cost(&mut redis, desk.tracker().status(TASK_ID)).await;
        let status = status.expect("status answers").expect("the task is found");
        assert_eq!((status.task_id.as_str(), status.done), (TASK_ID, 12));
        let (by_slug, status) = cost(&mut redis, desk.status(&slug)).await;
        let status = status.expect("status answers").expect("the batch is found");
        assert_eq!((status.task_id.as_str(), status.done), (TASK_ID, 12));
        eprintln!(
            "with {others} other tasks: Tracker::status {by_task}, Desk::status {by_slug} commands"
        );
        costs.push((by_task, by_slug));
    }
    assert_eq!(costs[0], costs[1], "the cost grew with the number of other tasks");
    let (by_task, by_slug) = costs[0];
    assert!(by_task >= 1 && by_task <= 5, "Tracker::status took {by_task} commands");
    assert!(by_slug >= 1 && by_slug <= 5, "Desk::status took {by_slug} commands");
}
