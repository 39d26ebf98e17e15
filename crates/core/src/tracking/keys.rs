//! Every Redis key this program reads or writes, in one place.
//!
//! `ocr_task:{slug}` is the original web site's contract and is shared with
//! it; everything else lives under `kdesk:` so that it can never be mistaken
//! for another application's data. Rule: no other module spells a key.

/// How long the contract record lives without being refreshed (the original's 24 h).
pub const RECORD_TTL_SECONDS: u64 = 86_400;

/// How long our own task state outlives its last update.
pub const TASK_TTL_SECONDS: u64 = 86_400;

/// How long an owner's lease lives without a heartbeat.
pub const OWNER_LEASE_SECONDS: u64 = 15;

/// Prefix of the contract records, for listing them.
pub const RECORD_PREFIX: &str = "ocr_task:";

/// Consumer group of the page workers on every task's job stream.
pub const WORKER_GROUP: &str = "workers";

/// Task ids we issue start with this, so a record of ours can be told apart
/// from one written by another application on a shared Redis.
pub const TASK_ID_PREFIX: &str = "kdesk-";

/// The set of task ids whose job streams workers should watch.
pub const ACTIVE_TASKS: &str = "kdesk:tasks:active";

pub fn record(slug: &str) -> String {
    format!("{RECORD_PREFIX}{slug}")
}

/// Hash with a task's description, counters and end state.
pub fn task(task_id: &str) -> String {
    format!("kdesk:task:{task_id}")
}

/// Stream of page jobs waiting for a worker (group [`WORKER_GROUP`]).
pub fn jobs(task_id: &str) -> String {
    format!("kdesk:task:{task_id}:jobs")
}

/// Stream of page results waiting for the owner to write them into the project.
pub fn results(task_id: &str) -> String {
    format!("kdesk:task:{task_id}:results")
}

/// The owner's lease: which process writes this task's results, while it lives.
pub fn owner(task_id: &str) -> String {
    format!("kdesk:task:{task_id}:owner")
}

/// Channel on which task changes are announced, as a hint to refresh.
pub const EVENTS_CHANNEL: &str = "kdesk:events";
