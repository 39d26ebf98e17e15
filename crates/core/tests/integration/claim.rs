//! One batch per project: of two starts at once, one wins and the other is
//! told which batch runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kdesk_core::{BatchRequest, Desk, ErrorKind};
use kdesk_testkit::RedisServer;

use crate::util;

fn request() -> BatchRequest {
    BatchRequest { jobs: 1, ..BatchRequest::default() }
}

/// Starts `name` on both desks at once and checks that exactly one gets the
/// batch and the other a BatchRunning error naming the winner's task id,
/// which is also the task in the project's record.
async fn race(first: &Desk, second: &Desk, redis: &mut redis::Connection, name: &str) {
    let slug = util::slug(name);
    let request = request();
    let (a, b) =
        tokio::join!(first.start_batch(&slug, &request), second.start_batch(&slug, &request));
    let (winner, loser) = match (a, b) {
        (Ok(winner), Err(loser)) | (Err(loser), Ok(winner)) => (winner, loser),
        (Ok(a), Ok(b)) => {
            panic!("{name}: both starts got a batch ({} and {})", a.task_id(), b.task_id())
        }
        (Err(a), Err(b)) => panic!("{name}: neither start got a batch: {a}; {b}"),
    };
    assert_eq!(loser.kind(), ErrorKind::BatchRunning, "{name}: {loser}");
    assert!(
        loser.to_string().contains(winner.task_id()),
        "{name}: the refusal does not name task {}: {loser}",
        winner.task_id()
    );
    let raw: String = redis::cmd("GET")
        .arg(format!("ocr_task:{name}"))
        .query(redis)
        .expect("the winner's record is in redis");
    assert!(raw.contains(winner.task_id()), "{name}: record is {raw}");
}

/// Two desks (two apps on one library and Redis) starting the same project
/// at once: exactly one gets the batch, the other a BatchRunning error
/// naming the winner's task id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_starts_at_once_give_one_batch_and_one_busy_error_naming_it() {
    let server = RedisServer::start();
    let library = util::library();
    util::project(library.path(), "san-tulasi-scan", "race-book", 1, "san");
    let first = util::desk(library.path(), &server);
    let second = util::desk(library.path(), &server);
    let mut redis = util::connect(&server);

    race(&first, &second, &mut redis, "race-book").await;
}

/// The same desk asked twice at once (an app's double click) also gives
/// one batch and one refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_desk_starting_twice_at_once_gives_one_batch() {
    let server = RedisServer::start();
    let library = util::library();
    util::project(library.path(), "san-tulasi-scan", "double-click", 1, "san");
    let desk = util::desk(library.path(), &server);
    let mut redis = util::connect(&server);

    race(&desk, &desk, &mut redis, "double-click").await;
}

/// Regression: a start that lost `SET NX` read the winner's record before
/// the winner had written its owner lease, took the record for a stale one
/// ("removing a record whose task no longer exists"), deleted it and
/// claimed the project too, so both starts got a batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_starts_under_cpu_load_never_both_get_a_batch() {
    let server = RedisServer::start();
    let library = util::library();
    let first = util::desk(library.path(), &server);
    let second = util::desk(library.path(), &server);
    let mut redis = util::connect(&server);

    // Busy cores stretch the gap between the winner's two writes, as a
    // machine running Tesseract on every core does.
    let _load = CpuLoad::start(2);
    for round in 0..300 {
        let name = format!("race-{round}");
        util::project(library.path(), "san-tulasi-scan", &name, 1, "san");
        race(&first, &second, &mut redis, &name).await;
    }
}

/// Threads spinning on a core each until dropped (also when a test panics).
struct CpuLoad {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl CpuLoad {
    fn start(threads: usize) -> CpuLoad {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..threads)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        CpuLoad { stop, threads }
    }
}

impl Drop for CpuLoad {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}
