//! Faults around a batch: its process killed, a worker killed holding a
//! page, Redis restarted under it or absent from the start, and a password
//! in the Redis URL that must never be printed.

use std::collections::BTreeMap;
use std::time::Duration;

use kdesk_testkit::RedisServer;

use crate::util::{self, Library, BATCH_DEADLINE};

/// The `.json` outputs of a project, by page id.
fn output_files(project: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    util::done_pages(project)
        .into_iter()
        .map(|page| {
            let bytes = std::fs::read(project.join("ocr").join(format!("{page}.json")))
                .expect("a committed output is readable");
            (page, bytes)
        })
        .collect()
}

/// `kdesk ocr` killed with SIGKILL mid-batch, then run again: it says it
/// resumes, finishes every page, and leaves the pages written before the
/// kill byte for byte as they were.
#[test]
fn rerun_after_kill_resumes_and_keeps_pages_already_written() {
    let server = RedisServer::start();
    let library = Library::new();
    library.add_project("san-shreelipi-book", "killed-book", Some(8), "san");
    let project = library.project_dir("killed-book");

    let batch = library.kdesk(&server.url(), &["ocr", "killed-book", "--jobs", "1"]).spawn();
    util::wait_for("two pages done", BATCH_DEADLINE, || {
        (util::done_pages(&project).len() >= 2).then_some(())
    });
    let killed = batch.kill();
    assert_eq!(
        killed.status.code(),
        None,
        "the batch ended before it was killed:\n{}",
        killed.stderr
    );
    let before = output_files(&project);
    assert!(before.len() >= 2 && before.len() < 8, "{:?}", before.keys());

    let rerun =
        library.kdesk(&server.url(), &["ocr", "killed-book", "--jobs", "1", "--json"]).run();
    rerun.expect_code(0);
    assert!(rerun.stderr.contains("resuming batch"), "no word of resuming:\n{}", rerun.stderr);
    assert_eq!(rerun.task_id(), util::task_id_in(&killed.stderr).expect("the first run's task id"));
    let status = rerun.json();
    assert_eq!((status["done"].as_u64(), status["failed"].as_u64()), (Some(8), Some(0)));

    let after = output_files(&project);
    assert_eq!(after.len(), 8, "{:?}", after.keys());
    for (page, bytes) in &before {
        assert!(after[page] == *bytes, "page {page} was recognised again after the resume");
    }
}

/// A `kdesk worker` killed while it holds a page: another worker claims the
/// page once it has been idle, and the batch ends with every page done once.
#[test]
fn page_held_by_a_killed_worker_is_claimed_by_another_and_done_once() {
    let server = RedisServer::start();
    let library = Library::new();
    library.add_project("san-shreelipi-book", "worker-book", Some(6), "san");
    let project = library.project_dir("worker-book");
    let mut redis = util::connect(&server);
    let url = server.url();

    let owner = library.kdesk(&url, &["ocr", "worker-book", "--jobs", "0", "--json"]).spawn();
    let task_id = util::wait_for("the batch's record", BATCH_DEADLINE, || {
        util::running_task_id(&mut redis, "worker-book")
    });
    let worker_args = ["worker", "--jobs", "1", "--claim-idle", "3"];
    let first_worker = library.kdesk(&url, &worker_args).spawn();
    let stream = format!("kdesk:task:{task_id}:jobs");
    util::wait_for("a page held by the first worker", BATCH_DEADLINE, || {
        let pending: redis::RedisResult<(u64, redis::Value, redis::Value, redis::Value)> =
            redis::cmd("XPENDING").arg(&stream).arg("workers").query(&mut redis);
        matches!(pending, Ok((1, ..))).then_some(())
    });
    first_worker.kill();
    let abandoned: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg(&stream)
        .arg("workers")
        .arg("-")
        .arg("+")
        .arg(10)
        .query(&mut redis)
        .expect("XPENDING answers");
    assert_eq!(abandoned.len(), 1, "the killed worker held no page: {abandoned:?}");

    let second_worker = library.kdesk(&url, &["-v", "worker", "--jobs", "1", "--claim-idle", "3"]);
    let second_worker = second_worker.spawn();
    let finished = owner.wait(BATCH_DEADLINE);
    let second_log = second_worker.stderr_so_far();
    drop(second_worker);
    assert!(
        second_log.contains("claimed a page abandoned by another worker"),
        "the second worker never claimed the abandoned page:\n{second_log}"
    );
    finished.expect_code(0);
    let status = finished.json();
    assert_eq!(status["task_id"], task_id.as_str());
    assert_eq!(
        (status["total"].as_u64(), status["done"].as_u64(), status["failed"].as_u64()),
        (Some(6), Some(6), Some(0)),
        "{status}"
    );
    assert_eq!(util::task_field(&mut redis, &task_id, "done").as_deref(), Some("6"));
    let pages = util::done_pages(&project);
    assert_eq!(pages.len(), 6, "{pages:?}");
    for page in &pages {
        assert_eq!(util::output_meta(&project, page)["task_id"], task_id.as_str());
    }
}

/// Redis killed mid-batch (losing everything) and started again: the batch
/// finishes every page with exit 0, Redis then holds its end and no record,
/// and `kdesk status` says nothing runs.
#[test]
fn batch_survives_a_redis_restart_and_publishes_its_end() {
    let mut server = RedisServer::start();
    let library = Library::new();
    library.add_project("san-shreelipi-book", "restart-book", Some(8), "san");
    let project = library.project_dir("restart-book");
    let url = server.url();

    let batch = library.kdesk(&url, &["ocr", "restart-book", "--jobs", "1", "--json"]).spawn();
    util::wait_for("two pages done", BATCH_DEADLINE, || {
        (util::done_pages(&project).len() >= 2).then_some(())
    });
    server.stop();
    let done_at_stop = util::done_pages(&project).len();
    assert!(done_at_stop < 8, "every page was done before Redis stopped");
    std::thread::sleep(Duration::from_secs(2));
    server.restart();

    let finished = batch.wait(BATCH_DEADLINE);
    finished.expect_code(0);
    let task_id = finished.task_id();
    assert_eq!(util::done_pages(&project).len(), 8);
    let status = finished.json();
    assert_eq!((status["done"].as_u64(), status["failed"].as_u64()), (Some(8), Some(0)));

    let mut redis = util::connect(&server);
    assert_eq!(
        util::running_task_id(&mut redis, "restart-book"),
        None,
        "the record outlived the batch"
    );
    let state = util::task_field(&mut redis, &task_id, "state");
    assert!(matches!(state.as_deref(), None | Some("SUCCESS")), "task state {state:?}");
    let said = library.kdesk(&url, &["status", "restart-book"]).run();
    said.expect_code(0);
    assert!(said.stdout.contains("no batch is running"), "{}", said.stdout);
}

/// Redis absent from the start: `kdesk ocr` still does every page with
/// exit 0 and `kdesk history` lists the batch.
#[test]
fn batch_without_redis_completes_and_is_in_history() {
    let library = Library::new();
    library.add_project("san-tulasi-scan", "offline-book", Some(4), "san");
    let url = util::closed_redis_url(None);

    let finished = library.kdesk(&url, &["ocr", "offline-book"]).run();
    finished.expect_code(0);
    let task_id = finished.task_id();
    assert!(
        finished.stderr.contains("tracked on this computer only"),
        "no notice that Redis is not used:\n{}",
        finished.stderr
    );
    assert_eq!(util::done_pages(&library.project_dir("offline-book")).len(), 4);

    let history = library.kdesk(&url, &["history", "--json"]).run();
    history.expect_code(0);
    let batches: serde_json::Value = history.json();
    let listed = batches
        .as_array()
        .expect("a list")
        .iter()
        .any(|b| b["task_id"] == task_id.as_str() && b["state"] == "SUCCESS" && b["done"] == 4);
    assert!(listed, "task {task_id} is not in the history: {batches}");
}

/// Regression: with Redis absent from the start, the "tracked on this
/// computer only" notice was printed twice (a warning log line and the
/// command's own notice).
#[test]
fn redis_absent_notice_is_printed_once() {
    let library = Library::new();
    library.add_project("san-tulasi-scan", "notice-book", Some(1), "san");
    let url = util::closed_redis_url(None);

    let finished = library.kdesk(&url, &["ocr", "notice-book"]).run();
    finished.expect_code(0);
    let notices = finished.stderr.matches("tracked on this computer only").count();
    assert_eq!(notices, 1, "the notice was printed {notices} times:\n{}", finished.stderr);
}

/// A password in REDIS_URL is never printed by `kdesk status` or
/// `kdesk ocr`, in their messages or their debug logs.
#[test]
fn redis_password_never_appears_in_output() {
    let library = Library::new();
    library.add_project("san-tulasi-scan", "secret-book", Some(1), "san");
    let url = util::closed_redis_url(Some("hunter2"));

    let runs = [
        library.kdesk(&url, &["status"]).run(),
        library.kdesk(&url, &["status", "secret-book"]).run(),
        library.kdesk(&url, &["-vv", "status"]).run(),
        library.kdesk(&url, &["ocr", "secret-book"]).run(),
        library.kdesk(&url, &["-vv", "ocr", "secret-book", "--force"]).run(),
    ];
    let mut redacted_seen = false;
    for run in &runs {
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains("hunter2"), "the password leaked:\n{text}");
            redacted_seen |= text.contains("redis://***@127.0.0.1");
        }
    }
    assert!(redacted_seen, "no message named the server (redacted); the check saw nothing");
    runs[0].expect_code(0);
    runs[3].expect_code(0);
}
