//! Whatever else is found under `ocr_task:*` keys: junk is removed, stale
//! records of ours are removed, another application's record is left alone
//! and respected.

use kdesk_testkit::RedisServer;

use crate::util::{self, Library};

/// Junk and stale records are removed by `kdesk status`; another
/// application's record is listed as running elsewhere, keeps its expiry,
/// and makes `kdesk ocr` on its project exit 4 naming its task.
#[test]
fn status_removes_junk_records_and_respects_another_applications_record() {
    let server = RedisServer::start();
    let library = Library::new();
    library.add_project("san-tulasi-scan", "e", Some(1), "san");
    let mut redis = util::connect(&server);
    let url = server.url();

    let wrong_types =
        r#"{"task_id": 7, "engine": ["x"], "started_at": false, "project_slug": "b"}"#;
    let huge = serde_json::json!({
        "task_id": "kdesk-huge",
        "engine": "tesseract",
        "language": "san",
        "started_at": "2026-12-04T10:00:00.000+00:00",
        "project_slug": "c",
        "padding": "x".repeat(100 * 1024),
    })
    .to_string();
    let stale = r#"{"task_id":"kdesk-00000000-0000-0000-0000-000000000000","engine":"tesseract","language":"san","started_at":"2026-12-04T10:00:00.000+00:00","project_slug":"d"}"#;
    let other = r#"{"task_id": "celery-123", "engine": "google", "started_at": "2026-12-04T10:00:00.123456", "project_slug": "e"}"#;
    for (key, value) in [
        ("ocr_task:a", "not json"),
        ("ocr_task:b", wrong_types),
        ("ocr_task:c", huge.as_str()),
        ("ocr_task:d", stale),
    ] {
        redis::cmd("SET").arg(key).arg(value).query::<()>(&mut redis).expect("SET answers");
    }
    redis::cmd("SET")
        .arg("ocr_task:e")
        .arg(other)
        .arg("EX")
        .arg(3600)
        .query::<()>(&mut redis)
        .unwrap();

    let status = library.kdesk(&url, &["status"]).run();
    status.expect_code(0);
    assert!(
        status.stdout.contains("e  running elsewhere (task celery-123"),
        "the other application's batch is not listed:\n{}",
        status.stdout
    );
    for key in ["ocr_task:a", "ocr_task:b", "ocr_task:c", "ocr_task:d"] {
        let exists: bool = redis::cmd("EXISTS").arg(key).query(&mut redis).unwrap();
        assert!(!exists, "{key} was not removed");
    }
    let kept: Option<String> = redis::cmd("GET").arg("ocr_task:e").query(&mut redis).unwrap();
    assert_eq!(kept.as_deref(), Some(other), "another application's record was changed");
    let ttl: i64 = redis::cmd("TTL").arg("ocr_task:e").query(&mut redis).unwrap();
    assert!((3500..=3600).contains(&ttl), "its expiry was touched: TTL {ttl}");

    let refused = library.kdesk(&url, &["ocr", "e"]).run();
    refused.expect_code(4);
    assert!(
        refused.stderr.contains("celery-123"),
        "the refusal does not name the task:\n{}",
        refused.stderr
    );
    assert!(util::done_pages(&library.project_dir("e")).is_empty(), "pages were recognised anyway");
    let kept: Option<String> = redis::cmd("GET").arg("ocr_task:e").query(&mut redis).unwrap();
    assert_eq!(kept.as_deref(), Some(other));
}
