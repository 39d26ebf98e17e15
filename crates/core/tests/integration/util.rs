//! Small helpers shared by the core's integration tests: a temporary
//! library with corpus pages, a [`Desk`] on it, and a plain Redis
//! connection for looking at what the core wrote.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;

use kdesk_core::{tracking::RedisTarget, Desk, DeskConfig};
use kdesk_library::Slug;
use kdesk_testkit::{copy_corpus_project, RedisServer};

/// A temporary library folder; removed when dropped.
pub fn library() -> TempDir {
    tempfile::Builder::new().prefix("kdesk-core-test-").tempdir().expect("a temporary folder")
}

/// Copies the first `first_n` pages of corpus project `corpus_slug` into
/// `library/<slug>` with a `project.toml` naming `language`.
pub fn project(library: &Path, corpus_slug: &str, slug: &str, first_n: usize, language: &str) {
    let copied = copy_corpus_project(corpus_slug, library, Some(first_n));
    let target = library.join(slug);
    if copied != target {
        std::fs::rename(&copied, &target).expect("the copy can be renamed");
    }
    let metadata =
        format!("title = \"{slug}\"\nlanguage = \"{language}\"\nengine = \"tesseract\"\n");
    std::fs::write(target.join("project.toml"), metadata).expect("project.toml is written");
}

/// A desk on `library` tracking in `server`.
pub fn desk(library: &Path, server: &RedisServer) -> Desk {
    desk_at(library, &server.url())
}

/// A desk on `library` tracking in the Redis at `url`.
pub fn desk_at(library: &Path, url: &str) -> Desk {
    let config = DeskConfig {
        library: PathBuf::from(library),
        redis: RedisTarget::parse(url).expect("a valid redis url"),
        page_timeout: Duration::from_secs(120),
    };
    Desk::open(config).expect("the desk opens")
}

pub fn slug(text: &str) -> Slug {
    Slug::parse(text).expect("a valid slug")
}

/// A plain connection to `server`, for inspecting keys.
pub fn connect(server: &RedisServer) -> redis::Connection {
    let connection =
        server.client().get_connection_with_timeout(Duration::from_secs(5)).expect("redis answers");
    connection.set_read_timeout(Some(Duration::from_secs(10))).expect("a read timeout");
    connection
}
