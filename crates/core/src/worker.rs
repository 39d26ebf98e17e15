//! A page worker on the Redis queue: takes jobs of every active batch,
//! recognises them and sends the results back. `kdesk worker` runs these,
//! and so does the owner of a batch for its in-process pool.
//!
//! Rule: a worker never writes into a project; it only answers through
//! Redis. A page is handed back (not lost) when the worker is told to stop
//! at once, and is claimed by another worker if this one dies.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use kdesk_ocr::Tesseract;

use crate::error::Result;
use crate::queue::streams::{self, TakenJob};
use crate::queue::{recognise_job, PageOutcome, PageResult};
use crate::tracking::{keys, Redis};

/// How long one blocking read waits for a job.
const BLOCK: Duration = Duration::from_secs(1);

/// How often the list of active batches is read again.
const TASKS_REFRESH: Duration = Duration::from_secs(2);

/// How long a worker leaves alone a batch it cannot serve.
const AVOID_FOR: Duration = Duration::from_secs(60);

/// How often a worker looks for pages abandoned by dead workers.
const ABANDONED_SCAN: Duration = Duration::from_secs(5);

/// How a worker is told to stop.
#[derive(Clone, Default)]
pub struct StopSignals {
    /// Finish the page in hand, then stop.
    pub after_page: CancellationToken,
    /// Hand the page in hand back to the queue and stop now.
    pub now: CancellationToken,
}

/// The settings of one worker.
#[derive(Clone)]
pub struct WorkerOptions {
    /// The consumer name in the group; unique per worker.
    pub name: String,
    /// A page handed out this many times is failed for good instead.
    pub max_attempts: u32,
    /// Work only on this task (the owner's own pool); `None` takes any.
    pub only_task: Option<String>,
    /// A page held this long by a silent worker is taken over.
    pub claim_idle: Duration,
}

/// Runs one worker until `stop` says so. Redis outages are waited out.
pub async fn run_worker(
    redis: Redis,
    engine: Tesseract,
    options: WorkerOptions,
    stop: StopSignals,
) {
    let mut worker = Worker {
        redis,
        engine,
        options,
        tasks: Vec::new(),
        cursor: 0,
        avoided: HashMap::new(),
        next_refresh: Instant::now(),
        next_scan: Instant::now(),
        degraded: false,
    };
    let mut blocking = match worker.redis.dedicated_connection(BLOCK) {
        Ok(connection) => connection,
        Err(error) => {
            warn!(worker = %worker.options.name, error = %error, "worker cannot start");
            return;
        }
    };
    info!(worker = %worker.options.name, "worker started");
    while !stop.after_page.is_cancelled() && !stop.now.is_cancelled() {
        let step = worker.step(&mut blocking, &stop).await;
        match step {
            Ok(()) => {
                if worker.degraded {
                    info!(worker = %worker.options.name, "redis is back; taking pages again");
                    worker.degraded = false;
                }
            }
            Err(error) => {
                if !worker.degraded {
                    warn!(worker = %worker.options.name, error = %error, "worker waits for redis");
                    worker.degraded = true;
                }
                tokio::select! {
                    _ = stop.after_page.cancelled() => {}
                    _ = stop.now.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
    info!(worker = %worker.options.name, "worker stopped");
}

struct Worker {
    redis: Redis,
    engine: Tesseract,
    options: WorkerOptions,
    tasks: Vec<String>,
    /// Where the next look for jobs starts, so that batches take turns.
    cursor: usize,
    /// Batches this worker leaves alone for a while: their queue is broken,
    /// or this computer lacks their language.
    avoided: HashMap<String, Instant>,
    next_refresh: Instant,
    next_scan: Instant,
    degraded: bool,
}

impl Worker {
    async fn step(
        &mut self,
        blocking: &mut redis::aio::ConnectionManager,
        stop: &StopSignals,
    ) -> Result<()> {
        if Instant::now() >= self.next_refresh {
            self.refresh_tasks().await?;
        }
        if self.tasks.is_empty() {
            tokio::select! {
                _ = stop.after_page.cancelled() => {}
                _ = stop.now.cancelled() => {}
                _ = tokio::time::sleep(BLOCK) => {}
            }
            return Ok(());
        }

        // Pages of dead workers first: they have waited longest.
        if Instant::now() >= self.next_scan {
            self.next_scan = Instant::now() + ABANDONED_SCAN.min(self.options.claim_idle);
            let open = self.tasks.iter().filter(|task| !self.avoided.contains_key(*task));
            for task_id in open.cloned().collect::<Vec<_>>() {
                if let Some(taken) = streams::take_abandoned(
                    &self.redis,
                    &self.options.name,
                    &task_id,
                    self.options.claim_idle,
                )
                .await?
                {
                    info!(worker = %self.options.name, task_id = %task_id, page = %taken.job.header.page_id, deliveries = taken.deliveries, "claimed a page abandoned by another worker");
                    return self.work(taken, stop).await;
                }
            }
        }

        // New jobs: every batch in turn without waiting, then a wait on
        // one of them. A stop does not wait for that read to time out; a job
        // the server hands out just then stays pending and is claimed later.
        let now = Instant::now();
        self.avoided.retain(|_, until| *until > now);
        let open: Vec<String> =
            self.tasks.iter().filter(|task| !self.avoided.contains_key(*task)).cloned().collect();
        if open.is_empty() {
            tokio::select! {
                _ = stop.after_page.cancelled() => {}
                _ = stop.now.cancelled() => {}
                _ = tokio::time::sleep(BLOCK) => {}
            }
            return Ok(());
        }
        let start = self.cursor % open.len();
        self.cursor = self.cursor.wrapping_add(1);
        let turns = (0..open.len()).map(|k| (&open[(start + k) % open.len()], Duration::ZERO));
        let last = (&open[start], BLOCK);
        for (task_id, wait) in turns.chain(std::iter::once(last)) {
            let take = streams::take_new(&self.redis, blocking, &self.options.name, task_id, wait);
            let taken = tokio::select! {
                taken = take => taken,
                _ = stop.after_page.cancelled() => return Ok(()),
                _ = stop.now.cancelled() => return Ok(()),
            };
            match taken {
                Ok(Some(taken)) => return self.work(taken, stop).await,
                Ok(None) => {}
                Err(error) if error.kind() == crate::ErrorKind::TaskNotFound => {
                    // Its batch ended, or Redis lost the stream: look again
                    // at which batches are active, and make their groups again.
                    debug!(worker = %self.options.name, task_id = %task_id, "a batch's queue is gone; looking again");
                    self.tasks.clear();
                    self.next_refresh = Instant::now();
                    return Ok(());
                }
                Err(error) if error.kind() == crate::ErrorKind::RedisCommand => {
                    warn!(worker = %self.options.name, task_id = %task_id, error = %error, "leaving a batch whose queue cannot be read for a minute");
                    self.avoided.insert(task_id.clone(), Instant::now() + AVOID_FOR);
                }
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    async fn refresh_tasks(&mut self) -> Result<()> {
        self.next_refresh = Instant::now() + TASKS_REFRESH;
        let mut connection = self.redis.connection();
        let mut active: Vec<String> = match &self.options.only_task {
            Some(task_id) => vec![task_id.clone()],
            None => {
                self.redis
                    .call(redis::AsyncCommands::smembers(&mut connection, keys::ACTIVE_TASKS))
                    .await?
            }
        };
        active.sort();
        let mut ready = Vec::with_capacity(active.len());
        for task_id in active {
            if self.options.only_task.is_some() {
                // The owner's own pool: the owner makes the stream.
                streams::prepare(&self.redis, &task_id).await?;
                ready.push(task_id);
                continue;
            }
            let exists: bool = self
                .redis
                .call(redis::AsyncCommands::exists(&mut connection, keys::jobs(&task_id)))
                .await?;
            if !exists || self.avoided.contains_key(&task_id) {
                continue;
            }
            if !self.tasks.contains(&task_id) {
                match streams::join(&self.redis, &task_id).await {
                    Ok(()) => {}
                    Err(error) if error.kind() == crate::ErrorKind::RedisCommand => {
                        warn!(worker = %self.options.name, task_id = %task_id, error = %error, "leaving a batch whose queue cannot be read for a minute");
                        self.avoided.insert(task_id, Instant::now() + AVOID_FOR);
                        continue;
                    }
                    Err(error) => return Err(error),
                }
            }
            ready.push(task_id);
        }
        if ready != self.tasks {
            debug!(worker = %self.options.name, tasks = ?ready, "active batches changed");
        }
        self.tasks = ready;
        Ok(())
    }

    /// Recognises one taken job, renewing the claim meanwhile, and answers.
    async fn work(&mut self, taken: TakenJob, stop: &StopSignals) -> Result<()> {
        let header = &taken.job.header;
        if let Err(error) = self.engine.check_language(&header.language) {
            // Another computer may have the language: give the page back.
            warn!(worker = %self.options.name, task_id = %header.task_id, language = %header.language, error = %error, "this worker cannot serve the batch; leaving its pages to others");
            self.avoided.insert(header.task_id.clone(), Instant::now() + AVOID_FOR);
            return streams::hand_back(&self.redis, &taken).await;
        }
        let result = if taken.deliveries > u64::from(self.options.max_attempts) {
            PageResult {
                task_id: header.task_id.clone(),
                page_id: header.page_id.clone(),
                attempt: header.attempt,
                worker: self.options.name.clone(),
                outcome: PageOutcome::Failed {
                    kind: kdesk_ocr::ErrorKind::EngineFailed,
                    permanent: true,
                    reason: format!(
                        "page '{}' was taken {} times by workers that stopped before finishing it; \
                         check the workers' logs, then retry the page",
                        header.file_name, taken.deliveries - 1
                    ),
                },
            }
        } else {
            let recognition = recognise_job(&self.engine, &taken.job, &self.options.name);
            tokio::pin!(recognition);
            let mut renewal = tokio::time::interval(self.options.claim_idle / 3);
            renewal.tick().await;
            loop {
                tokio::select! {
                    result = &mut recognition => break result,
                    _ = renewal.tick() => {
                        if let Err(error) = streams::renew(&self.redis, &self.options.name, &taken).await {
                            debug!(worker = %self.options.name, error = %error, "could not renew a claim");
                        }
                    }
                    _ = stop.now.cancelled() => {
                        info!(worker = %self.options.name, page = %header.page_id, "handing a page back");
                        return streams::hand_back(&self.redis, &taken).await;
                    }
                }
            }
        };

        // The result must reach Redis: retry through short outages. If it
        // never does, the job stays pending and another worker redoes it.
        let mut delay = Duration::from_millis(200);
        for _ in 0..12 {
            match streams::complete(&self.redis, &taken, &result).await {
                Ok(()) => return Ok(()),
                Err(error) => {
                    debug!(worker = %self.options.name, error = %error, "retrying to send a result");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
        warn!(worker = %self.options.name, page = %header.page_id, "could not send a result; the page will be redone");
        Ok(())
    }
}
