//! Log lines for `kdesk`: `tracing` to standard error, filtered by
//! `RUST_LOG`, printed around the progress bar instead of through it.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use indicatif::ProgressBar;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

static PROGRESS: OnceLock<ProgressBar> = OnceLock::new();

/// Sets up logging: warnings by default, more with `-v`, `RUST_LOG` wins.
pub fn init(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "warn,kdesk_core=info,kdesk_cli=info",
        _ => "info,kdesk_core=debug,kdesk_ocr=debug,kdesk_cli=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(AroundProgress)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}

/// Registers the bar that log lines must not tear.
pub fn set_progress(bar: ProgressBar) {
    let _ = PROGRESS.set(bar);
}

/// Removes the bar from the screen (before an error message).
pub fn clear_progress() {
    if let Some(bar) = PROGRESS.get() {
        bar.finish_and_clear();
    }
}

#[derive(Clone, Copy)]
struct AroundProgress;

impl<'a> MakeWriter<'a> for AroundProgress {
    type Writer = AroundProgress;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

impl Write for AroundProgress {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match PROGRESS.get() {
            Some(bar) if !bar.is_finished() => bar.suspend(|| std::io::stderr().write_all(buf))?,
            _ => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
