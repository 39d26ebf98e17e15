//! The durable record of batches on this computer, in an SQLite file in
//! the library (`.kdesk/batches.sqlite3`).
//!
//! It outlives Redis: a Redis restart without persistence, a batch that
//! ran while Redis was down, and the history of finished batches are all
//! read from here. The app and `kdesk` may write it at the same time (WAL
//! mode). Rule: it is written before Redis is told, so Redis is never ahead.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::{Error, ErrorKind, Result};
use crate::tracking::{TaskRecord, TaskSnapshot};

/// A page's final state in a batch.
#[derive(Clone, Debug, PartialEq)]
pub struct PageEntry {
    pub page_id: String,
    /// "done" or "failed".
    pub state: String,
    pub reason: Option<String>,
    pub attempts: u32,
    pub seconds: Option<f64>,
    pub confidence: Option<f32>,
}

pub struct LocalRecord {
    path: PathBuf,
    connection: Mutex<Connection>,
}

impl LocalRecord {
    /// Opens (creating if needed) the record of the library at `library_root`.
    pub fn open(library_root: &Path) -> Result<LocalRecord> {
        let folder = library_root.join(".kdesk");
        std::fs::create_dir_all(&folder).map_err(|error| {
            let message = format!(
                "cannot create '{}' for the batch record: {error}; check the library folder's permissions",
                folder.display()
            );
            Error::with_source(ErrorKind::LocalRecord, message, error)
        })?;
        let path = folder.join("batches.sqlite3");
        // Processes opening a new record at the same moment can find it
        // locked while one of them switches it to WAL: try again briefly.
        let mut attempt = 0;
        let connection = loop {
            match open_connection(&path) {
                Ok(connection) => break connection,
                Err(error) if attempt < 50 && is_locked(&error) => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(error) => return Err(error.into()),
            }
        };
        Ok(LocalRecord { path, connection: Mutex::new(connection) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let connection = self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(work(&connection)?)
    }

    /// Stores the batch's current state (insert or replace).
    pub fn save(&self, record: &TaskRecord, snapshot: &TaskSnapshot) -> Result<()> {
        self.with(|c| upsert(c, record, snapshot))
    }

    /// Claims a project for a batch on this computer, atomically among the
    /// processes that share the library: returns the batch that runs on it
    /// under a live owner instead, if there is one.
    pub fn claim(
        &self,
        record: &TaskRecord,
        snapshot: &TaskSnapshot,
    ) -> Result<Option<TaskSnapshot>> {
        let mut connection =
            self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let running: Vec<String> = {
            let mut statement = transaction.prepare(
                "SELECT snapshot_json FROM batches
                 WHERE project_slug = ?1 AND state IN ('PENDING', 'PROGRESS') AND task_id != ?2",
            )?;
            let rows = statement
                .query_map(params![record.project_slug, record.task_id], |row| {
                    row.get::<_, String>(0)
                })?;
            rows.collect::<rusqlite::Result<Vec<String>>>()?
        };
        let live = running
            .iter()
            .filter_map(|json| serde_json::from_str::<TaskSnapshot>(json).ok())
            .find(|other| crate::owner::Owner::is_alive_reading(&other.owner));
        if live.is_some() {
            return Ok(live);
        }
        upsert(&transaction, record, snapshot)?;
        transaction.commit()?;
        Ok(None)
    }

    /// Forgets a claim that came to nothing (the project was busy elsewhere).
    pub fn forget(&self, task_id: &str) -> Result<()> {
        self.with(|c| {
            c.execute("DELETE FROM batches WHERE task_id = ?1", params![task_id])?;
            c.execute("DELETE FROM pages WHERE task_id = ?1", params![task_id]).map(|_| ())
        })
    }

    pub fn clear_cancel(&self, task_id: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "UPDATE batches SET cancel_requested = 0 WHERE task_id = ?1",
                params![task_id],
            )
            .map(|_| ())
        })
    }

    /// Stores a page's final state in a batch.
    pub fn save_page(&self, task_id: &str, page: &PageEntry) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO pages (task_id, page_id, state, reason, attempts, seconds, confidence)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    task_id,
                    page.page_id,
                    page.state,
                    page.reason,
                    page.attempts,
                    page.seconds,
                    page.confidence
                ],
            )
            .map(|_| ())
        })
    }

    /// The unfinished batch of a project, if one is recorded.
    pub fn unfinished(&self, slug: &str) -> Result<Option<(TaskRecord, TaskSnapshot)>> {
        let row = self.with(|c| {
            c.query_row(
                "SELECT record_json, snapshot_json FROM batches
                 WHERE project_slug = ?1 AND state IN ('PENDING', 'PROGRESS')
                 ORDER BY started_at DESC LIMIT 1",
                params![slug],
                |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
            )
            .optional()
        })?;
        Ok(row.and_then(|(record, snapshot)| {
            Some((serde_json::from_str(&record).ok()?, serde_json::from_str(&snapshot).ok()?))
        }))
    }

    /// One batch by its task id.
    pub fn batch(&self, task_id: &str) -> Result<Option<TaskSnapshot>> {
        let row = self.with(|c| {
            c.query_row(
                "SELECT snapshot_json FROM batches WHERE task_id = ?1",
                params![task_id],
                |row| row.get::<_, String>(0),
            )
            .optional()
        })?;
        Ok(row.and_then(|json| serde_json::from_str(&json).ok()))
    }

    /// Batches not finished, of every project.
    pub fn all_unfinished(&self) -> Result<Vec<TaskSnapshot>> {
        self.snapshots("WHERE state IN ('PENDING', 'PROGRESS') ORDER BY started_at DESC", 1000)
    }

    /// Finished batches, newest first.
    pub fn history(&self, limit: usize) -> Result<Vec<TaskSnapshot>> {
        self.snapshots("WHERE state NOT IN ('PENDING', 'PROGRESS') ORDER BY started_at DESC", limit)
    }

    fn snapshots(&self, clause: &str, limit: usize) -> Result<Vec<TaskSnapshot>> {
        let sql = format!("SELECT snapshot_json FROM batches {clause} LIMIT {limit}");
        let rows = self.with(|c| {
            let mut statement = c.prepare(&sql)?;
            let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
            rows.collect::<rusqlite::Result<Vec<String>>>()
        })?;
        Ok(rows.iter().filter_map(|json| serde_json::from_str(json).ok()).collect())
    }

    /// The final states of a batch's pages, by page id.
    pub fn pages(&self, task_id: &str) -> Result<HashMap<String, PageEntry>> {
        let rows = self.with(|c| {
            let mut statement = c.prepare(
                "SELECT page_id, state, reason, attempts, seconds, confidence FROM pages WHERE task_id = ?1",
            )?;
            let rows = statement.query_map(params![task_id], |row| {
                Ok(PageEntry {
                    page_id: row.get(0)?,
                    state: row.get(1)?,
                    reason: row.get(2)?,
                    attempts: row.get(3)?,
                    seconds: row.get(4)?,
                    confidence: row.get(5)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<PageEntry>>>()
        })?;
        Ok(rows.into_iter().map(|page| (page.page_id.clone(), page)).collect())
    }

    pub fn request_cancel(&self, task_id: &str) -> Result<bool> {
        self.with(|c| {
            c.execute(
                "UPDATE batches SET cancel_requested = 1 WHERE task_id = ?1",
                params![task_id],
            )
            .map(|changed| changed > 0)
        })
    }

    pub fn cancel_requested(&self, task_id: &str) -> Result<bool> {
        self.with(|c| {
            c.query_row(
                "SELECT cancel_requested FROM batches WHERE task_id = ?1",
                params![task_id],
                |row| row.get::<_, i64>(0),
            )
            .optional()
            .map(|flag| flag.unwrap_or(0) != 0)
        })
    }
}

/// Inserts a batch, or replaces its state and snapshot.
fn upsert(
    connection: &Connection,
    record: &TaskRecord,
    snapshot: &TaskSnapshot,
) -> rusqlite::Result<()> {
    let snapshot_json = serde_json::to_string(snapshot).unwrap_or_default();
    connection
        .execute(
            "INSERT INTO batches (task_id, project_slug, state, started_at, record_json, snapshot_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (task_id) DO UPDATE SET state = ?3, snapshot_json = ?6",
            params![
                record.task_id,
                record.project_slug,
                snapshot.state.as_str(),
                record.started_at,
                record.to_json(),
                snapshot_json
            ],
        )
        .map(|_| ())
}

/// Opens the record and makes sure its tables exist.
fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(10))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS batches (
                task_id TEXT PRIMARY KEY,
                project_slug TEXT NOT NULL,
                state TEXT NOT NULL,
                started_at TEXT NOT NULL,
                record_json TEXT NOT NULL,
                snapshot_json TEXT NOT NULL,
                cancel_requested INTEGER NOT NULL DEFAULT 0
             );
             CREATE INDEX IF NOT EXISTS batches_by_project ON batches (project_slug, state);
             CREATE TABLE IF NOT EXISTS pages (
                task_id TEXT NOT NULL,
                page_id TEXT NOT NULL,
                state TEXT NOT NULL,
                reason TEXT,
                attempts INTEGER NOT NULL,
                seconds REAL,
                confidence REAL,
                PRIMARY KEY (task_id, page_id)
             );",
    )?;
    Ok(connection)
}

fn is_locked(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
