//! `kdesk`: batch OCR of scanned books from the terminal.
//!
//! Parses the command line, sets up logging and hands each command to its
//! module in `commands/`; the work itself is done by `kdesk-core`.

mod args;
mod commands;
mod display;
mod logging;

use clap::Parser;

use crate::args::{Args, Command};

/// Exit statuses, also listed in `kdesk --help`.
pub mod exit {
    /// Something went wrong before or around the batch (see the message).
    pub const ERROR: i32 = 1;
    /// The batch ran to its end but some pages failed.
    pub const PAGES_FAILED: i32 = 2;
    /// The batch was cancelled.
    pub const CANCELLED: i32 = 3;
    /// Another batch is running on the project.
    pub const BUSY: i32 = 4;
    /// Interrupted with Ctrl-C; `kdesk ocr` again resumes.
    pub const INTERRUPTED: i32 = 130;
}

fn main() {
    restore_default_sigpipe();
    let args = Args::parse();
    logging::init(args.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            std::process::exit(exit::ERROR);
        }
    };
    let code = runtime.block_on(async {
        let result = match &args.command {
            Command::Ocr(ocr) => commands::ocr::run(&args.globals, ocr).await,
            Command::Status(status) => commands::status::run(&args.globals, status).await,
            Command::Worker(worker) => commands::worker::run(&args.globals, worker).await,
            Command::Cancel(cancel) => commands::cancel::run(&args.globals, cancel).await,
            Command::Import(import) => commands::import::run(&args.globals, import),
            Command::Projects(projects) => commands::projects::run(&args.globals, projects),
            Command::History(history) => commands::history::run(&args.globals, history),
        };
        match result {
            Ok(code) => code,
            Err(error) => {
                logging::clear_progress();
                eprintln!("error: {}", display::error_chain(&error));
                commands::exit_code_of(&error)
            }
        }
    });
    // Dropping what still runs (a batch's workers after Ctrl-C) stops their
    // Tesseract processes before we exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(3));
    std::process::exit(code);
}

/// `kdesk history | head` ends quietly, as other programs do, instead of
/// failing on the closed pipe.
fn restore_default_sigpipe() {
    // SAFETY: called first thing in main, before any thread starts; it only
    // resets one signal's disposition to the system default.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
