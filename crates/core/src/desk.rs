//! The front door of the core: a library, its local record and a Redis
//! server, and the operations the command line and the app offer on them.
//!
//! Every operation works with Redis unreachable, from the local record,
//! and says so in the status it returns. Rule: callers hold one [`Desk`]
//! per library and Redis URL; it is cheap to share behind an `Arc`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::OnceCell;
use tracing::{info, warn};

use kdesk_library::{Library, Slug};
use kdesk_ocr::Tesseract;

use crate::batch::{new_snapshot, Batch, BatchOptions, Plan};
use crate::error::{Error, ErrorKind, Result};
use crate::local_record::LocalRecord;
use crate::owner::Owner;
use crate::tracking::{
    keys, Claim, Outcome, Redis, RedisTarget, Source, TaskRecord, TaskSnapshot, TaskStatus, Tracker,
};

/// Where a desk finds its library and Redis.
#[derive(Clone, Debug)]
pub struct DeskConfig {
    pub library: PathBuf,
    pub redis: RedisTarget,
    /// A page that takes longer than this is stopped and failed.
    pub page_timeout: Duration,
}

/// What the editor asks of a batch; what is left out comes from the
/// project's metadata and the defaults.
#[derive(Clone, Debug)]
pub struct BatchRequest {
    pub engine: Option<String>,
    pub language: Option<String>,
    pub jobs: usize,
    pub force: bool,
    pub max_attempts: u32,
    /// Jobs out at once on the Redis queue; default four per local worker.
    pub window: Option<usize>,
    pub only_pages: Option<Vec<String>>,
}

impl Default for BatchRequest {
    fn default() -> BatchRequest {
        BatchRequest {
            engine: None,
            language: None,
            jobs: default_jobs(),
            force: false,
            max_attempts: 3,
            window: None,
            only_pages: None,
        }
    }
}

/// One worker per core, as Tesseract runs single-threaded under us.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
}

pub struct Desk {
    library: Library,
    local: Arc<LocalRecord>,
    tracker: Tracker,
    owner: Owner,
    page_timeout: Duration,
    engine: OnceCell<Tesseract>,
}

impl Desk {
    pub fn open(config: DeskConfig) -> Result<Desk> {
        let library = Library::open(&config.library)?;
        let local = Arc::new(LocalRecord::open(library.root())?);
        let tracker = Tracker::new(Redis::new(config.redis)?);
        Ok(Desk {
            library,
            local,
            tracker,
            owner: Owner::this_process(),
            page_timeout: config.page_timeout,
            engine: OnceCell::new(),
        })
    }

    pub fn library(&self) -> &Library {
        &self.library
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    pub fn local_record(&self) -> &LocalRecord {
        &self.local
    }

    /// The OCR engine, found on first use.
    pub async fn engine(&self) -> Result<Tesseract> {
        let engine = self.engine.get_or_try_init(|| Tesseract::detect(self.page_timeout)).await?;
        Ok(engine.clone())
    }

    /// Whether Redis answers now.
    pub async fn redis_reachable(&self) -> Result<()> {
        self.tracker.redis().ping().await
    }

    /// What a batch would do, without starting it.
    pub async fn preview(&self, slug: &Slug, request: &BatchRequest) -> Result<Plan> {
        let project = self.library.project(slug)?;
        let options = self.options(&project, request).await?;
        Plan::make(
            &project,
            &options.engine,
            &options.language,
            request.force,
            None,
            request.only_pages.as_deref(),
        )
    }

    async fn options(
        &self,
        project: &kdesk_library::Project,
        request: &BatchRequest,
    ) -> Result<BatchOptions> {
        let engine = request.engine.clone().unwrap_or_else(|| project.metadata.engine.clone());
        if engine != "tesseract" {
            let message =
                format!("engine '{engine}' is not available; the engine here is 'tesseract'");
            return Err(Error::new(ErrorKind::InvalidInput, message));
        }
        let language =
            request.language.clone().unwrap_or_else(|| project.metadata.language.clone());
        self.engine().await?.check_language(&language)?;
        let jobs = request.jobs;
        Ok(BatchOptions {
            engine,
            language,
            jobs,
            force: request.force,
            max_attempts: request.max_attempts.max(1),
            window: request.window.unwrap_or(jobs.max(1) * 4).max(1),
            only_pages: request.only_pages.clone(),
        })
    }

    /// Claims a project for a new batch, or takes over this project's
    /// interrupted batch, and plans it. A batch running elsewhere is refused
    /// with [`ErrorKind::BatchRunning`].
    pub async fn start_batch(&self, slug: &Slug, request: &BatchRequest) -> Result<Batch> {
        let project = self.library.project(slug)?;
        if project.pages()?.is_empty() {
            let message = format!(
                "project '{slug}' has no page images in '{}' or its pages/ folder; add PNG, JPEG, \
                 TIFF or WebP scans, or import a PDF with `kdesk import book.pdf --slug {slug}`",
                project.root.display()
            );
            return Err(Error::new(ErrorKind::Library, message));
        }
        let options = self.options(&project, request).await?;

        // An interrupted batch of this project on this computer is resumed
        // under its own task id, unless its owner still runs, or the editor
        // now asks for other settings: then it is closed and a new one starts.
        let mut interrupted = self.local.unfinished(slug.as_str())?;
        if let Some((record, snapshot)) = &interrupted {
            if Owner::is_alive_reading(&snapshot.owner) && snapshot.owner != self.owner.to_string()
            {
                let status = snapshot.status(0, Source::LocalRecord, Utc::now());
                return Err(busy_error(&status));
            }
            if !continues(record, &options) {
                info!(task_id = %record.task_id, slug = %slug, "closing an interrupted batch: the new one has other settings");
                self.close_as_cancelled(record, snapshot.clone()).await?;
                interrupted = None;
            }
        }
        let fresh = TaskRecord::new(
            &format!("{}{}", keys::TASK_ID_PREFIX, uuid::Uuid::new_v4()),
            &options.engine,
            &options.language,
            slug.as_str(),
        );
        let wanted = interrupted.as_ref().map(|(record, _)| record.clone()).unwrap_or(fresh);

        // Claimed on this computer first: two starts at once here, with
        // Redis down, must not both win either.
        let force_before = interrupted.as_ref().is_some_and(|(_, snapshot)| snapshot.force);
        let placeholder = new_snapshot(&wanted, &Plan::empty(), &self.owner, force_before);
        if let Some(running) = self.local.claim(&wanted, &placeholder)? {
            return Err(busy_error(&running.status(0, Source::LocalRecord, Utc::now())));
        }

        let mut claimed = None;
        let mut took_over_force = false;
        for _attempt in 0..3 {
            match self.tracker.claim(&wanted, &self.owner).await {
                Ok(Claim::Started) => claimed = Some((wanted.clone(), true)),
                Ok(Claim::TookOver { record, snapshot }) => {
                    took_over_force = snapshot.as_ref().is_some_and(|s| s.force);
                    let local = self.local.batch(&record.task_id)?;
                    if let Some(local) = local.filter(|local| local.state.is_finished()) {
                        // It ended while Redis was unreachable: say so, then claim again.
                        self.tracker.finish(&record, &local).await?;
                        continue;
                    }
                    if !continues(&record, &options) {
                        let snapshot = snapshot.unwrap_or_else(|| {
                            new_snapshot(&record, &Plan::empty(), &self.owner, false)
                        });
                        self.close_as_cancelled(&record, snapshot).await?;
                        continue;
                    }
                    claimed = Some((record, true));
                }
                Ok(Claim::Busy(status)) => {
                    if interrupted.is_none() {
                        self.local.forget(&wanted.task_id)?;
                    }
                    return Err(busy_error(&status));
                }
                Err(error) if error.kind() == ErrorKind::RedisUnavailable => {
                    warn!(error = %error, "redis unreachable: progress is tracked on this computer only; retrying in the background");
                    claimed = Some((wanted.clone(), false));
                }
                Err(error) => {
                    if interrupted.is_none() {
                        self.local.forget(&wanted.task_id)?;
                    }
                    return Err(error);
                }
            }
            break;
        }
        let Some((record, redis_live)) = claimed else {
            let message = format!("could not claim '{slug}' in redis after three tries; try again");
            return Err(Error::new(ErrorKind::RedisCommand, message));
        };
        if record.task_id != wanted.task_id {
            self.local.forget(&wanted.task_id)?;
        }
        let resumed = interrupted.as_ref().is_some_and(|(r, _)| r.task_id == record.task_id)
            || record.task_id != wanted.task_id;
        if resumed {
            // A cancel that its dead owner never saw does not stop the new run.
            self.local.clear_cancel(&record.task_id)?;
            if redis_live {
                self.tracker.clear_cancel(&record.task_id).await?;
            }
        }
        let resumed_task = resumed.then_some(record.task_id.as_str());
        // A resumed `--force` batch goes on redoing pages.
        let force = options.force || (resumed && (force_before || took_over_force));
        let plan = Plan::make(
            &project,
            &record.engine,
            &record.language,
            force,
            resumed_task,
            options.only_pages.as_deref(),
        )?;

        let options = BatchOptions { force, ..options };
        let mut snapshot = new_snapshot(&record, &plan, &self.owner, force);
        let failed_before = if resumed {
            let pages = self.local.pages(&record.task_id)?;
            let failed: Vec<_> = pages.values().filter(|p| p.state == "failed").collect();
            for page in &failed {
                snapshot.failed += 1;
                snapshot.failed_pages.push(crate::tracking::FailedPage {
                    page_id: page.page_id.clone(),
                    reason: page.reason.clone().unwrap_or_default(),
                    attempts: page.attempts,
                });
            }
            failed.iter().map(|p| p.page_id.clone()).collect()
        } else {
            Default::default()
        };
        self.local.save(&record, &snapshot)?;
        Ok(Batch {
            project,
            record,
            snapshot,
            plan,
            options,
            engine: self.engine().await?,
            tracker: self.tracker.clone(),
            local: self.local.clone(),
            owner: self.owner.clone(),
            redis_live,
            resumed,
            failed_before,
        })
    }

    /// The batch of a project: from Redis, or from the local record when
    /// Redis is unreachable or has forgotten it. `None` when none runs.
    pub async fn status(&self, slug: &Slug) -> Result<Option<TaskStatus>> {
        match self.tracker.project_status(slug.as_str()).await {
            Ok(Some(status)) => Ok(Some(self.settle(status).await)),
            Ok(None) => {
                let local = self.local.unfinished(slug.as_str())?;
                Ok(local.map(|(_, snapshot)| snapshot.status(0, Source::LocalRecord, Utc::now())))
            }
            Err(error) if error.kind() == ErrorKind::RedisUnavailable => {
                let local = self.local.unfinished(slug.as_str())?;
                match local {
                    Some((_, snapshot)) => {
                        Ok(Some(snapshot.status(0, Source::LocalRecord, Utc::now())))
                    }
                    None => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// A batch by task id, running or finished within the last day.
    pub async fn task_status(&self, task_id: &str) -> Result<Option<TaskStatus>> {
        match self.tracker.status(task_id).await {
            Ok(Some(status)) => Ok(Some(self.settle(status).await)),
            Ok(None) | Err(_) => {
                let local = self.local.batch(task_id)?;
                Ok(local.map(|snapshot| snapshot.status(0, Source::LocalRecord, Utc::now())))
            }
        }
    }

    /// Every batch with a record in Redis, and this computer's unfinished
    /// batches that Redis does not know of. The error says why Redis was
    /// left out, when it was.
    pub async fn ongoing(&self) -> Result<(Vec<TaskStatus>, Option<Error>)> {
        let (mut statuses, redis_error) = match self.tracker.ongoing().await {
            Ok(statuses) => (statuses, None),
            Err(error) => (Vec::new(), Some(error)),
        };
        let mut settled = Vec::with_capacity(statuses.len());
        for status in statuses.drain(..) {
            let status = self.settle(status).await;
            if !status.state.is_finished() {
                settled.push(status);
            }
        }
        for snapshot in self.local.all_unfinished()? {
            if !settled.iter().any(|s| s.task_id == snapshot.task_id) {
                settled.push(snapshot.status(0, Source::LocalRecord, Utc::now()));
            }
        }
        settled.sort_by(|a, b| a.project_slug.cmp(&b.project_slug));
        Ok((settled, redis_error))
    }

    /// Finished batches of this library, newest first.
    pub fn history(&self, limit: usize) -> Result<Vec<TaskStatus>> {
        let snapshots = self.local.history(limit)?;
        Ok(snapshots.into_iter().map(|s| s.status(0, Source::LocalRecord, Utc::now())).collect())
    }

    /// When Redis shows one of our batches as running but this computer's
    /// record says it ended (it ended while Redis was down), Redis is told.
    async fn settle(&self, status: TaskStatus) -> TaskStatus {
        if status.source != Source::Redis || status.state.is_finished() {
            return status;
        }
        let Ok(Some(local)) = self.local.batch(&status.task_id) else {
            return status;
        };
        if !local.state.is_finished() {
            return status;
        }
        let record = local.record();
        match self.tracker.finish(&record, &local).await {
            Ok(()) => {
                info!(task_id = %local.task_id, "published the end of a batch that ended while redis was unreachable")
            }
            Err(error) => {
                warn!(task_id = %local.task_id, error = %error, "could not publish the end of a batch")
            }
        }
        local.status(0, Source::LocalRecord, Utc::now())
    }

    /// Stops the batch of a project. Its owner stops handing out pages and
    /// waits for those being recognised; a batch whose owner is gone is
    /// ended here and now.
    pub async fn cancel(&self, slug: &Slug) -> Result<TaskStatus> {
        let Some(status) = self.status(slug).await? else {
            let message =
                format!("no batch is running on '{slug}'; `kdesk status` lists the running ones");
            return Err(Error::new(ErrorKind::TaskNotFound, message));
        };
        if status.source == Source::Elsewhere {
            let message = format!(
                "the batch on '{slug}' (task {}) belongs to another application; cancel it there",
                status.task_id
            );
            return Err(Error::new(ErrorKind::InvalidInput, message));
        }
        self.local.request_cancel(&status.task_id)?;
        let redis_result = self.tracker.request_cancel(&status.task_id).await;
        let lease = self.owner_lease(&status.task_id).await;
        let owner_alive = match lease {
            Some(lease) => Owner::is_alive_reading(&lease),
            None => redis_result.is_err() && Owner::is_alive_reading(&status.owner),
        };
        if owner_alive {
            info!(task_id = %status.task_id, slug = %slug, "asked the batch's owner to cancel");
            return Ok(status);
        }
        // Nobody is left to act on the request: end the batch here.
        let snapshot = match self.tracker.snapshot(&status.task_id).await {
            Ok(Some(snapshot)) => snapshot,
            _ => match self.local.batch(&status.task_id)? {
                Some(snapshot) => snapshot,
                None => return Ok(status),
            },
        };
        let record = snapshot.record();
        info!(task_id = %record.task_id, slug = %slug, "cancelling a batch whose owner is gone");
        self.close_as_cancelled(&record, snapshot).await
    }

    /// Ends a batch that no process runs any more, as cancelled: locally,
    /// then in Redis if it answers.
    async fn close_as_cancelled(
        &self,
        record: &TaskRecord,
        mut snapshot: TaskSnapshot,
    ) -> Result<TaskStatus> {
        snapshot.state = Outcome::Cancelled.state();
        snapshot.outcome = Some(Outcome::Cancelled);
        snapshot.finished_at = Some(Utc::now());
        snapshot.running_locally = 0;
        self.local.save(record, &snapshot)?;
        if let Err(error) = self.tracker.finish(record, &snapshot).await {
            warn!(task_id = %record.task_id, error = %error, "the cancelled batch stays in redis until it is reachable");
        }
        Ok(snapshot.status(0, Source::LocalRecord, Utc::now()))
    }

    async fn owner_lease(&self, task_id: &str) -> Option<String> {
        let mut connection = self.tracker.redis().connection();
        let get = redis::AsyncCommands::get(&mut connection, keys::owner(task_id));
        self.tracker.redis().call(get).await.ok().flatten()
    }

    /// The local snapshot of a task (for tests and the app's history).
    pub fn local_snapshot(&self, task_id: &str) -> Result<Option<TaskSnapshot>> {
        self.local.batch(task_id)
    }
}

/// Whether a new request continues an interrupted batch rather than
/// replacing it: the same engine and language, on the whole book.
fn continues(record: &TaskRecord, options: &BatchOptions) -> bool {
    record.engine == options.engine
        && record.language == options.language
        && options.only_pages.is_none()
}

fn busy_error(status: &TaskStatus) -> Error {
    let message = match status.source {
        Source::Elsewhere => format!(
            "a batch started by another application is running on '{}' (task {}, {}, started {}); \
             it is left to finish or expire",
            status.project_slug, status.task_id, status.engine, status.started_at
        ),
        _ => format!(
            "a batch is already running on '{}': task {} ({}, {}), started {}, {}% done; \
             watch it with `kdesk status {}` or stop it with `kdesk cancel {}`",
            status.project_slug,
            status.task_id,
            status.engine,
            status.language,
            status.started_at,
            status.percent,
            status.project_slug,
            status.project_slug
        ),
    };
    Error::new(ErrorKind::BatchRunning, message)
}
