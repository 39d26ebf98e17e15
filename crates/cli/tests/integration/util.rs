//! Small helpers shared by the `kdesk` tests: a temporary library with
//! corpus pages, the built binary run against it as a child process, and a
//! plain Redis connection for looking at what it wrote.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use kdesk_testkit::{copy_corpus_project, RedisServer};

/// Long enough for any batch of these tests on a busy 2-core machine.
pub const BATCH_DEADLINE: Duration = Duration::from_secs(180);

/// A temporary library folder, and a folder beside it for the children's output.
pub struct Library {
    dir: TempDir,
}

impl Library {
    pub fn new() -> Library {
        let dir = tempfile::Builder::new().prefix("kdesk-cli-test-").tempdir().expect("a temp dir");
        std::fs::create_dir(dir.path().join("library")).expect("the library folder");
        std::fs::create_dir(dir.path().join("logs")).expect("the logs folder");
        Library { dir }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("library")
    }

    pub fn project_dir(&self, slug: &str) -> PathBuf {
        self.root().join(slug)
    }

    /// Copies the first `first_n` pages (all with `None`) of corpus project
    /// `corpus_slug` into the project `slug`, whose metadata names `language`.
    pub fn add_project(
        &self,
        corpus_slug: &str,
        slug: &str,
        first_n: Option<usize>,
        language: &str,
    ) {
        let copied = copy_corpus_project(corpus_slug, &self.root(), first_n);
        let target = self.project_dir(slug);
        if copied != target {
            std::fs::rename(&copied, &target).expect("the copy can be renamed");
        }
        write_metadata(&target, slug, language);
    }

    /// `kdesk <args>` on this library, tracking in the Redis at `redis_url`.
    pub fn kdesk(&self, redis_url: &str, args: &[&str]) -> Kdesk {
        let mut command = Command::new(env!("CARGO_BIN_EXE_kdesk"));
        command
            .args(args)
            .env("KDESK_LIBRARY", self.root())
            .env("REDIS_URL", redis_url)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null());
        Kdesk { command, logs: self.dir.path().join("logs"), label: args.join(" ") }
    }
}

pub fn write_metadata(project: &Path, title: &str, language: &str) {
    let text = format!("title = \"{title}\"\nlanguage = \"{language}\"\nengine = \"tesseract\"\n");
    std::fs::write(project.join("project.toml"), text).expect("project.toml is written");
}

/// A `kdesk` command ready to run.
pub struct Kdesk {
    command: Command,
    logs: PathBuf,
    label: String,
}

impl Kdesk {
    /// Starts it; its stdout and stderr go to files, read with [`Running`].
    pub fn spawn(mut self) -> Running {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let stdout = self.logs.join(format!("{n}.stdout"));
        let stderr = self.logs.join(format!("{n}.stderr"));
        self.command
            .stdout(File::create(&stdout).expect("a stdout file"))
            .stderr(File::create(&stderr).expect("a stderr file"));
        let child = self.command.spawn().expect("kdesk starts");
        Running { child: Some(child), stdout, stderr, label: self.label }
    }

    /// Runs it to its end (within [`BATCH_DEADLINE`]).
    pub fn run(self) -> Finished {
        self.spawn().wait(BATCH_DEADLINE)
    }
}

/// A `kdesk` child process; killed if the test ends before it does.
pub struct Running {
    child: Option<Child>,
    stdout: PathBuf,
    stderr: PathBuf,
    label: String,
}

impl Running {
    /// What it wrote to stderr so far.
    pub fn stderr_so_far(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Waits for it to end; panics, with what it printed, after `deadline`.
    pub fn wait(mut self, deadline: Duration) -> Finished {
        let started = Instant::now();
        let mut child = self.child.take().expect("the child runs");
        let status = loop {
            if let Some(status) = child.try_wait().expect("the child can be polled") {
                break status;
            }
            if started.elapsed() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`kdesk {}` did not end within {deadline:?}; stderr:\n{}",
                    self.label,
                    self.stderr_so_far()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.finished(status)
    }

    /// SIGKILL, like a crash or the OOM killer; waits for it to end.
    pub fn kill(mut self) -> Finished {
        let mut child = self.child.take().expect("the child runs");
        child.kill().expect("SIGKILL is sent");
        let status = child.wait().expect("the child is reaped");
        self.finished(status)
    }

    fn finished(&self, status: ExitStatus) -> Finished {
        Finished {
            status,
            stdout: std::fs::read_to_string(&self.stdout).unwrap_or_default(),
            stderr: std::fs::read_to_string(&self.stderr).unwrap_or_default(),
            label: self.label.clone(),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A `kdesk` process that ended, with what it printed.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    label: String,
}

impl Finished {
    /// Panics, showing the output, unless it exited with `code`.
    pub fn expect_code(&self, code: i32) -> &Finished {
        assert_eq!(
            self.status.code(),
            Some(code),
            "`kdesk {}` ended with {}; stdout:\n{}\nstderr:\n{}",
            self.label,
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    /// The final status printed by `kdesk ocr --json`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("`kdesk {}` printed no JSON ({e}):\n{}", self.label, self.stdout)
        })
    }

    /// The task id from the "starting/resuming batch <id> on" line.
    pub fn task_id(&self) -> String {
        task_id_in(&self.stderr).unwrap_or_else(|| {
            panic!("no task id in the output of `kdesk {}`:\n{}", self.label, self.stderr)
        })
    }
}

/// The first `kdesk-…` task id after "batch " in `text`.
pub fn task_id_in(text: &str) -> Option<String> {
    let start = text.find("batch kdesk-")? + "batch ".len();
    let id: String = text[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    Some(id)
}

/// Ids of the pages with a committed output (`ocr/<id>.json`), sorted.
pub fn done_pages(project: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(project.join("ocr")) else {
        return Vec::new();
    };
    let mut ids: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_string))
        .collect();
    ids.sort();
    ids
}

/// The parsed `ocr/<id>.json` of a page.
pub fn output_meta(project: &Path, page_id: &str) -> serde_json::Value {
    let path = project.join("ocr").join(format!("{page_id}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read '{}': {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("'{}' is not JSON: {e}", path.display()))
}

/// A plain connection to `server`, for inspecting and seeding keys.
pub fn connect(server: &RedisServer) -> redis::Connection {
    let connection =
        server.client().get_connection_with_timeout(Duration::from_secs(5)).expect("redis answers");
    connection.set_read_timeout(Some(Duration::from_secs(10))).expect("a read timeout");
    connection
}

/// The task id in the project's `ocr_task` record, if there is one.
pub fn running_task_id(redis: &mut redis::Connection, slug: &str) -> Option<String> {
    let raw: Option<String> =
        redis::cmd("GET").arg(format!("ocr_task:{slug}")).query(redis).ok().flatten();
    let value: serde_json::Value = serde_json::from_str(&raw?).ok()?;
    value["task_id"].as_str().map(str::to_string)
}

/// A field of the task hash `kdesk:task:<task_id>`.
pub fn task_field(redis: &mut redis::Connection, task_id: &str, field: &str) -> Option<String> {
    redis::cmd("HGET")
        .arg(format!("kdesk:task:{task_id}"))
        .arg(field)
        .query(redis)
        .expect("HGET answers")
}

/// Polls `check` every 20 ms until it gives a value, panicking with `what`
/// after `deadline`.
pub fn wait_for<T>(what: &str, deadline: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = check() {
            return value;
        }
        if started.elapsed() > deadline {
            panic!("gave up after {deadline:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback URL on which nothing listens (the port was free a moment ago).
pub fn closed_redis_url(password: Option<&str>) -> String {
    let port = kdesk_testkit::free_port();
    match password {
        Some(password) => format!("redis://:{password}@127.0.0.1:{port}/0"),
        None => format!("redis://127.0.0.1:{port}/0"),
    }
}
