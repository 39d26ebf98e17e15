//! Running one process and measuring it from outside: wall time, CPU,
//! peak memory, and when it started and ended on the wall clock.
//!
//! The child is reaped with `wait4`, which gives its rusage. Its
//! `ru_maxrss` is the peak of the child *and* the descendants it waited
//! for, so for `kdesk` (whose Tesseract runs are its children) it says
//! nothing about `kdesk` itself; [`Measured::own_peak_kb`] does, read from
//! `VmHWM` in `/proc/<pid>/status` while the process runs. Rule: every
//! child started here is reaped here, so none is left behind.

use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};

/// How often the high-water mark of a running process is read.
const HWM_POLL: Duration = Duration::from_millis(20);

/// What one finished process cost.
#[derive(Clone, Debug, Serialize)]
pub struct Measured {
    /// Seconds from just before spawn to the return of `wait4`.
    pub wall: f64,
    /// CPU seconds of the process and its reaped descendants.
    pub user: f64,
    pub sys: f64,
    /// Peak resident set of the process or its largest reaped descendant.
    pub max_rss_kb: u64,
    /// Peak resident set of the process alone, when it was watched.
    pub own_peak_kb: Option<u64>,
    /// Exit code, or minus the signal that ended it.
    pub exit: i32,
    /// Unix time (seconds) of the spawn and of the reaping.
    pub started_unix: f64,
    pub ended_unix: f64,
}

/// A started child and what is needed to measure it when it ends.
pub struct Running {
    child: Child,
    name: String,
    started: Instant,
    started_unix: f64,
    watch: Option<(Arc<AtomicBool>, thread::JoinHandle<Option<u64>>)>,
}

/// Seconds since the Unix epoch, as a float.
pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Starts `command`; with `watch_memory`, its own peak RSS is followed.
pub fn start(command: &mut Command, watch_memory: bool) -> Result<Running> {
    let name = command.get_program().to_string_lossy().into_owned();
    let started_unix = unix_now();
    let started = Instant::now();
    let child = command.spawn().map_err(|e| {
        let message =
            format!("could not start '{name}': {e}; check that it is installed and built");
        Error::with_source(ErrorKind::Process, message, e)
    })?;
    let watch = watch_memory.then(|| {
        let done = Arc::new(AtomicBool::new(false));
        let pid = child.id();
        let flag = done.clone();
        (done, thread::spawn(move || follow_peak(pid, &flag)))
    });
    Ok(Running { child, name, started, started_unix, watch })
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to end and measures it.
    pub fn wait(self) -> Result<Measured> {
        let pid = self.child.id() as libc::pid_t;
        let (status, usage) = wait4(pid).map_err(|e| {
            let message = format!("could not wait for '{}' (pid {pid}): {e}", self.name);
            Error::with_source(ErrorKind::Process, message, e)
        })?;
        let wall = self.started.elapsed().as_secs_f64();
        let own_peak_kb = match self.watch {
            Some((done, handle)) => {
                done.store(true, Ordering::SeqCst);
                handle.join().ok().flatten()
            }
            None => None,
        };
        let exit = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -libc::WTERMSIG(status)
        };
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Ok(Measured {
            wall,
            user: seconds(usage.ru_utime),
            sys: seconds(usage.ru_stime),
            max_rss_kb: usage.ru_maxrss.max(0) as u64,
            own_peak_kb,
            exit,
            started_unix: self.started_unix,
            ended_unix: self.started_unix + wall,
        })
    }

    /// Sends `signal` to this process only (by its pid).
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) with the pid of our own unreaped child.
        let sent = unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        if sent != 0 {
            tracing::warn!(pid = self.child.id(), signal, "could not signal a child");
        }
    }
}

/// Starts `command`, waits for it, and measures it.
pub fn run(command: &mut Command, watch_memory: bool) -> Result<Measured> {
    start(command, watch_memory)?.wait()
}

/// Like [`run`], but a non-zero exit is an error quoting the end of `log`.
pub fn run_ok(command: &mut Command, watch_memory: bool, log: &Path) -> Result<Measured> {
    let measured = run(command, watch_memory)?;
    if measured.exit != 0 {
        let tail = std::fs::read_to_string(log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(8).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        let message = format!(
            "'{}' exited with {}; the end of its log '{}':\n{}",
            command.get_program().to_string_lossy(),
            measured.exit,
            log.display(),
            tail.join("\n")
        );
        return Err(Error::new(ErrorKind::Process, message));
    }
    Ok(measured)
}

fn wait4(pid: libc::pid_t) -> std::io::Result<(libc::c_int, libc::rusage)> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: rusage is plain data; wait4 fills it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: valid pointers to locals, pid of our own child.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            return Ok((status, usage));
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Reads `VmHWM` of `pid` until `done` or until the process is gone; the
/// last value read is its peak so far (the mark only rises).
fn follow_peak(pid: u32, done: &AtomicBool) -> Option<u64> {
    let path = format!("/proc/{pid}/status");
    let mut peak = None;
    while !done.load(Ordering::SeqCst) {
        match high_water_mark_kb(&path) {
            Some(kb) => peak = Some(kb),
            None => break,
        }
        thread::sleep(HWM_POLL);
    }
    peak
}

fn high_water_mark_kb(path: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
