//! The page queue in Redis: one stream of jobs per task, read by the
//! consumer group of all workers, and one stream of results per task, read
//! by the task's owner.
//!
//! A job taken by a worker stays pending in the group until the worker
//! sends its result; a worker that dies leaves it pending, and after
//! an idle time ([`CLAIM_IDLE`] by default) any other worker claims it. A worker holding a page
//! renews its claim, so a slow page is never taken from a live worker.
//! Rule: a job leaves the stream (and its image leaves Redis) in the same
//! transaction that adds its result.

use std::collections::HashSet;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::Value;
use tracing::warn;

use super::{JobHeader, PageJob, PageResult};
use crate::error::Result;
use crate::tracking::{keys, Redis};

/// A page held this long by a worker without a renewal is taken by
/// another, unless a worker is told otherwise; workers renew at a third of it.
pub const CLAIM_IDLE: Duration = Duration::from_secs(30);

/// The job streams' field names.
const HEADER: &str = "header";
const IMAGE: &str = "image";
const RESULT: &str = "result";

/// One entry read from a stream: its id and its fields.
type Entry = (String, Vec<(String, Vec<u8>)>);

/// Makes the task's job stream and its worker group, if missing. Only the
/// batch's owner makes the stream; a worker only adds its group to an
/// existing one, so that it never brings back the stream of a batch that
/// has just ended.
pub async fn prepare(redis: &Redis, task_id: &str) -> Result<()> {
    prepare_group(redis, task_id, true).await
}

/// Adds the worker group to the task's stream if the stream exists.
pub async fn join(redis: &Redis, task_id: &str) -> Result<()> {
    prepare_group(redis, task_id, false).await
}

async fn prepare_group(redis: &Redis, task_id: &str, make_stream: bool) -> Result<()> {
    let mut connection = redis.connection();
    let mut command = redis::cmd("XGROUP");
    command.arg("CREATE").arg(keys::jobs(task_id)).arg(keys::WORKER_GROUP).arg("0");
    if make_stream {
        command.arg("MKSTREAM");
    }
    let create = command.query_async::<()>(&mut connection);
    match tokio::time::timeout(crate::tracking::connection::CALL_TIMEOUT, create).await {
        Ok(Err(error)) if error.code() == Some("BUSYGROUP") => Ok(()),
        // Without MKSTREAM a missing stream is refused: its batch has ended.
        Ok(Err(error)) if !make_stream && matches!(error.kind(), redis::ErrorKind::Server(_)) => {
            Ok(())
        }
        Ok(result) => result.map_err(|error| redis.target().error(error)),
        Err(_) => redis.ping().await,
    }
}

/// Adds a page job to its task's stream.
pub async fn push(redis: &Redis, job: &PageJob) -> Result<()> {
    let header = serde_json::to_string(&job.header).unwrap_or_default();
    let mut connection = redis.connection();
    let add = async {
        redis::cmd("XADD")
            .arg(keys::jobs(&job.header.task_id))
            .arg("*")
            .arg(HEADER)
            .arg(header)
            .arg(IMAGE)
            .arg(job.image.as_slice())
            .query_async::<String>(&mut connection)
            .await
    };
    redis.call(add).await.map(|_| ())
}

/// The pages whose jobs are in the stream now, taken or not.
pub async fn queued_pages(redis: &Redis, task_id: &str) -> Result<HashSet<String>> {
    let mut connection = redis.connection();
    let range = async {
        redis::cmd("XRANGE")
            .arg(keys::jobs(task_id))
            .arg("-")
            .arg("+")
            .query_async::<Value>(&mut connection)
            .await
    };
    let entries = parse_entries(redis.call(range).await?);
    Ok(entries.iter().filter_map(|(_, fields)| job_header(fields)).map(|h| h.page_id).collect())
}

/// Puts back in the queue, at once, the jobs held by workers of a dead
/// owner on this computer (the in-process pool of a killed `kdesk ocr`):
/// nobody else would take them before their idle time runs out.
pub async fn release_dead_local_workers(redis: &Redis, task_id: &str) -> Result<u64> {
    let mut connection = redis.connection();
    let stream = keys::jobs(task_id);
    let dead: Vec<String> = taken_jobs(redis, &stream)
        .await?
        .into_iter()
        .filter(|(_, consumer)| {
            let owner = consumer.split('/').next().unwrap_or_default();
            crate::owner::Owner::parse(owner).is_some()
                && !crate::owner::Owner::is_alive_reading(owner)
        })
        .map(|(id, ..)| id)
        .collect();
    if dead.is_empty() {
        return Ok(0);
    }
    // Their jobs are added again as new entries, then the old ones retired.
    let range = async {
        redis::cmd("XRANGE")
            .arg(&stream)
            .arg("-")
            .arg("+")
            .query_async::<Value>(&mut connection)
            .await
    };
    let entries = parse_entries(redis.call(range).await?);
    let mut released = 0;
    for (id, fields) in entries.into_iter().filter(|(id, _)| dead.contains(id)) {
        let mut pipe = redis::pipe();
        pipe.atomic().cmd("XADD").arg(&stream).arg("*");
        for (name, value) in &fields {
            pipe.arg(name).arg(value.as_slice());
        }
        pipe.ignore();
        pipe.cmd("XACK").arg(&stream).arg(keys::WORKER_GROUP).arg(&id).ignore();
        pipe.cmd("XDEL").arg(&stream).arg(&id).ignore();
        redis.call(pipe.query_async::<()>(&mut connection)).await?;
        released += 1;
    }
    Ok(released)
}

/// The jobs of a stream that workers hold now: entry id and consumer.
async fn taken_jobs(redis: &Redis, stream: &str) -> Result<Vec<(String, String)>> {
    let mut connection = redis.connection();
    let pending = async {
        redis::cmd("XPENDING")
            .arg(stream)
            .arg(keys::WORKER_GROUP)
            .arg("-")
            .arg("+")
            .arg(10_000)
            .query_async::<Vec<(String, String, u64, u64)>>(&mut connection)
            .await
    };
    let rows = redis.call(pending).await?;
    Ok(rows.into_iter().map(|(id, consumer, _, _)| (id, consumer)).collect())
}

/// Removes the jobs no worker has taken yet (a cancelled batch); pages being
/// recognised stay, to finish or be handed back.
pub async fn drop_untaken(redis: &Redis, task_id: &str) -> Result<u64> {
    let mut connection = redis.connection();
    let stream = keys::jobs(task_id);
    let range = async {
        redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").query_async(&mut connection).await
    };
    let all: Vec<String> =
        parse_entries(redis.call(range).await?).into_iter().map(|e| e.0).collect();
    let taken: HashSet<String> = match taken_jobs(redis, &stream).await {
        Ok(rows) => rows.into_iter().map(|(id, _)| id).collect(),
        Err(_) => HashSet::new(),
    };
    let untaken: Vec<&String> = all.iter().filter(|id| !taken.contains(*id)).collect();
    if untaken.is_empty() {
        return Ok(0);
    }
    let delete = async {
        redis::cmd("XDEL").arg(&stream).arg(&untaken).query_async::<u64>(&mut connection).await
    };
    redis.call(delete).await
}

/// The owner's reader of a task's results, remembering where it stopped.
pub struct ResultReader {
    task_id: String,
    connection: ConnectionManager,
    /// Results before this id have been read; they stay in the stream until
    /// [`ResultReader::remove`], so a crash before writing loses none.
    last_id: String,
}

impl ResultReader {
    /// Reads from the start: results left by a previous owner come first.
    pub fn new(redis: &Redis, task_id: &str, block: Duration) -> Result<ResultReader> {
        let connection = redis.dedicated_connection(block)?;
        Ok(ResultReader { task_id: task_id.to_string(), connection, last_id: "0".to_string() })
    }

    /// Waits up to `block` for results after the last one read (zero: does
    /// not wait).
    pub async fn next(
        &mut self,
        redis: &Redis,
        block: Duration,
    ) -> Result<Vec<(String, PageResult)>> {
        let mut command = redis::cmd("XREAD");
        command.arg("COUNT").arg(32);
        if !block.is_zero() {
            command.arg("BLOCK").arg(block.as_millis() as u64);
        }
        command.arg("STREAMS").arg(keys::results(&self.task_id)).arg(&self.last_id);
        let read = command.query_async::<Value>(&mut self.connection);
        let reply = match tokio::time::timeout(block + Duration::from_secs(3), read).await {
            Ok(reply) => reply.map_err(|error| redis.target().error(error))?,
            Err(_) => return redis.ping().await.map(|_| Vec::new()),
        };
        let mut results = Vec::new();
        for (_stream, entries) in parse_streams(reply) {
            for (id, fields) in entries {
                self.last_id = id.clone();
                let Some(raw) = field(&fields, RESULT) else {
                    continue;
                };
                match serde_json::from_slice::<PageResult>(raw) {
                    Ok(result) => results.push((id, result)),
                    Err(error) => {
                        warn!(task_id = %self.task_id, entry = %id, error = %error, "skipping a result that cannot be read");
                    }
                }
            }
        }
        Ok(results)
    }

    /// Forgets results already written into the project.
    pub async fn remove(&mut self, redis: &Redis, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut connection = redis.connection();
        let delete = async {
            redis::cmd("XDEL")
                .arg(keys::results(&self.task_id))
                .arg(ids)
                .query_async::<u64>(&mut connection)
                .await
        };
        redis.call(delete).await.map(|_| ())
    }
}

/// A job as a worker holds it: the stream entry it came from, and how many
/// times the group has handed it out.
pub struct TakenJob {
    pub entry_id: String,
    pub job: PageJob,
    pub deliveries: u64,
}

/// Reads up to one new job of one task, waiting up to `block` (zero: not
/// at all). One stream per read: a read over several streams hands out one
/// entry per stream, and a worker can work on only one.
pub async fn take_new(
    redis: &Redis,
    connection: &mut ConnectionManager,
    consumer: &str,
    task_id: &str,
    block: Duration,
) -> Result<Option<TakenJob>> {
    let stream = keys::jobs(task_id);
    let mut read = redis::cmd("XREADGROUP");
    read.arg("GROUP").arg(keys::WORKER_GROUP).arg(consumer).arg("COUNT").arg(1);
    if !block.is_zero() {
        read.arg("BLOCK").arg(block.as_millis() as u64);
    }
    read.arg("STREAMS").arg(&stream).arg(">");
    let call = read.query_async::<Value>(connection);
    let reply = match tokio::time::timeout(block + Duration::from_secs(3), call).await {
        Ok(Err(error)) if matches!(error.code(), Some("UNBLOCKED" | "NOGROUP")) => {
            let message =
                format!("the queue of batch {task_id} is gone (it ended, or Redis lost it)");
            return Err(crate::Error::with_source(crate::ErrorKind::TaskNotFound, message, error));
        }
        Ok(reply) => reply.map_err(|error| redis.target().error(error))?,
        Err(_) => return redis.ping().await.map(|_| None),
    };
    for (stream, entries) in parse_streams(reply) {
        for (entry_id, fields) in entries {
            if let Some(job) = parse_job(&stream, &entry_id, &fields, redis).await? {
                return Ok(Some(TakenJob { entry_id, job, deliveries: 1 }));
            }
        }
    }
    Ok(None)
}

/// Claims one job of `task_id` that a worker took and then stopped renewing.
pub async fn take_abandoned(
    redis: &Redis,
    consumer: &str,
    task_id: &str,
    idle: Duration,
) -> Result<Option<TakenJob>> {
    let stream = keys::jobs(task_id);
    let mut connection = redis.connection();
    let claim = async {
        redis::cmd("XAUTOCLAIM")
            .arg(&stream)
            .arg(keys::WORKER_GROUP)
            .arg(consumer)
            .arg(idle.as_millis() as u64)
            .arg("0-0")
            .arg("COUNT")
            .arg(1)
            .query_async::<Value>(&mut connection)
            .await
    };
    let reply = redis.call(claim).await?;
    let Value::Array(parts) = reply else {
        return Ok(None);
    };
    let Some(claimed) = parts.into_iter().nth(1) else {
        return Ok(None);
    };
    for (entry_id, fields) in parse_entries(claimed) {
        let Some(job) = parse_job(&stream, &entry_id, &fields, redis).await? else {
            continue;
        };
        let pending = async {
            redis::cmd("XPENDING")
                .arg(&stream)
                .arg(keys::WORKER_GROUP)
                .arg(&entry_id)
                .arg(&entry_id)
                .arg(1)
                .query_async::<Vec<(String, String, u64, u64)>>(&mut connection)
                .await
        };
        let deliveries = redis.call(pending).await?.first().map(|row| row.3).unwrap_or(1);
        return Ok(Some(TakenJob { entry_id, job, deliveries }));
    }
    Ok(None)
}

/// Tells the group this worker still holds the job (resets its idle time
/// without counting a new delivery).
pub async fn renew(redis: &Redis, consumer: &str, taken: &TakenJob) -> Result<()> {
    let mut connection = redis.connection();
    let claim = async {
        redis::cmd("XCLAIM")
            .arg(keys::jobs(&taken.job.header.task_id))
            .arg(keys::WORKER_GROUP)
            .arg(consumer)
            .arg(0)
            .arg(&taken.entry_id)
            .arg("JUSTID")
            .query_async::<Value>(&mut connection)
            .await
    };
    redis.call(claim).await.map(|_| ())
}

/// Sends a result and retires its job in one transaction.
pub async fn complete(redis: &Redis, taken: &TakenJob, result: &PageResult) -> Result<()> {
    let task_id = &taken.job.header.task_id;
    let body = serde_json::to_string(result).unwrap_or_default();
    let mut pipe = redis::pipe();
    pipe.atomic().cmd("XADD").arg(keys::results(task_id)).arg("*").arg(RESULT).arg(body).ignore();
    retire(&mut pipe, taken);
    let mut connection = redis.connection();
    redis.call(pipe.query_async::<()>(&mut connection)).await
}

/// Gives a job back to the queue at once (a worker stopping mid-page).
pub async fn hand_back(redis: &Redis, taken: &TakenJob) -> Result<()> {
    let header = serde_json::to_string(&taken.job.header).unwrap_or_default();
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("XADD")
        .arg(keys::jobs(&taken.job.header.task_id))
        .arg("*")
        .arg(HEADER)
        .arg(header)
        .arg(IMAGE)
        .arg(taken.job.image.as_slice())
        .ignore();
    retire(&mut pipe, taken);
    let mut connection = redis.connection();
    redis.call(pipe.query_async::<()>(&mut connection)).await
}

/// Adds to `pipe` the end of a taken job: acknowledged, and deleted with
/// its image.
fn retire(pipe: &mut redis::Pipeline, taken: &TakenJob) {
    let stream = keys::jobs(&taken.job.header.task_id);
    pipe.cmd("XACK").arg(&stream).arg(keys::WORKER_GROUP).arg(&taken.entry_id).ignore();
    pipe.cmd("XDEL").arg(&stream).arg(&taken.entry_id).ignore();
}

/// Reads a job entry; junk (no header, unreadable header) is acknowledged
/// and deleted with a warning, so it cannot block the queue.
async fn parse_job(
    stream: &str,
    entry_id: &str,
    fields: &[(String, Vec<u8>)],
    redis: &Redis,
) -> Result<Option<PageJob>> {
    match (job_header(fields), field(fields, IMAGE)) {
        (Some(header), Some(image)) => Ok(Some(PageJob { header, image: image.to_vec() })),
        _ => {
            warn!(stream, entry = entry_id, "removing a page job that cannot be read");
            let mut pipe = redis::pipe();
            pipe.cmd("XACK").arg(stream).arg(keys::WORKER_GROUP).arg(entry_id).ignore();
            pipe.cmd("XDEL").arg(stream).arg(entry_id).ignore();
            let mut connection = redis.connection();
            redis.call(pipe.query_async::<()>(&mut connection)).await?;
            Ok(None)
        }
    }
}

fn job_header(fields: &[(String, Vec<u8>)]) -> Option<JobHeader> {
    serde_json::from_slice(field(fields, HEADER)?).ok()
}

fn field<'a>(fields: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    fields.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_slice())
}

/// `[[stream, [entry…]]…]` (RESP2) or a map of stream to entries (RESP3).
fn parse_streams(reply: Value) -> Vec<(String, Vec<Entry>)> {
    let pairs: Vec<(Value, Value)> = match reply {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::Array(mut pair) if pair.len() == 2 => {
                    let entries = pair.pop()?;
                    Some((pair.pop()?, entries))
                }
                _ => None,
            })
            .collect(),
        Value::Map(pairs) => pairs,
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .filter_map(|(name, entries)| Some((bytes_to_string(name)?, parse_entries(entries))))
        .collect()
}

/// `[[id, [field, value, …]]…]`; entries deleted while pending come back
/// with no fields and are skipped.
fn parse_entries(value: Value) -> Vec<Entry> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .into_iter()
        .filter_map(|item| {
            let Value::Array(mut pair) = item else {
                return None;
            };
            if pair.len() != 2 {
                return None;
            }
            let Value::Array(flat) = pair.pop()? else {
                return None;
            };
            let id = bytes_to_string(pair.pop()?)?;
            let mut fields = Vec::with_capacity(flat.len() / 2);
            let mut flat = flat.into_iter();
            while let (Some(name), Some(value)) = (flat.next(), flat.next()) {
                if let (Some(name), Value::BulkString(value)) = (bytes_to_string(name), value) {
                    fields.push((name, value));
                }
            }
            Some((id, fields))
        })
        .collect()
}

fn bytes_to_string(value: Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).ok(),
        Value::SimpleString(text) => Some(text),
        _ => None,
    }
}
