//! The in-process queue, used while Redis is unreachable: the owner's own
//! workers take jobs from a channel and answer on another.
//!
//! Rule: it carries the same jobs and results as the Redis streams; only
//! the transport differs, and it is lost with the process (the owner's
//! local record and the output files are what survive).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, Mutex};
use tokio_util::sync::CancellationToken;

use kdesk_ocr::Tesseract;

use super::{recognise_job, PageJob, PageResult};

/// The owner's side of the in-process queue.
pub struct LocalQueue {
    jobs: mpsc::UnboundedSender<PageJob>,
    results: mpsc::UnboundedReceiver<PageResult>,
    running: Arc<AtomicU64>,
    stop: CancellationToken,
}

impl LocalQueue {
    /// Starts `workers` workers on `engine`; they stop when the queue is dropped.
    pub fn start(engine: Tesseract, workers: usize, worker_name: &str) -> LocalQueue {
        let (job_sender, job_receiver) = mpsc::unbounded_channel::<PageJob>();
        let (result_sender, results) = mpsc::unbounded_channel();
        let job_receiver = Arc::new(Mutex::new(job_receiver));
        let running = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        for index in 0..workers.max(1) {
            let name = format!("{worker_name}/local{index}");
            let (engine, jobs, results) =
                (engine.clone(), job_receiver.clone(), result_sender.clone());
            let (running, stop) = (running.clone(), stop.clone());
            tokio::spawn(async move {
                loop {
                    let next = tokio::select! {
                        _ = stop.cancelled() => None,
                        job = async { jobs.lock().await.recv().await } => job,
                    };
                    let Some(job) = next else { break };
                    running.fetch_add(1, Ordering::SeqCst);
                    let result = tokio::select! {
                        _ = stop.cancelled() => None,
                        result = recognise_job(&engine, &job, &name) => Some(result),
                    };
                    running.fetch_sub(1, Ordering::SeqCst);
                    let Some(result) = result else { break };
                    if results.send(result).is_err() {
                        break;
                    }
                }
            });
        }
        LocalQueue { jobs: job_sender, results, running, stop }
    }

    pub fn push(&self, job: PageJob) {
        // The receiver lives as long as the workers, which live as long as `self`.
        let _ = self.jobs.send(job);
    }

    /// The next result, or `None` after `wait`.
    pub async fn next_result(&mut self, wait: std::time::Duration) -> Option<PageResult> {
        tokio::time::timeout(wait, self.results.recv()).await.ok().flatten()
    }

    /// Pages being recognised right now.
    pub fn running(&self) -> u64 {
        self.running.load(Ordering::SeqCst)
    }
}

impl Drop for LocalQueue {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
