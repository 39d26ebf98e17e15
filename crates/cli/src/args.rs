//! The command line's shape: global options and one struct per command.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "kdesk",
    version,
    about = "Batch OCR of scanned books, tracked in Redis so you can leave and come back",
    after_help = "Exit status: 0 every page succeeded; 1 error; 2 some pages failed; \
                  3 cancelled; 4 another batch runs on the project; 130 interrupted \
                  (run the same `kdesk ocr` again to resume)."
)]
pub struct Args {
    #[command(flatten)]
    pub globals: Globals,
    /// Show more of what happens (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(ClapArgs, Debug, Clone)]
pub struct Globals {
    /// Folder holding the projects [default: ~/.local/share/kalanjiyam-desk/library]
    #[arg(long, env = "KDESK_LIBRARY", global = true)]
    pub library: Option<PathBuf>,
    /// Redis server that tracks batches [default: redis://localhost:6379/0]
    #[arg(long, env = "REDIS_URL", global = true, hide_env_values = true)]
    pub redis_url: Option<String>,
    /// A page taking longer than this many seconds is stopped and failed.
    #[arg(long, default_value_t = 300, global = true)]
    pub page_timeout: u64,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// OCR every page of a project as one batch, with live progress.
    Ocr(OcrArgs),
    /// Show running batches (all, or one project's in detail).
    Status(StatusArgs),
    /// Take page jobs of every running batch from Redis until stopped.
    Worker(WorkerArgs),
    /// Stop a project's batch; pages being recognised finish first.
    Cancel(CancelArgs),
    /// Make a project from a PDF, one page image per page.
    Import(ImportArgs),
    /// List the projects of the library.
    Projects(JsonFlag),
    /// List finished batches of this library, newest first.
    History(JsonFlag),
}

#[derive(ClapArgs, Debug)]
pub struct OcrArgs {
    /// The project's slug (its folder name in the library).
    pub slug: String,
    /// OCR engine [default: the project's, else tesseract]
    #[arg(long)]
    pub engine: Option<String>,
    /// Tesseract language(s), e.g. san, tam, eng or san+eng [default: the project's]
    #[arg(long = "lang")]
    pub language: Option<String>,
    /// Pages recognised at once on this computer [default: number of cores];
    /// 0 leaves them to `kdesk worker` processes.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Redo pages that already have text from the same engine and language.
    #[arg(long)]
    pub force: bool,
    /// Give up on a page after this many failed attempts.
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u32,
    /// Only these pages (comma-separated ids, e.g. 004,017): a retry.
    #[arg(long, value_delimiter = ',')]
    pub pages: Option<Vec<String>>,
    /// Page jobs out on the Redis queue at once [default: 4 per job]
    #[arg(long)]
    pub window: Option<usize>,
    /// Print the final status as JSON instead of a progress bar.
    #[arg(long)]
    pub json: bool,
}

#[derive(ClapArgs, Debug)]
pub struct StatusArgs {
    /// A project's slug; all running batches when left out.
    pub slug: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(ClapArgs, Debug)]
pub struct WorkerArgs {
    /// Pages recognised at once by this worker process [default: number of cores]
    #[arg(long)]
    pub jobs: Option<usize>,
    /// A page handed out this many times without an answer is failed for good.
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u32,
    /// Seconds a page may be held by a silent (dead) worker before another takes it.
    #[arg(long, default_value_t = 30)]
    pub claim_idle: u64,
}

#[derive(ClapArgs, Debug)]
pub struct CancelArgs {
    pub slug: String,
}

#[derive(ClapArgs, Debug)]
pub struct ImportArgs {
    /// The PDF to split into page images.
    pub pdf: PathBuf,
    /// Slug of the new project (lowercase letters, digits and '-').
    #[arg(long)]
    pub slug: String,
    /// Rendering resolution.
    #[arg(long, default_value_t = 300)]
    pub dpi: u32,
    #[arg(long)]
    pub title: Option<String>,
    /// Default OCR language of the project, e.g. san or tam.
    #[arg(long = "lang")]
    pub language: Option<String>,
}

#[derive(ClapArgs, Debug)]
pub struct JsonFlag {
    #[arg(long)]
    pub json: bool,
}
