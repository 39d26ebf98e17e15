//! One batch per project: of two starts at once, one wins and the other is
//! told which batch runs.

use kdesk_core::{BatchRequest, ErrorKind};
use kdesk_testkit::RedisServer;

use crate::util;

/// How many projects are raced; each round is a fresh chance for both
/// claims to slip through.
const ROUNDS: usize = 8;

fn request() -> BatchRequest {
    BatchRequest { jobs: 1, ..BatchRequest::default() }
}

/// Two desks (two apps on one library and Redis) starting the same project
/// at once: exactly one gets the batch, the other a BatchRunning error
/// naming the winner's task id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_starts_at_once_give_one_batch_and_one_busy_error_naming_it() {
    let server = RedisServer::start();
    let library = util::library();
    let first = util::desk(library.path(), &server);
    let second = util::desk(library.path(), &server);
    let mut redis = util::connect(&server);

    for round in 0..ROUNDS {
        let name = format!("race-{round}");
        util::project(library.path(), "san-tulasi-scan", &name, 1, "san");
        let slug = util::slug(&name);
        let request = request();

        let (a, b) =
            tokio::join!(first.start_batch(&slug, &request), second.start_batch(&slug, &request));
        let (winner, loser) = match (a, b) {
            (Ok(winner), Err(loser)) | (Err(loser), Ok(winner)) => (winner, loser),
            (Ok(a), Ok(b)) => panic!(
                "round {round}: both starts got a batch ({} and {})",
                a.task_id(),
                b.task_id()
            ),
            (Err(a), Err(b)) => panic!("round {round}: neither start got a batch: {a}; {b}"),
        };
        assert_eq!(loser.kind(), ErrorKind::BatchRunning, "round {round}: {loser}");
        assert!(
            loser.to_string().contains(winner.task_id()),
            "round {round}: the refusal does not name task {}: {loser}",
            winner.task_id()
        );
        let raw: String = redis::cmd("GET")
            .arg(format!("ocr_task:{name}"))
            .query(&mut redis)
            .expect("the winner's record is in redis");
        assert!(raw.contains(winner.task_id()), "round {round}: record is {raw}");
    }
}

/// The same desk asked twice at once (an app's double click) also gives
/// one batch and one refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_desk_starting_twice_at_once_gives_one_batch() {
    let server = RedisServer::start();
    let library = util::library();
    util::project(library.path(), "san-tulasi-scan", "double-click", 1, "san");
    let desk = util::desk(library.path(), &server);
    let slug = util::slug("double-click");
    let request = request();

    let (a, b) = tokio::join!(desk.start_batch(&slug, &request), desk.start_batch(&slug, &request));
    match (a, b) {
        (Ok(winner), Err(loser)) | (Err(loser), Ok(winner)) => {
            assert_eq!(loser.kind(), ErrorKind::BatchRunning, "{loser}");
            assert!(loser.to_string().contains(winner.task_id()), "{loser}");
        }
        (Ok(a), Ok(b)) => panic!("both starts got a batch ({} and {})", a.task_id(), b.task_id()),
        (Err(a), Err(b)) => panic!("neither start got a batch: {a}; {b}"),
    }
}
