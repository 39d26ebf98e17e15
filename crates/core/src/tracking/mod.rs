//! Batch tracking in Redis: the shared `ocr_task:{slug}` record, our task
//! state beside it, the owner's lease, and status look-ups.
//!
//! This module owns every read and write of tracking keys; the page queue
//! lives in [`crate::queue`]. Rules: a status look-up costs a constant number
//! of round trips (no `SCAN` on that path), every write is idempotent so that
//! it may be retried after a dropped connection, and a record written by
//! another application is never deleted.

pub mod connection;
pub mod contract;
pub mod keys;
pub mod status;

use std::collections::HashMap;

use redis::{AsyncCommands, Script, Value};
use tracing::{debug, info, warn};

pub use connection::{Redis, RedisTarget, DEFAULT_REDIS_URL};
pub use contract::{read_record, RecordReading, TaskRecord};
pub use status::{FailedPage, Outcome, Source, TaskSnapshot, TaskState, TaskStatus};

use crate::error::Result;
use crate::owner::Owner;

/// What came of renewing a running batch's hold on Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeptAlive {
    Kept,
    /// Another owner took the batch over (this one was frozen past its lease).
    LeaseLost,
    /// Another batch's record now stands under the project's key.
    RecordTaken,
}

/// What came of trying to start a batch on a project.
#[derive(Debug)]
pub enum Claim {
    /// The record is ours: a new batch starts.
    Started,
    /// The record was ours already and its owner is gone: we take over its
    /// task, with the state it last published (absent after a Redis restart).
    TookOver { record: TaskRecord, snapshot: Option<TaskSnapshot> },
    /// A batch is running on the project, here or elsewhere.
    Busy(TaskStatus),
}

/// Tracking operations on one Redis server.
#[derive(Clone)]
pub struct Tracker {
    redis: Redis,
}

/// Deletes a key only if it still holds the value we read: never removes
/// what someone else wrote in the meantime.
const DELETE_IF_UNCHANGED: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// Writes the record if the key is free, and the owner's lease with it.
const CLAIM_RECORD: &str = r#"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
  return 1
end
return 0
"#;

/// Deletes a key only if it does not hold a string (junk of another type).
const DELETE_IF_NOT_STRING: &str = r#"
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'string' and kind ~= 'none' then
  return redis.call('DEL', KEYS[1])
end
return 0
"#;

/// Renews the owner's lease if it is still ours (or lapsed unclaimed),
/// then keeps the record alive: refreshes its expiry if it is still ours,
/// writes it again if Redis lost it, leaves alone someone else's.
/// Returns -1 when another owner holds the lease.
const KEEP_ALIVE: &str = r#"
local lease = redis.call('GET', KEYS[1])
if lease and lease ~= ARGV[1] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local current = redis.call('GET', KEYS[2])
if current == ARGV[3] then
  redis.call('EXPIRE', KEYS[2], ARGV[4])
  return 1
elseif not current then
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ARGV[4])
  return 2
end
return 0
"#;

/// Takes the owner's lease if it is free or still held by the owner we saw.
const TAKE_LEASE: &str = r#"
local current = redis.call('GET', KEYS[1])
if (not current) or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"#;

/// A task's hash, the number of its jobs held by workers and its owner's
/// lease, in one call.
const TASK_STATUS: &str = r#"
local ok, fields = pcall(redis.call, 'HGETALL', KEYS[1])
if not ok then fields = {} end
local running = 0
if redis.call('EXISTS', KEYS[2]) == 1 then
  local ok, pending = pcall(redis.call, 'XPENDING', KEYS[2], ARGV[1])
  if ok and type(pending) == 'table' then running = pending[1] end
end
local lease = redis.call('GET', KEYS[3]) or ''
return {fields, running, lease}
"#;

impl Tracker {
    pub fn new(redis: Redis) -> Tracker {
        Tracker { redis }
    }

    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    /// The valid record of a project, if any. Junk under the key, and records
    /// of ours whose task is gone, are removed with a warning.
    pub async fn record(&self, slug: &str) -> Result<Option<TaskRecord>> {
        Ok(self.record_with_status(slug).await?.map(|(record, _)| record))
    }

    /// The record of a project and, when it is ours, its task's status:
    /// two round trips (the record, then one script).
    async fn record_with_status(
        &self,
        slug: &str,
    ) -> Result<Option<(TaskRecord, Option<TaskStatus>)>> {
        let key = keys::record(slug);
        let mut connection = self.redis.connection();
        let raw: Option<Vec<u8>> = match self.redis.call(connection.get(&key)).await {
            Ok(raw) => raw,
            Err(error) if error.kind() == crate::ErrorKind::RedisCommand => {
                // Not a string at all (a list, a hash…): junk of another kind.
                warn!(key = %key, error = %error, "removing a task record that is not a string");
                let script = Script::new(DELETE_IF_NOT_STRING);
                let call = async { script.key(&key).invoke_async::<i64>(&mut connection).await };
                self.redis.call(call).await?;
                return Ok(None);
            }
            Err(error) => return Err(error),
        };
        let Some(raw) = raw else {
            return Ok(None);
        };
        let record = match read_record(slug, &raw) {
            RecordReading::Junk(reason) => {
                warn!(key = %key, %reason, "removing a task record that cannot be read");
                self.delete_if_unchanged(&key, &raw).await?;
                return Ok(None);
            }
            RecordReading::Valid(record) if !record.is_ours() => return Ok(Some((record, None))),
            RecordReading::Valid(record) => record,
        };
        match self.task_parts(&record.task_id).await? {
            TaskParts { snapshot: Some(snapshot), running, lease } => {
                let status = status_of(&snapshot, running, &lease);
                Ok(Some((record, Some(status))))
            }
            // Its owner is alive and will write the task state again: Redis
            // lost it (a restart), or the owner has only just claimed it.
            TaskParts { snapshot: None, lease, .. } if !lease.is_empty() => {
                Ok(Some((record, None)))
            }
            TaskParts { snapshot: None, .. } => {
                warn!(key = %key, task_id = %record.task_id, "removing a record whose task no longer exists");
                self.delete_if_unchanged(&key, &raw).await?;
                Ok(None)
            }
        }
    }

    async fn delete_if_unchanged(&self, key: &str, value: &[u8]) -> Result<()> {
        let mut connection = self.redis.connection();
        let script = Script::new(DELETE_IF_UNCHANGED);
        let call = async { script.key(key).arg(value).invoke_async::<i64>(&mut connection).await };
        let deleted = self.redis.call(call).await?;
        debug!(key, deleted, "cleaned up a task record");
        Ok(())
    }

    /// Starts a batch on `record.project_slug`, atomically: of two claims at
    /// once, one wins and the other sees it running.
    pub async fn claim(&self, record: &TaskRecord, owner: &Owner) -> Result<Claim> {
        let key = keys::record(&record.project_slug);
        let mut connection = self.redis.connection();
        for _attempt in 0..3 {
            // The record and the owner's lease are written together: a
            // record without a lease looks abandoned to a rival start.
            let script = Script::new(CLAIM_RECORD);
            let claim = async {
                script
                    .key(&key)
                    .key(keys::owner(&record.task_id))
                    .arg(record.to_json())
                    .arg(keys::RECORD_TTL_SECONDS)
                    .arg(owner.to_string())
                    .arg(keys::OWNER_LEASE_SECONDS)
                    .invoke_async::<i64>(&mut connection)
                    .await
            };
            if self.redis.call(claim).await? == 1 {
                debug!(key = %key, task_id = %record.task_id, "stored task record");
                return Ok(Claim::Started);
            }
            let Some(existing) = self.record(&record.project_slug).await? else {
                continue;
            };
            if !existing.is_ours() {
                info!(key = %key, task_id = %existing.task_id, "found a batch run by another application");
                return Ok(Claim::Busy(TaskStatus::elsewhere(&existing)));
            }
            let lease_key = keys::owner(&existing.task_id);
            let lease: Option<String> = self.redis.call(connection.get(&lease_key)).await?;
            let holder_alive = lease.as_deref().map(Owner::is_alive_reading).unwrap_or(false);
            let status = self.status(&existing.task_id).await?;
            if holder_alive {
                info!(key = %key, task_id = %existing.task_id, "found an ongoing batch");
                let status = status.unwrap_or_else(|| TaskStatus::elsewhere(&existing));
                return Ok(Claim::Busy(status));
            }
            let script = Script::new(TAKE_LEASE);
            let take = async {
                script
                    .key(&lease_key)
                    .arg(lease.unwrap_or_default())
                    .arg(owner.to_string())
                    .arg(keys::OWNER_LEASE_SECONDS)
                    .invoke_async::<i64>(&mut connection)
                    .await
            };
            if self.redis.call(take).await? == 1 {
                info!(key = %key, task_id = %existing.task_id, "taking over a batch whose owner is gone");
                let snapshot = self.snapshot(&existing.task_id).await?;
                return Ok(Claim::TookOver { record: existing, snapshot });
            }
        }
        let status = self.project_status(&record.project_slug).await?;
        let record_now = TaskStatus::elsewhere(record);
        Ok(Claim::Busy(status.unwrap_or(record_now)))
    }

    /// Writes the owner's whole view of the batch and announces the change.
    pub async fn publish(&self, snapshot: &TaskSnapshot) -> Result<()> {
        let key = keys::task(&snapshot.task_id);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .hset_multiple(&key, &snapshot.to_fields())
            .ignore()
            .expire(&key, keys::TASK_TTL_SECONDS as i64)
            .ignore()
            .publish(keys::EVENTS_CHANNEL, &snapshot.task_id)
            .ignore();
        if !snapshot.state.is_finished() {
            pipe.sadd(keys::ACTIVE_TASKS, &snapshot.task_id).ignore();
        }
        let mut connection = self.redis.connection();
        self.redis.call(pipe.query_async::<()>(&mut connection)).await
    }

    /// Renews the owner's lease and keeps the record alive past 24 hours
    /// (or writes it again after Redis lost it).
    pub async fn keep_alive(&self, record: &TaskRecord, owner: &Owner) -> Result<KeptAlive> {
        let mut connection = self.redis.connection();
        let script = Script::new(KEEP_ALIVE);
        let keep = async {
            script
                .key(keys::owner(&record.task_id))
                .key(keys::record(&record.project_slug))
                .arg(owner.to_string())
                .arg(keys::OWNER_LEASE_SECONDS)
                .arg(record.to_json())
                .arg(keys::RECORD_TTL_SECONDS)
                .invoke_async::<i64>(&mut connection)
                .await
        };
        let kept = self.redis.call(keep).await?;
        Ok(match kept {
            -1 => KeptAlive::LeaseLost,
            0 => KeptAlive::RecordTaken,
            2 => {
                info!(task_id = %record.task_id, "wrote the task record again after Redis lost it");
                KeptAlive::Kept
            }
            _ => KeptAlive::Kept,
        })
    }

    /// Ends a batch: its final state stays readable for a day, its record
    /// (if still ours), lease, queue and results are removed.
    pub async fn finish(&self, record: &TaskRecord, snapshot: &TaskSnapshot) -> Result<()> {
        self.publish(snapshot).await?;
        let mut connection = self.redis.connection();
        let script = Script::new(DELETE_IF_UNCHANGED);
        let delete = async {
            script
                .key(keys::record(&record.project_slug))
                .arg(record.to_json())
                .invoke_async::<i64>(&mut connection)
                .await
        };
        self.redis.call(delete).await?;
        let mut pipe = redis::pipe();
        pipe.srem(keys::ACTIVE_TASKS, &record.task_id)
            .ignore()
            .del(&[
                keys::owner(&record.task_id),
                keys::jobs(&record.task_id),
                keys::results(&record.task_id),
            ])
            .ignore()
            .publish(keys::EVENTS_CHANNEL, &record.task_id)
            .ignore();
        self.redis.call(pipe.query_async::<()>(&mut connection)).await?;
        debug!(task_id = %record.task_id, "removed the task record of a finished batch");
        Ok(())
    }

    /// The state the owner last published, if Redis still has it.
    pub async fn snapshot(&self, task_id: &str) -> Result<Option<TaskSnapshot>> {
        let mut connection = self.redis.connection();
        let fields: HashMap<String, String> =
            self.redis.call(connection.hgetall(keys::task(task_id))).await?;
        Ok(TaskSnapshot::from_fields(&fields))
    }

    /// The status of one task: one round trip whatever else Redis holds.
    pub async fn status(&self, task_id: &str) -> Result<Option<TaskStatus>> {
        let parts = self.task_parts(task_id).await?;
        Ok(parts.snapshot.map(|snapshot| status_of(&snapshot, parts.running, &parts.lease)))
    }

    async fn task_parts(&self, task_id: &str) -> Result<TaskParts> {
        let mut connection = self.redis.connection();
        let script = Script::new(TASK_STATUS);
        let call = async {
            script
                .key(keys::task(task_id))
                .key(keys::jobs(task_id))
                .key(keys::owner(task_id))
                .arg(keys::WORKER_GROUP)
                .invoke_async::<Value>(&mut connection)
                .await
        };
        let reply = self.redis.call(call).await?;
        let (fields, running, lease) = parse_status_reply(reply).unwrap_or_default();
        Ok(TaskParts { snapshot: TaskSnapshot::from_fields(&fields), running, lease })
    }

    /// The batch running on a project, if any: two round trips.
    pub async fn project_status(&self, slug: &str) -> Result<Option<TaskStatus>> {
        let found = self.record_with_status(slug).await?;
        Ok(found.map(|(record, status)| status.unwrap_or_else(|| TaskStatus::elsewhere(&record))))
    }

    /// Every batch with a record, as `redis-cli keys "ocr_task:*"` would
    /// list them (this one walks the key space with `SCAN`).
    pub async fn ongoing(&self) -> Result<Vec<TaskStatus>> {
        let mut connection = self.redis.connection();
        let mut cursor: u64 = 0;
        let mut slugs = Vec::new();
        loop {
            let scan = async {
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(format!("{}*", keys::RECORD_PREFIX))
                    .arg("COUNT")
                    .arg(1000)
                    .query_async::<(u64, Vec<String>)>(&mut connection)
                    .await
            };
            let (next, found) = self.redis.call(scan).await?;
            slugs.extend(
                found
                    .into_iter()
                    .filter_map(|key| key.strip_prefix(keys::RECORD_PREFIX).map(str::to_string)),
            );
            if next == 0 {
                break;
            }
            cursor = next;
        }
        slugs.sort();
        slugs.dedup();
        let mut statuses = Vec::with_capacity(slugs.len());
        for slug in slugs {
            // One unreadable batch must not hide the others.
            match self.project_status(&slug).await {
                Ok(Some(status)) => statuses.push(status),
                Ok(None) => {}
                Err(error) if error.kind() == crate::ErrorKind::RedisCommand => {
                    warn!(slug = %slug, error = %error, "skipping a batch whose state cannot be read");
                }
                Err(error) => return Err(error),
            }
        }
        Ok(statuses)
    }

    /// Asks the owner of a task to stop it; the owner acts on its next tick.
    pub async fn request_cancel(&self, task_id: &str) -> Result<()> {
        let mut connection = self.redis.connection();
        let mut pipe = redis::pipe();
        pipe.hset(keys::task(task_id), "cancel_requested", 1)
            .ignore()
            .publish(keys::EVENTS_CHANNEL, task_id)
            .ignore();
        self.redis.call(pipe.query_async::<()>(&mut connection)).await
    }

    /// Forgets a cancel request (its batch is being resumed on purpose).
    pub async fn clear_cancel(&self, task_id: &str) -> Result<()> {
        let mut connection = self.redis.connection();
        let clear = connection.hdel::<_, _, ()>(keys::task(task_id), "cancel_requested");
        self.redis.call(clear).await
    }

    pub async fn cancel_requested(&self, task_id: &str) -> Result<bool> {
        let mut connection = self.redis.connection();
        let flag: Option<String> =
            self.redis.call(connection.hget(keys::task(task_id), "cancel_requested")).await?;
        Ok(flag.is_some())
    }
}

/// What one status script returns about a task.
struct TaskParts {
    snapshot: Option<TaskSnapshot>,
    /// Jobs held by workers on the Redis queue.
    running: u64,
    /// The owner's lease, empty when it has expired.
    lease: String,
}

fn status_of(snapshot: &TaskSnapshot, running: u64, lease: &str) -> TaskStatus {
    let mut status = snapshot.status(running, Source::Redis, chrono::Utc::now());
    let owner_gone = lease.is_empty() || !Owner::is_alive_reading(lease);
    if owner_gone && !status.state.is_finished() {
        status.mark_interrupted();
    }
    status
}

fn parse_status_reply(reply: Value) -> Option<(HashMap<String, String>, u64, String)> {
    let Value::Array(mut parts) = reply else {
        return None;
    };
    if parts.len() != 3 {
        return None;
    }
    let lease: String = redis::from_redis_value(parts.pop()?).ok()?;
    let running = match parts.pop()? {
        Value::Int(n) => n.max(0) as u64,
        _ => 0,
    };
    let Value::Array(flat) = parts.pop()? else {
        return None;
    };
    let mut fields = HashMap::with_capacity(flat.len() / 2);
    for pair in flat.chunks(2) {
        if let [name, value] = pair {
            let name: String = redis::from_redis_value(name.clone()).ok()?;
            let value: String = redis::from_redis_value(value.clone()).ok()?;
            fields.insert(name, value);
        }
    }
    Some((fields, running, lease))
}
