//! Benchmarks of Kalanjiyam Desk, run as whole processes on a quiet machine.
//!
//! This crate owns the measuring, not the product: it starts the release
//! `kdesk`, plain `tesseract` and its own `redis-server`, times them from
//! outside, and writes a report. Its parts:
//!
//! - [`throughput`]: `kdesk ocr` (A) against plain Tesseract one page after
//!   another (B, B0) and one process per page on every core (C);
//! - [`overhead`]: where a batch's time goes outside Tesseract, and the
//!   Redis commands it sends per page;
//! - [`status`]: a status look-up against the number of tracked tasks,
//!   beside the original's scan of every `ocr_task:*` key;
//! - [`scaleout`]: pages per minute with 1, 2 and 4 `kdesk worker` processes;
//! - [`report`]: the Markdown table and the raw JSON figures.
//!
//! Rule: nothing here asserts a timing; figures are reported, and only
//! correctness (every page done once, text as good as plain Tesseract's)
//! fails a run.

pub mod corpus;
pub mod error;
pub mod measure;
pub mod monitor;
pub mod overhead;
pub mod quality;
pub mod report;
pub mod scaleout;
pub mod stats;
pub mod status;
pub mod system;
pub mod throughput;

pub use error::{Error, ErrorKind, Result};
