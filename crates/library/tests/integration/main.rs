//! Integration tests of kdesk-library on real files: the shared corpus's
//! projects, its odd files, and real PDF imports through poppler-utils.

mod import;
mod projects;
mod util;
