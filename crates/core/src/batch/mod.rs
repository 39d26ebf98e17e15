//! Running one batch: the owner's loop that hands pages to workers, takes
//! their results, writes them into the project and keeps everyone told.
//!
//! The owner is the only writer of a batch's outputs, counters and end
//! state; workers only recognise. Jobs go through Redis while it answers
//! and through an in-process queue when it does not; the loop switches to
//! the local queue at the first Redis failure, keeps trying to reach Redis,
//! and publishes its state again when Redis is back. Rules: a page's output
//! is written before it is counted, a page is counted once, and the batch
//! ends only when no page is queued or running.

pub mod plan;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use kdesk_library::{Page, Project};
use kdesk_ocr::{write_output, OutputMeta, Tesseract};

use crate::error::Result;
use crate::local_record::{LocalRecord, PageEntry};
use crate::owner::Owner;
use crate::queue::local::LocalQueue;
use crate::queue::streams::{self, ResultReader};
use crate::queue::{JobHeader, PageJob, PageOutcome, PageResult};
use crate::tracking::{
    FailedPage, KeptAlive, Outcome, Redis, Source, TaskRecord, TaskSnapshot, TaskState, TaskStatus,
    Tracker,
};
use crate::worker::{run_worker, StopSignals, WorkerOptions};

pub use plan::{Plan, SkippedPage};

/// How long the loop waits for results before looking around again.
const TICK: Duration = Duration::from_millis(200);

/// How often the owner's lease and the record's expiry are renewed.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// How often cancel requests are looked for.
const CANCEL_CHECK: Duration = Duration::from_secs(1);

/// How long a cancelled batch waits for the pages being recognised.
const CANCEL_GRACE: Duration = Duration::from_secs(60);

/// How often an unreachable Redis is tried again, at most.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(15);

/// Settings of one batch.
#[derive(Clone, Debug)]
pub struct BatchOptions {
    pub engine: String,
    pub language: String,
    /// Workers of this process. Zero leaves the pages to `kdesk worker`
    /// processes; while Redis is unreachable one local worker runs anyway.
    pub jobs: usize,
    /// Recognise pages that already have output from the same engine and language.
    pub force: bool,
    /// A page that fails this many times (for reasons a retry may cure) is failed for good.
    pub max_attempts: u32,
    /// Jobs out at once; bounds the page images held in Redis.
    pub window: usize,
    /// Only these pages (a retry of failed pages); `None` for all.
    pub only_pages: Option<Vec<String>>,
}

/// A batch that has been claimed and planned, ready to run.
pub struct Batch {
    pub(crate) project: Project,
    pub(crate) record: TaskRecord,
    pub(crate) snapshot: TaskSnapshot,
    pub(crate) plan: Plan,
    pub(crate) options: BatchOptions,
    pub(crate) engine: Tesseract,
    pub(crate) tracker: Tracker,
    pub(crate) local: Arc<LocalRecord>,
    pub(crate) owner: Owner,
    /// Whether Redis answered when the batch was claimed.
    pub(crate) redis_live: bool,
    pub(crate) resumed: bool,
    /// Page ids already failed for good in an earlier run of this task.
    pub(crate) failed_before: HashSet<String>,
}

impl Batch {
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn record(&self) -> &TaskRecord {
        &self.record
    }

    pub fn task_id(&self) -> &str {
        &self.record.task_id
    }

    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Whether this run continues a task that an earlier process began.
    pub fn is_resumed(&self) -> bool {
        self.resumed
    }

    /// Whether Redis answered when the batch started.
    pub fn tracked_in_redis(&self) -> bool {
        self.redis_live
    }

    pub fn status(&self) -> TaskStatus {
        self.snapshot.status(0, self.source(), Utc::now())
    }

    fn source(&self) -> Source {
        if self.redis_live {
            Source::Redis
        } else {
            Source::LocalRecord
        }
    }

    /// Runs the batch to its end (or until `stop`), sending each change of
    /// its status to `progress`.
    pub async fn run(
        self,
        progress: watch::Sender<TaskStatus>,
        stop: CancellationToken,
    ) -> Result<TaskStatus> {
        let mut run = Run::new(self, progress, stop)?;
        run.drive().await
    }
}

/// How jobs travel in the current stretch of a run.
enum Transport {
    Redis { reader: ResultReader, workers: Vec<tokio::task::JoinHandle<()>>, stop: StopSignals },
    Local(LocalQueue),
}

struct Run {
    batch: Batch,
    progress: watch::Sender<TaskStatus>,
    stop: CancellationToken,
    transport: Transport,
    /// Pages not yet handed out, in page order (retries go to the front).
    pending: VecDeque<(Page, u32)>,
    /// Pages handed out and not yet answered, with the attempt.
    in_flight: HashMap<String, (Page, u32)>,
    /// Pages done or failed for good: a later answer for them is ignored.
    finished: HashSet<String>,
    /// Pages handed to the in-process queue (this one or `draining`).
    local_pages: HashSet<String>,
    /// The in-process queue of an outage that is over: it finishes the
    /// pages it holds while new pages go through Redis again.
    draining: Option<LocalQueue>,
    /// Whether Redis is being waited for, and when to try it next.
    redis_down_since: Option<Instant>,
    next_reconnect: Instant,
    reconnect_delay: Duration,
    next_heartbeat: Instant,
    next_cancel_check: Instant,
    dirty: bool,
    cancelling: bool,
    /// When a cancelled batch stops waiting for pages still out.
    cancel_deadline: Option<Instant>,
    /// Another owner took the batch over: this one stops and tells nobody.
    superseded: bool,
}

impl Run {
    fn new(
        batch: Batch,
        progress: watch::Sender<TaskStatus>,
        stop: CancellationToken,
    ) -> Result<Run> {
        let mut pages: Vec<Page> = batch
            .plan
            .to_run
            .iter()
            .filter(|p| !batch.failed_before.contains(&p.id))
            .cloned()
            .collect();
        largest_first(&mut pages);
        let pending: VecDeque<(Page, u32)> = pages.into_iter().map(|p| (p, 1)).collect();
        let mut finished: HashSet<String> = batch.plan.already_done.iter().cloned().collect();
        finished.extend(batch.failed_before.iter().cloned());
        let transport = if batch.redis_live {
            Run::redis_transport(&batch)?
        } else {
            Transport::Local(LocalQueue::start(
                batch.engine.clone(),
                batch.options.jobs,
                &batch.owner.to_string(),
            ))
        };
        let redis_down_since = (!batch.redis_live).then(Instant::now);
        Ok(Run {
            batch,
            progress,
            stop,
            transport,
            pending,
            in_flight: HashMap::new(),
            finished,
            local_pages: HashSet::new(),
            draining: None,
            redis_down_since,
            next_reconnect: Instant::now() + Duration::from_secs(1),
            reconnect_delay: Duration::from_secs(1),
            next_heartbeat: Instant::now() + HEARTBEAT,
            next_cancel_check: Instant::now(),
            dirty: true,
            cancelling: false,
            cancel_deadline: None,
            superseded: false,
        })
    }

    fn redis_transport(batch: &Batch) -> Result<Transport> {
        let redis = batch.tracker.redis();
        let reader = ResultReader::new(redis, &batch.record.task_id, TICK)?;
        let stop = StopSignals::default();
        let workers = (0..batch.options.jobs)
            .map(|index| {
                let options = WorkerOptions {
                    name: format!("{}/{index}", batch.owner),
                    max_attempts: batch.options.max_attempts,
                    only_task: Some(batch.record.task_id.clone()),
                    claim_idle: streams::CLAIM_IDLE,
                };
                tokio::spawn(run_worker(redis.clone(), batch.engine.clone(), options, stop.clone()))
            })
            .collect();
        Ok(Transport::Redis { reader, workers, stop })
    }

    fn redis(&self) -> &Redis {
        self.batch.tracker.redis()
    }

    async fn drive(&mut self) -> Result<TaskStatus> {
        info!(
            task_id = %self.batch.record.task_id,
            slug = %self.batch.record.project_slug,
            pages = self.pending.len(),
            resumed = self.batch.resumed,
            "batch running"
        );
        if let Transport::Redis { .. } = self.transport {
            if let Err(error) = self.adopt_queue().await {
                self.degrade(&error);
            }
        }
        self.publish().await;

        loop {
            // Step 1: answers first, so a page answered before a restart is
            // not handed out again.
            let results = self.receive().await;
            let mut written = Vec::with_capacity(results.len());
            for (entry, result) in results {
                self.handle(result);
                written.extend(entry);
            }
            if let (false, Transport::Redis { reader, .. }) =
                (written.is_empty(), &mut self.transport)
            {
                let redis = self.batch.tracker.redis().clone();
                if let Err(error) = reader.remove(&redis, &written).await {
                    debug!(error = %error, "could not remove results already written");
                }
            }

            // Step 2: stop handing out pages if asked to.
            if !self.cancelling && (self.stop.is_cancelled() || self.cancel_asked().await) {
                self.begin_cancel().await;
            }

            // Step 3: hand out pages up to the window.
            if let Err(error) = self.dispatch().await {
                self.degrade(&error);
            }

            // Step 4: keep Redis told, or try to reach it again.
            self.upkeep().await;

            // A cancelled batch ends when the pages being recognised are
            // in, or when they have had time enough (their worker may be dead).
            if self.in_flight.is_empty() && (self.pending.is_empty() || self.cancelling) {
                break;
            }
            if self.superseded {
                self.stop_workers().await;
                return Err(crate::Error::new(
                    crate::ErrorKind::BatchRunning,
                    format!(
                        "batch {} was taken over by another process while this one was not \
                         answering; that process finishes it",
                        self.batch.record.task_id
                    ),
                ));
            }
            if self.cancel_deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                warn!(task_id = %self.batch.record.task_id, pages = self.in_flight.len(), "cancelled without waiting longer for pages still out");
                break;
            }
        }
        self.finish().await
    }

    /// After a take-over: pages whose jobs are still queued in Redis are in
    /// flight already and must not be handed out twice.
    async fn adopt_queue(&mut self) -> Result<()> {
        streams::prepare(self.redis(), &self.batch.record.task_id).await?;
        if !self.batch.resumed {
            return Ok(());
        }
        let released =
            streams::release_dead_local_workers(self.redis(), &self.batch.record.task_id).await?;
        if released > 0 {
            info!(task_id = %self.batch.record.task_id, released, "pages held by the previous owner's workers are queued again");
        }
        let queued = streams::queued_pages(self.redis(), &self.batch.record.task_id).await?;
        let mut kept = VecDeque::with_capacity(self.pending.len());
        for (page, attempt) in self.pending.drain(..) {
            if queued.contains(&page.id) {
                self.in_flight.insert(page.id.clone(), (page, attempt));
            } else {
                kept.push_back((page, attempt));
            }
        }
        self.pending = kept;
        if !self.in_flight.is_empty() {
            info!(task_id = %self.batch.record.task_id, pages = self.in_flight.len(), "pages still queued in redis are kept");
        }
        Ok(())
    }

    async fn receive(&mut self) -> Vec<(Option<String>, PageResult)> {
        let mut drained = Vec::new();
        if let Some(queue) = &mut self.draining {
            while let Some(result) = queue.next_result(Duration::ZERO).await {
                drained.push((None, result));
            }
            let still_held = self.local_pages.iter().any(|page| {
                !drained
                    .iter()
                    .any(|(_, result): &(Option<String>, PageResult)| result.page_id == *page)
            });
            if !still_held {
                self.draining = None;
            }
        }
        let mut results = self.receive_from_transport().await;
        results.extend(drained);
        results
    }

    async fn receive_from_transport(&mut self) -> Vec<(Option<String>, PageResult)> {
        // With pages to hand out and none out, there is nothing to wait for.
        let idle = self.in_flight.is_empty() && !self.pending.is_empty();
        let wait = if idle { Duration::ZERO } else { TICK };
        match &mut self.transport {
            Transport::Local(queue) => {
                let mut results = Vec::new();
                if let Some(first) = queue.next_result(wait).await {
                    results.push((None, first));
                    while let Some(more) = queue.next_result(Duration::ZERO).await {
                        results.push((None, more));
                    }
                }
                results
            }
            Transport::Redis { reader, .. } => {
                let redis = self.batch.tracker.redis().clone();
                match reader.next(&redis, wait).await {
                    Ok(results) => {
                        results.into_iter().map(|(id, result)| (Some(id), result)).collect()
                    }
                    Err(error) => {
                        self.degrade(&error);
                        Vec::new()
                    }
                }
            }
        }
    }

    fn handle(&mut self, result: PageResult) {
        let page_id = result.page_id.clone();
        self.local_pages.remove(&page_id);
        if result.task_id != self.batch.record.task_id || self.finished.contains(&page_id) {
            debug!(page = %page_id, "ignoring an answer for a page already counted");
            return;
        }
        let page = match self.in_flight.remove(&page_id) {
            Some((page, _)) => page,
            None => match self.pending.iter().position(|(page, _)| page.id == page_id) {
                Some(index) => {
                    self.pending.remove(index).map(|(page, _)| page).expect("index is in range")
                }
                None => {
                    debug!(page = %page_id, "ignoring an answer for a page not in this batch");
                    return;
                }
            },
        };
        self.dirty = true;
        let snapshot = &mut self.batch.snapshot;
        match result.outcome {
            PageOutcome::Recognised(recognition) => {
                let meta = OutputMeta {
                    page_id: page_id.clone(),
                    engine: self.batch.options.engine.clone(),
                    engine_version: self.batch.engine.version().to_string(),
                    language: self.batch.options.language.clone(),
                    mean_confidence: recognition.mean_confidence,
                    words: recognition.words,
                    seconds: recognition.seconds,
                    finished_at: Utc::now(),
                    task_id: self.batch.record.task_id.clone(),
                };
                if let Err(error) =
                    write_output(&self.batch.project.output_dir(), &recognition, &meta)
                {
                    let reason =
                        format!("the text of page '{page_id}' could not be saved: {error}");
                    self.fail_for_good(&page, reason, result.attempt);
                    return;
                }
                snapshot.done += 1;
                snapshot.run_finished_pages += 1;
                snapshot.run_page_seconds += recognition.seconds;
                self.finished.insert(page_id.clone());
                let entry = PageEntry {
                    page_id: page_id.clone(),
                    state: "done".to_string(),
                    reason: None,
                    attempts: result.attempt,
                    seconds: Some(recognition.seconds),
                    confidence: recognition.mean_confidence,
                };
                self.save_page(&entry);
                debug!(task_id = %self.batch.record.task_id, page = %page_id, seconds = recognition.seconds, worker = %result.worker, "page done");
            }
            PageOutcome::Failed { permanent, reason, .. } => {
                if !permanent
                    && result.attempt < self.batch.options.max_attempts
                    && !self.cancelling
                {
                    warn!(task_id = %self.batch.record.task_id, page = %page_id, attempt = result.attempt, %reason, "page failed; trying again");
                    self.pending.push_front((page, result.attempt + 1));
                    return;
                }
                self.fail_for_good(&page, reason, result.attempt);
            }
        }
    }

    fn fail_for_good(&mut self, page: &Page, reason: String, attempts: u32) {
        warn!(task_id = %self.batch.record.task_id, page = %page.id, %reason, "page failed");
        let snapshot = &mut self.batch.snapshot;
        snapshot.failed += 1;
        snapshot.run_finished_pages += 1;
        snapshot.failed_pages.push(FailedPage {
            page_id: page.id.clone(),
            reason: reason.clone(),
            attempts,
        });
        self.finished.insert(page.id.clone());
        let entry = PageEntry {
            page_id: page.id.clone(),
            state: "failed".to_string(),
            reason: Some(reason),
            attempts,
            seconds: None,
            confidence: None,
        };
        self.save_page(&entry);
        self.dirty = true;
    }

    fn save_page(&self, entry: &PageEntry) {
        if let Err(error) = self.batch.local.save_page(&self.batch.record.task_id, entry) {
            warn!(error = %error, page = %entry.page_id, "could not write the local record");
        }
    }

    fn window(&self) -> usize {
        match self.transport {
            // One page waiting per worker keeps every worker busy.
            Transport::Local(_) => self.batch.options.jobs.max(1) * 2,
            Transport::Redis { .. } => self.batch.options.window.max(1),
        }
    }

    async fn dispatch(&mut self) -> Result<()> {
        while !self.cancelling && self.in_flight.len() < self.window() {
            let Some((page, attempt)) = self.pending.pop_front() else {
                break;
            };
            // A page too large to be a scan is failed before it is read
            // into memory or sent anywhere.
            let limit = kdesk_ocr::ImageLimits::default().max_bytes;
            if let Ok(metadata) = tokio::fs::metadata(&page.path).await {
                if metadata.len() > limit {
                    let reason = format!(
                        "page '{}' is {} MB, more than the {} MB a page may have; scan it at a \
                         lower resolution or save it compressed",
                        page.path.display(),
                        metadata.len() / 1_000_000,
                        limit / 1_000_000
                    );
                    self.fail_for_good(&page, reason, attempt);
                    continue;
                }
            }
            let image = match tokio::fs::read(&page.path).await {
                Ok(image) => image,
                Err(error) => {
                    let reason = format!(
                        "page '{}' could not be read: {error}; check that the file exists and is readable",
                        page.path.display()
                    );
                    self.fail_for_good(&page, reason, attempt);
                    continue;
                }
            };
            let job = self.job(&page, attempt, image);
            match &self.transport {
                Transport::Local(queue) => {
                    self.local_pages.insert(page.id.clone());
                    queue.push(job);
                }
                Transport::Redis { .. } => {
                    if let Err(error) = streams::push(self.redis(), &job).await {
                        self.pending.push_front((page, attempt));
                        return Err(error);
                    }
                }
            }
            self.in_flight.insert(page.id.clone(), (page, attempt));
            self.dirty = true;
        }
        Ok(())
    }

    fn job(&self, page: &Page, attempt: u32, image: Vec<u8>) -> PageJob {
        let file_name =
            page.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        PageJob {
            header: JobHeader {
                task_id: self.batch.record.task_id.clone(),
                page_id: page.id.clone(),
                file_name,
                frame: page.frame,
                engine: self.batch.options.engine.clone(),
                language: self.batch.options.language.clone(),
                attempt,
            },
            image,
        }
    }

    /// Switches to the in-process queue after a Redis failure. Pages out on
    /// the Redis queue are handed to the local workers; if a remote worker
    /// answers for one of them later, that answer is ignored.
    fn degrade(&mut self, error: &crate::Error) {
        if self.redis_down_since.is_none() {
            warn!(task_id = %self.batch.record.task_id, error = %error, "redis unreachable: progress is tracked on this computer only; retrying in the background");
            self.redis_down_since = Some(Instant::now());
            // A server that answers but refuses (out of memory, say) would
            // answer a ping at once: wait longer before going back to it.
            self.reconnect_delay = if error.kind() == crate::ErrorKind::RedisCommand {
                MAX_RECONNECT_DELAY
            } else {
                Duration::from_secs(1)
            };
            self.next_reconnect = Instant::now() + self.reconnect_delay;
        }
        if let Transport::Redis { stop, workers, .. } = &mut self.transport {
            stop.now.cancel();
            for worker in workers.drain(..) {
                worker.abort();
            }
            let local = self.draining.take().unwrap_or_else(|| {
                LocalQueue::start(
                    self.batch.engine.clone(),
                    self.batch.options.jobs,
                    &self.batch.owner.to_string(),
                )
            });
            self.transport = Transport::Local(local);
            let on_redis: Vec<String> = self
                .in_flight
                .keys()
                .filter(|page| !self.local_pages.contains(*page))
                .cloned()
                .collect();
            let mut taken: Vec<(Page, u32)> =
                on_redis.iter().filter_map(|page| self.in_flight.remove(page)).collect();
            taken.sort_by(|a, b| b.0.id.cmp(&a.0.id));
            for entry in taken {
                self.pending.push_front(entry);
            }
            self.batch.redis_live = false;
            self.dirty = true;
        }
    }

    /// Redis answers again: new pages go through it, so that other
    /// computers' workers can help; the local queue finishes what it holds.
    async fn recover(&mut self, now: Instant) {
        let transport = match streams::prepare(self.redis(), &self.batch.record.task_id).await {
            Ok(()) => Run::redis_transport(&self.batch),
            Err(error) => Err(error),
        };
        let transport = match transport {
            Ok(transport) => transport,
            Err(error) => {
                debug!(error = %error, "redis answered but the queue could not be prepared");
                self.next_reconnect = now + self.reconnect_delay;
                return;
            }
        };
        info!(task_id = %self.batch.record.task_id, "redis is reachable again; publishing the batch's state and queueing pages there");
        if let Transport::Local(local) = std::mem::replace(&mut self.transport, transport) {
            self.draining = Some(local);
        }
        self.redis_down_since = None;
        self.batch.redis_live = true;
        self.dirty = true;
        self.next_heartbeat = now;
    }

    async fn upkeep(&mut self) {
        let now = Instant::now();
        let draining = self.draining.as_ref().map(LocalQueue::running).unwrap_or(0);
        self.batch.snapshot.running_locally = draining
            + match &self.transport {
                Transport::Local(queue) => queue.running(),
                Transport::Redis { .. } => 0,
            };
        if let Some(_since) = self.redis_down_since {
            if now >= self.next_reconnect {
                // The first call after an outage returns the connection's
                // old error: a second one tells whether Redis is back.
                let answered = match self.redis().ping().await {
                    Ok(()) => Ok(()),
                    Err(_) => self.redis().ping().await,
                };
                match answered {
                    Ok(()) => self.recover(now).await,
                    Err(_) => {
                        self.reconnect_delay = (self.reconnect_delay * 2).min(MAX_RECONNECT_DELAY);
                        self.next_reconnect = now + self.reconnect_delay;
                    }
                }
            }
        }
        if self.dirty {
            self.publish().await;
        }
        if now >= self.next_heartbeat && self.redis_down_since.is_none() {
            self.next_heartbeat = now + HEARTBEAT;
            let kept = self.batch.tracker.keep_alive(&self.batch.record, &self.batch.owner).await;
            match kept {
                Ok(KeptAlive::Kept) => {}
                Ok(KeptAlive::RecordTaken) => {
                    warn!(task_id = %self.batch.record.task_id, "another batch's record stands under this project's key; ours is not written over")
                }
                Ok(KeptAlive::LeaseLost) => {
                    warn!(task_id = %self.batch.record.task_id, "another process took this batch over while this one was not answering; stopping");
                    self.superseded = true;
                }
                Err(error) => self.degrade(&error),
            }
        }
    }

    /// Saves the snapshot locally, then (if Redis answers) publishes it.
    async fn publish(&mut self) {
        self.dirty = false;
        if let Err(error) = self.batch.local.save(&self.batch.record, &self.batch.snapshot) {
            warn!(error = %error, "could not write the local record");
        }
        if self.redis_down_since.is_none() {
            // What everyone else sees, with the pages workers really hold.
            let published = match self.batch.tracker.publish(&self.batch.snapshot).await {
                Ok(()) => self.batch.tracker.status(&self.batch.record.task_id).await,
                Err(error) => Err(error),
            };
            match published {
                Ok(Some(status)) => {
                    self.progress.send_replace(status);
                    return;
                }
                Ok(None) => {}
                Err(error) => self.degrade(&error),
            }
        }
        let status = self.batch.snapshot.status(0, self.source(), Utc::now());
        self.progress.send_replace(status);
    }

    fn source(&self) -> Source {
        if self.redis_down_since.is_none() {
            Source::Redis
        } else {
            Source::LocalRecord
        }
    }

    /// Whether someone asked to cancel (`kdesk cancel`, the app); looked
    /// at about once a second.
    async fn cancel_asked(&mut self) -> bool {
        let now = Instant::now();
        if now < self.next_cancel_check {
            return false;
        }
        self.next_cancel_check = now + CANCEL_CHECK;
        let local = self.batch.local.cancel_requested(&self.batch.record.task_id).unwrap_or(false);
        if local {
            return true;
        }
        if self.redis_down_since.is_some() {
            return false;
        }
        self.batch.tracker.cancel_requested(&self.batch.record.task_id).await.unwrap_or(false)
    }

    async fn begin_cancel(&mut self) {
        info!(task_id = %self.batch.record.task_id, "cancelling: no more pages are handed out; pages being recognised finish");
        self.cancelling = true;
        self.cancel_deadline = Some(Instant::now() + CANCEL_GRACE);
        self.pending.clear();
        if let Transport::Redis { .. } = self.transport {
            let redis = self.redis().clone();
            if streams::drop_untaken(&redis, &self.batch.record.task_id).await.is_ok() {
                if let Ok(still_queued) =
                    streams::queued_pages(&redis, &self.batch.record.task_id).await
                {
                    self.in_flight.retain(|page_id, _| still_queued.contains(page_id));
                }
            }
        }
        self.dirty = true;
    }

    /// Stops this process's workers on the Redis queue and the local queues.
    async fn stop_workers(&mut self) {
        if let Transport::Redis { stop, workers, .. } = &mut self.transport {
            stop.now.cancel();
            for worker in workers.drain(..) {
                let _ = worker.await;
            }
        }
        self.draining = None;
    }

    async fn finish(&mut self) -> Result<TaskStatus> {
        let cancelled = self.cancelling;
        let snapshot = &mut self.batch.snapshot;
        let outcome =
            Outcome::from_counts(snapshot.done + snapshot.skipped, snapshot.failed, cancelled);
        snapshot.outcome = Some(outcome);
        snapshot.state = outcome.state();
        snapshot.finished_at = Some(Utc::now());
        snapshot.running_locally = 0;
        self.stop_workers().await;
        self.batch.local.save(&self.batch.record, &self.batch.snapshot)?;

        // Redis is told last; if it cannot be told now, the next run of
        // `kdesk` on this computer tells it from the local record.
        let mut told = false;
        for attempt in 0..3 {
            match self.batch.tracker.finish(&self.batch.record, &self.batch.snapshot).await {
                Ok(()) => {
                    told = true;
                    break;
                }
                Err(error) => {
                    debug!(attempt, error = %error, "could not record the end of the batch in redis");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        if !told {
            warn!(task_id = %self.batch.record.task_id, "redis unreachable at the end of the batch; its end is kept in the local record and published later");
        }
        let source = if told { Source::Redis } else { Source::LocalRecord };
        let status = self.batch.snapshot.status(0, source, Utc::now());
        info!(task_id = %self.batch.record.task_id, outcome = outcome.as_str(), done = status.done, failed = status.failed, skipped = status.skipped, "batch ended");
        self.progress.send_replace(status.clone());
        Ok(status)
    }
}

/// Orders pages so that the biggest are recognised first: with a few
/// workers, a big page started last would keep one busy while the others
/// idle at the end of the batch. Size is the pixel count from the image's
/// header (the file size when the header cannot be read); equal sizes keep
/// page order.
fn largest_first(pages: &mut [Page]) {
    let mut sized: Vec<(u64, usize)> = pages
        .iter()
        .enumerate()
        .map(|(index, page)| {
            let pixels = imagesize::size(&page.path)
                .map(|size| size.width as u64 * size.height as u64)
                .or_else(|_| std::fs::metadata(&page.path).map(|m| m.len()))
                .unwrap_or(0);
            (pixels, index)
        })
        .collect();
    sized.sort_by_key(|&(pixels, index)| (std::cmp::Reverse(pixels), index));
    let ordered: Vec<Page> = sized.iter().map(|&(_, index)| pages[index].clone()).collect();
    pages.clone_from_slice(&ordered);
}

/// A fresh snapshot for a batch about to start.
pub(crate) fn new_snapshot(
    record: &TaskRecord,
    plan: &Plan,
    owner: &Owner,
    force: bool,
) -> TaskSnapshot {
    TaskSnapshot {
        task_id: record.task_id.clone(),
        project_slug: record.project_slug.clone(),
        engine: record.engine.clone(),
        language: record.language.clone(),
        started_at: record.started_at.clone(),
        state: TaskState::Progress,
        outcome: None,
        total: plan.total,
        done: plan.already_done.len() as u64,
        failed: 0,
        skipped: plan.skipped.len() as u64,
        running_locally: 0,
        run_started_at: Utc::now(),
        run_finished_pages: 0,
        run_page_seconds: 0.0,
        failed_pages: Vec::new(),
        finished_at: None,
        owner: owner.to_string(),
        force,
    }
}
