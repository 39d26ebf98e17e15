//! The editor's library: a folder of projects, each a scanned book.
//!
//! This crate owns what lives on the editor's disk before OCR: project
//! folders named by their slug, the page images inside them in reading
//! order, each project's hand-editable metadata file, and turning a PDF into
//! a project of page images. It knows nothing of OCR, Redis or the app.
//!
//! Rule: a page is identified by its [`Page::id`], which is also the stem of
//! every output file made from it; ids are unique within a project.
//!
//! ```text
//! <library>/
//!   tam-old-books/          a project; the folder name is its Slug
//!     project.toml          ProjectMetadata, optional, edited by hand
//!     pages/001.jpg ...     page images (or loose in the project folder)
//!     ocr/                  output, written by the OCR stage
//! ```
//!
//! Errors are one [`Error`] type with an [`ErrorKind`]; its `Display` is a
//! complete message for a person, cause included.

mod error;
mod import;
mod library;
mod metadata;
mod pages;
mod project;
mod slug;

pub use error::{Error, ErrorKind, Result};
pub use import::{ImportOptions, ImportProgress, MAX_PAGE_SIDE_PX};
pub use library::Library;
pub use metadata::{ProjectMetadata, METADATA_FILE};
pub use pages::{Page, PageFormat, PAGES_DIR};
pub use project::{Project, OUTPUT_DIR};
pub use slug::{Slug, MAX_SLUG_LEN};
