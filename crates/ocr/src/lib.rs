//! OCR of one page image, and the files that hold its result.
//!
//! This crate turns the bytes of one page image into recognised text with
//! Debian's `tesseract` program, and writes and reads a page's output files.
//! It knows nothing of projects, queues, Redis or the app: callers decide
//! which pages to run, how many at once, and where outputs go.
//!
//! - [`inspect()`] checks bytes before Tesseract sees them (format, size).
//! - [`Tesseract`] finds the engine and OCRs a page in its own process.
//! - [`write_output`] and [`read_output_meta`] keep a page's output files.
//! - [`character_error_rate`] measures text against a ground truth.
//!
//! Rule: every failure is an [`Error`] whose [`ErrorKind`] says whether a
//! retry can help ([`Error::is_permanent`]); its message names the page.
//!
//! The main items are re-exported here; the modules are public too.
//!
//! Currently each frame of a multi-page TIFF is OCR'd by handing Tesseract
//! the whole file, which reads through the frames before the one asked for.

pub mod error;
pub mod inspect;
pub mod output;
pub mod quality;
pub mod tesseract;

pub use error::{Error, ErrorKind, Result};
pub use inspect::{count_frames, inspect, ImageFormat, ImageInfo, ImageLimits};
pub use output::{read_output_meta, write_output, OutputMeta};
pub use quality::{character_error_rate, normalise};
pub use tesseract::{debian_package, Recognition, Tesseract, TESSERACT_ENV};
