//! Batch OCR of whole scanned books, tracked in Redis so that anyone can
//! leave and come back, with a durable record on this computer.
//!
//! The parts, from the outside in: [`Desk`] is the front door used by the
//! command line and the app; [`batch`] runs one batch as its owner;
//! [`worker`] recognises pages from the Redis queue; [`queue`] carries page
//! jobs and results; [`tracking`] owns every Redis key, including the
//! `ocr_task:{slug}` record shared with the Kalanjiyam web site;
//! [`local_record`] keeps batches on disk. This crate knows nothing of
//! Tauri or of terminals.

pub mod batch;
pub mod desk;
mod error;
pub mod local_record;
pub mod owner;
pub mod queue;
pub mod tracking;
pub mod worker;

pub use batch::{Batch, BatchOptions, Plan, SkippedPage};
pub use desk::{default_jobs, BatchRequest, Desk, DeskConfig};
pub use error::{Error, ErrorKind, Result};
pub use tracking::{FailedPage, Outcome, RedisTarget, Source, TaskState, TaskStatus};
