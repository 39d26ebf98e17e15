//! The `ocr_task:{slug}` record shared with the Kalanjiyam web site: its
//! exact shape and lifetime while one of our batches runs.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use kdesk_core::{BatchRequest, Outcome, TaskState};
use kdesk_testkit::RedisServer;

use crate::util;

/// The contract's keys, in the order the original site writes them.
const CONTRACT_KEYS: [&str; 5] = ["task_id", "engine", "language", "started_at", "project_slug"];

/// While a batch runs its record has exactly the contract's keys in order,
/// an ISO 8601 start with offset and a one-day expiry; at the end it is gone
/// and the task hash says SUCCESS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_keeps_the_contract_while_running_and_is_removed_at_the_end() {
    let server = RedisServer::start();
    let library = util::library();
    util::project(library.path(), "san-shreelipi-book", "record-book", 4, "san");
    let desk = util::desk(library.path(), &server);
    let slug = util::slug("record-book");

    let request = BatchRequest { jobs: 1, ..BatchRequest::default() };
    let batch = desk.start_batch(&slug, &request).await.expect("the batch starts");
    let task_id = batch.task_id().to_string();
    let (sender, mut receiver) = watch::channel(batch.status());
    let running = tokio::spawn(batch.run(sender, CancellationToken::new()));

    // Look once the first page is done and three are still to come.
    loop {
        receiver.changed().await.expect("the batch reports progress before it ends");
        let status = receiver.borrow_and_update().clone();
        if status.done >= 1 {
            assert!(!status.state.is_finished(), "the batch ended before it could be looked at");
            break;
        }
    }
    let mut redis = util::connect(&server);
    let key = "ocr_task:record-book";
    let raw: Option<String> = redis::cmd("GET").arg(key).query(&mut redis).expect("GET answers");
    let ttl: i64 = redis::cmd("TTL").arg(key).query(&mut redis).expect("TTL answers");
    assert!(!running.is_finished(), "the record must be read while the batch runs");

    let raw = raw.expect("the record exists while the batch runs");
    let value: serde_json::Value = serde_json::from_str(&raw).expect("the record is JSON");
    let object = value.as_object().expect("the record is a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = CONTRACT_KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected, "exactly the contract's keys: {raw}");
    let positions: Vec<usize> = CONTRACT_KEYS
        .iter()
        .map(|name| raw.find(&format!("\"{name}\":")).expect("each key is in the raw text"))
        .collect();
    assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "keys out of order: {raw}");

    assert_eq!(object["task_id"], task_id.as_str());
    assert_eq!(object["engine"], "tesseract");
    assert_eq!(object["language"], "san");
    assert_eq!(object["project_slug"], "record-book");
    let started_at = object["started_at"].as_str().expect("started_at is a string");
    let parsed = DateTime::parse_from_rfc3339(started_at)
        .unwrap_or_else(|e| panic!("started_at '{started_at}' is not ISO 8601 with offset: {e}"));
    let age = Utc::now().signed_duration_since(parsed.with_timezone(&Utc));
    assert!(age.num_seconds() >= 0 && age.num_minutes() < 10, "started_at {started_at} is not now");
    assert!((86_000..=86_400).contains(&ttl), "record TTL is {ttl}");

    let status = tokio::time::timeout(Duration::from_secs(120), running)
        .await
        .expect("the batch ends")
        .expect("the batch task does not panic")
        .expect("the batch succeeds");
    assert_eq!(status.outcome, Some(Outcome::Succeeded));
    assert_eq!((status.done, status.total), (4, 4));

    let after: Option<String> = redis::cmd("GET").arg(key).query(&mut redis).expect("GET answers");
    assert_eq!(after, None, "the record outlived its batch");
    let state: Option<String> = redis::cmd("HGET")
        .arg(format!("kdesk:task:{task_id}"))
        .arg("state")
        .query(&mut redis)
        .expect("HGET answers");
    assert_eq!(state.as_deref(), Some(TaskState::Success.as_str()));
}
