//! `kdesk worker`: page workers for every batch on the Redis server, so
//! that more computers can help. Ctrl-C once finishes the pages in hand;
//! twice hands them back to the queue at once.

use std::time::Duration;

use kdesk_core::owner::Owner;
use kdesk_core::tracking::Redis;
use kdesk_core::worker::{run_worker, StopSignals, WorkerOptions};
use kdesk_ocr::Tesseract;

use crate::args::{Globals, WorkerArgs};
use crate::commands::redis_target;

pub async fn run(globals: &Globals, args: &WorkerArgs) -> anyhow::Result<i32> {
    let target = redis_target(globals)?;
    let engine = Tesseract::detect(Duration::from_secs(globals.page_timeout.max(1))).await?;
    let redis = Redis::new(target.clone())?;
    if let Err(error) = redis.ping().await {
        eprintln!("warning: {error}; waiting for it");
    }
    let jobs = args.jobs.unwrap_or_else(kdesk_core::default_jobs).max(1);
    let owner = Owner::this_process();
    eprintln!("{jobs} workers taking pages from {target} (Ctrl-C: finish pages in hand and stop; twice: hand them back)");

    let stop = StopSignals::default();
    let workers: Vec<_> = (0..jobs)
        .map(|index| {
            let options = WorkerOptions {
                name: format!("{owner}/{index}"),
                max_attempts: args.max_attempts.max(1),
                only_task: None,
                claim_idle: Duration::from_secs(args.claim_idle.max(1)),
            };
            tokio::spawn(run_worker(redis.clone(), engine.clone(), options, stop.clone()))
        })
        .collect();

    // A service manager's stop (SIGTERM) hands the pages back at once.
    let on_terminate = stop.clone();
    if let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        tokio::spawn(async move {
            if terminate.recv().await.is_some() {
                on_terminate.now.cancel();
            }
        });
    }
    let signals = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("stopping after the pages in hand (Ctrl-C again hands them back now)");
            signals.after_page.cancel();
        }
        if tokio::signal::ctrl_c().await.is_ok() {
            signals.now.cancel();
        }
    });
    for worker in workers {
        worker.await?;
    }
    Ok(0)
}
