//! One module per `kdesk` command, each a thin layer over `kdesk-core`.

pub mod cancel;
pub mod history;
pub mod import;
pub mod ocr;
pub mod projects;
pub mod status;
pub mod worker;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use kdesk_core::{Desk, DeskConfig, ErrorKind, RedisTarget};

use crate::args::Globals;
use crate::exit;

/// The library folder: `--library`, `KDESK_LIBRARY`, or the per-user default.
pub fn library_root(globals: &Globals) -> PathBuf {
    globals.library.clone().unwrap_or_else(|| {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("kalanjiyam-desk")
            .join("library")
    })
}

pub fn redis_target(globals: &Globals) -> anyhow::Result<RedisTarget> {
    let target = match &globals.redis_url {
        Some(url) if !url.trim().is_empty() => RedisTarget::parse(url)?,
        _ => RedisTarget::parse(kdesk_core::tracking::DEFAULT_REDIS_URL)?,
    };
    Ok(target)
}

pub fn open_desk(globals: &Globals) -> anyhow::Result<Desk> {
    let config = DeskConfig {
        library: library_root(globals),
        redis: redis_target(globals)?,
        page_timeout: Duration::from_secs(globals.page_timeout.max(1)),
    };
    Desk::open(config).context("cannot open the library")
}

pub fn parse_slug(slug: &str) -> anyhow::Result<kdesk_library::Slug> {
    Ok(kdesk_library::Slug::parse(slug)?)
}

/// The exit status for an error that ended a command.
pub fn exit_code_of(error: &anyhow::Error) -> i32 {
    match error.downcast_ref::<kdesk_core::Error>() {
        Some(error) if error.kind() == ErrorKind::BatchRunning => exit::BUSY,
        _ => exit::ERROR,
    }
}
