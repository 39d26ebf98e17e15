//! A private `redis-server` per test, on a free loopback port.
//!
//! [`RedisServer`] starts the system's `redis-server` directly (no shell) in
//! its own temporary folder, waits until it answers, and kills it when
//! dropped. Fault tests use it to kill, freeze and restart the server under
//! the code they test. What the server stores, and how clients reconnect,
//! is left to the tests.
//!
//! Rule: the server counts as up only when the process that answers PING is
//! our own child (its `process_id` matches), never merely when something
//! answers on the port, because ports are shared with other tests.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::port::free_port;

/// The program started; found on `PATH`.
const PROGRAM: &str = "redis-server";

/// How long a start or restart may take before PING must answer.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many fresh ports a start tries when another process takes its port.
const START_ATTEMPTS: u32 = 5;

/// Pause between two readiness probes.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Connect and reply timeout of one readiness probe.
const PROBE_TIMEOUT: Duration = Duration::from_millis(250);

/// How long `pause` waits for the kernel to report the process stopped.
const STOP_TIMEOUT: Duration = Duration::from_secs(2);

/// The server's own log, in its folder; appended to across restarts.
const LOG_FILE: &str = "redis.log";

/// How many lines of the log a failure message quotes.
const LOG_TAIL_LINES: usize = 15;

/// A real `redis-server` on a free loopback port, in its own temp dir,
/// stopped (killed) on drop.
///
/// ## Behavior
/// - [`start`](Self::start) keeps nothing on disk; data lives until the
///   process ends. [`start_with_persistence`](Self::start_with_persistence)
///   writes an append-only file, so data survives [`restart`](Self::restart).
/// - [`stop`](Self::stop) is a hard kill (SIGKILL), like a crash: nothing is
///   flushed by the server on the way out.
/// - [`pause`](Self::pause) freezes the process (SIGSTOP): connections stay
///   open and commands hang until [`resume`](Self::resume).
/// - The port and the folder stay the same for the life of the value.
#[derive(Debug)]
pub struct RedisServer {
    /// Loopback port, chosen at start and kept by every restart.
    port: u16,
    /// The running server process; `None` after `stop` until `restart`.
    child: Option<Child>,
    /// Whether the server keeps an append-only file in `dir`.
    persistence: bool,
    /// Working folder holding the log and any data files; removed on drop,
    /// after the process is killed.
    dir: TempDir,
}

/// Why one launch of the process did not come up.
#[derive(Debug)]
enum LaunchFailure {
    /// The process ended before answering, most often because the port was
    /// taken.
    Exited(ExitStatus),
    /// The process ran but did not answer PING in time; it has been killed.
    TimedOut,
}

impl RedisServer {
    /// Starts a server that keeps nothing on disk (`--save ""`,
    /// `--appendonly no`) and waits until it answers PING.
    ///
    /// Panics if `redis-server` is not installed, or if it does not come up
    /// within 10 seconds on any of a few fresh ports.
    pub fn start() -> RedisServer {
        Self::start_with(false)
    }

    /// Starts a server with `--appendonly yes`, so its data survives
    /// [`restart`](Self::restart) and [`stop`](Self::stop).
    pub fn start_with_persistence() -> RedisServer {
        Self::start_with(true)
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The loopback port; the same before and after restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server at once (SIGKILL, no shutdown) and waits for it to
    /// end. Does nothing if it is already stopped.
    pub fn stop(&mut self) {
        if self.kill_child() {
            tracing::info!(port = self.port, "redis-server killed");
        }
    }

    /// Freezes the server (SIGSTOP): it keeps its connections but answers
    /// nothing until [`resume`](Self::resume). Returns once the kernel
    /// reports the process stopped.
    pub fn pause(&mut self) {
        let pid = self.running_pid("pause");
        send_signal(pid, libc::SIGSTOP);

        let deadline = Instant::now() + STOP_TIMEOUT;
        while !is_stopped(pid) {
            if Instant::now() >= deadline {
                panic!("redis-server (pid {pid}) did not stop within {STOP_TIMEOUT:?} of SIGSTOP");
            }
            thread::sleep(Duration::from_millis(1));
        }
        tracing::info!(port = self.port, pid, "redis-server paused");
    }

    /// Wakes a server frozen by [`pause`](Self::pause) (SIGCONT).
    pub fn resume(&mut self) {
        let pid = self.running_pid("resume");
        send_signal(pid, libc::SIGCONT);
        tracing::info!(port = self.port, pid, "redis-server resumed");
    }

    /// Kills the server if it runs, then starts it again on the same port
    /// and in the same folder, and waits until it answers PING.
    ///
    /// Panics if the port stays taken by another process, or the server
    /// does not answer, for 10 seconds.
    pub fn restart(&mut self) {
        self.kill_child();

        // Another process may hold the port for a moment; keep trying the
        // same port until the deadline, since callers rely on it.
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.launch(deadline) {
                Ok(()) => break,
                Err(LaunchFailure::Exited(status)) if Instant::now() < deadline => {
                    tracing::debug!(
                        port = self.port,
                        %status,
                        "redis-server exited on restart; retrying"
                    );
                    thread::sleep(Duration::from_millis(100));
                }
                Err(failure) => self.fail("restart", failure),
            }
        }
        tracing::info!(port = self.port, "redis-server restarted");
    }

    /// Whether the process is alive; a paused server counts as running.
    pub fn is_running(&mut self) -> bool {
        let Some(child) = self.child.as_mut() else {
            return false;
        };
        match child.try_wait() {
            Ok(None) => true,
            Ok(Some(_)) | Err(_) => {
                self.child = None;
                false
            }
        }
    }

    /// A client for [`url`](Self::url); connecting is left to the caller.
    pub fn client(&self) -> redis::Client {
        redis::Client::open(self.url())
            .unwrap_or_else(|e| panic!("'{}' is not a valid redis url ({e})", self.url()))
    }

    fn start_with(persistence: bool) -> RedisServer {
        let dir = tempfile::Builder::new()
            .prefix("kdesk-redis-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder for redis-server ({e})"));
        let mut server = RedisServer { port: 0, child: None, persistence, dir };

        // The free port may be taken before the server binds it; then the
        // server exits at once and another port is tried.
        let mut attempt = 1;
        loop {
            server.port = free_port();
            match server.launch(Instant::now() + READY_TIMEOUT) {
                Ok(()) => break,
                Err(LaunchFailure::Exited(status)) if attempt < START_ATTEMPTS => {
                    tracing::debug!(
                        port = server.port,
                        attempt,
                        %status,
                        "redis-server exited at start; trying another port"
                    );
                    attempt += 1;
                }
                Err(failure) => server.fail("start", failure),
            }
        }
        tracing::info!(
            port = server.port,
            persistence,
            dir = %server.dir.path().display(),
            "redis-server started"
        );
        server
    }

    /// Spawns the process on `self.port` and waits until it answers as
    /// itself, or ends, or `deadline` passes.
    fn launch(&mut self, deadline: Instant) -> Result<(), LaunchFailure> {
        let mut child = self.spawn();
        let pid = child.id();
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Err(LaunchFailure::Exited(status)),
                Ok(None) => {}
                Err(e) => panic!("cannot poll redis-server (pid {pid}) ({e})"),
            }
            if answering_pid(self.port) == Some(pid) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() >= deadline {
                // Best effort: the failure is reported either way.
                let _ = child.kill();
                let _ = child.wait();
                return Err(LaunchFailure::TimedOut);
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    fn spawn(&self) -> Child {
        let log = self.open_log();
        let log_for_stderr = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot share '{}' ({e})", self.log_path().display()));
        let appendonly = if self.persistence { "yes" } else { "no" };

        let mut command = Command::new(PROGRAM);
        command
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--daemonize", "no", "--save", ""])
            .args(["--appendonly", appendonly])
            .arg("--dir")
            .arg(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_for_stderr);
        match command.spawn() {
            Ok(child) => child,
            Err(e) if e.kind() == io::ErrorKind::NotFound => panic!(
                "'{PROGRAM}' was not found on PATH; install it with \
                 `apt-get install redis-server` (or run scripts/install-deps.sh)"
            ),
            Err(e) => panic!("cannot start '{PROGRAM}' ({e})"),
        }
    }

    /// Kills and reaps the child, if any; says whether there was one.
    fn kill_child(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        // SIGKILL also ends a stopped process, so a paused server needs no
        // SIGCONT first. An error means it had already ended.
        if let Err(e) = child.kill() {
            tracing::debug!(port = self.port, error = %e, "redis-server was already gone");
        }
        if let Err(e) = child.wait() {
            tracing::warn!(port = self.port, error = %e, "cannot reap redis-server");
        }
        true
    }

    /// The pid of the live child; panics naming `action` if there is none.
    fn running_pid(&mut self, action: &str) -> u32 {
        if self.is_running() {
            if let Some(child) = &self.child {
                return child.id();
            }
        }
        panic!(
            "cannot {action} redis-server on port {}: it is not running; restart it first",
            self.port
        );
    }

    /// Panics with the reason and the end of the server's log.
    fn fail(&mut self, action: &str, failure: LaunchFailure) -> ! {
        self.kill_child();
        let reason = match failure {
            LaunchFailure::Exited(status) => format!("it exited ({status})"),
            LaunchFailure::TimedOut => format!("it did not answer PING within {READY_TIMEOUT:?}"),
        };
        let log = self.log_path();
        panic!(
            "redis-server did not {action} on 127.0.0.1:{}: {reason}; its log '{}' ends with:\n{}",
            self.port,
            log.display(),
            log_tail(&log)
        );
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(LOG_FILE)
    }

    fn open_log(&self) -> File {
        let path = self.log_path();
        OpenOptions::new().create(true).append(true).open(&path).unwrap_or_else(|e| {
            panic!("cannot open '{}' for redis-server's log ({e})", path.display())
        })
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill_child();
    }
}

/// The `process_id` of the server answering PING on `port`, if any answers.
fn answering_pid(port: u16) -> Option<u32> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0")).ok()?;
    let mut con = client.get_connection_with_timeout(PROBE_TIMEOUT).ok()?;
    con.set_read_timeout(Some(PROBE_TIMEOUT)).ok()?;
    con.set_write_timeout(Some(PROBE_TIMEOUT)).ok()?;

    // While loading its data the server answers PING with an error.
    let pong: String = redis::cmd("PING").query(&mut con).ok()?;
    if pong != "PONG" {
        return None;
    }
    let info: redis::InfoDict = redis::cmd("INFO").arg("server").query(&mut con).ok()?;
    info.get("process_id")
}

fn send_signal(pid: u32, signal: libc::c_int) {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        panic!("pid {pid} does not fit in pid_t");
    };
    // SAFETY: kill(2) reads no memory of ours. `pid` is our own child, not
    // yet reaped (callers checked with try_wait), so it names no other
    // process.
    let rc = unsafe { libc::kill(raw, signal) };
    if rc != 0 {
        let error = io::Error::last_os_error();
        panic!("cannot send signal {signal} to redis-server (pid {pid}) ({error})");
    }
}

/// Whether Linux reports `pid` as stopped by a signal (state `T`).
fn is_stopped(pid: u32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The command name in parentheses may hold spaces; the state follows it.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next())
        .is_some_and(|state| state == 'T')
}

fn log_tail(path: &Path) -> String {
    match fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(LOG_TAIL_LINES);
            lines[from..].join("\n")
        }
        Err(e) => format!("(cannot read it: {e})"),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, TcpListener};

    use super::*;

    fn connect(server: &RedisServer) -> redis::Connection {
        let con = server.client().get_connection_with_timeout(Duration::from_secs(2)).unwrap();
        con.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        con
    }

    fn ping(con: &mut redis::Connection) -> redis::RedisResult<String> {
        redis::cmd("PING").query(con)
    }

    #[test]
    fn start_answers_ping_and_stop_ends_it() {
        let mut server = RedisServer::start();
        assert_eq!(server.url(), format!("redis://127.0.0.1:{}/0", server.port()));
        assert!(server.is_running());
        assert_eq!(ping(&mut connect(&server)).unwrap(), "PONG");

        server.stop();
        assert!(!server.is_running());
        let refused = server.client().get_connection_with_timeout(Duration::from_secs(1));
        assert!(refused.is_err(), "a stopped server still accepted a connection");

        // A second stop is harmless.
        server.stop();
    }

    #[test]
    fn without_persistence_nothing_is_written_and_restart_loses_data() {
        let mut server = RedisServer::start();
        let port = server.port();
        let mut con = connect(&server);
        redis::cmd("SET").arg("k").arg("v").exec(&mut con).unwrap();

        server.restart();
        assert_eq!(server.port(), port, "restart moved the server to another port");
        let mut con = connect(&server);
        let value: Option<String> = redis::cmd("GET").arg("k").query(&mut con).unwrap();
        assert_eq!(value, None);
        assert!(!server.dir.path().join("appendonlydir").exists());
        assert!(!server.dir.path().join("dump.rdb").exists());
    }

    #[test]
    fn persistent_server_keeps_a_key_across_restart() {
        let mut server = RedisServer::start_with_persistence();
        let port = server.port();
        let mut con = connect(&server);
        redis::cmd("SET").arg("k").arg("kept").exec(&mut con).unwrap();

        server.restart();
        assert_eq!(server.port(), port);
        let mut con = connect(&server);
        let value: Option<String> = redis::cmd("GET").arg("k").query(&mut con).unwrap();
        assert_eq!(value.as_deref(), Some("kept"));
    }

    #[test]
    fn restart_after_stop_comes_back_on_the_same_port() {
        let mut server = RedisServer::start();
        let port = server.port();
        server.stop();
        server.restart();
        assert!(server.is_running());
        assert_eq!(server.port(), port);
        assert_eq!(ping(&mut connect(&server)).unwrap(), "PONG");
    }

    #[test]
    fn pause_makes_a_command_time_out_and_resume_answers_again() {
        let mut server = RedisServer::start();
        let mut con = connect(&server);
        assert_eq!(ping(&mut con).unwrap(), "PONG");

        server.pause();
        assert!(server.is_running(), "a paused server must still count as running");
        let timeout = Duration::from_millis(300);
        con.set_read_timeout(Some(timeout)).unwrap();
        let started = Instant::now();
        let error = ping(&mut con).expect_err("a frozen server answered PING");
        assert!(error.is_timeout(), "expected a timeout, got: {error}");
        assert!(started.elapsed() >= timeout - Duration::from_millis(50));

        server.resume();
        assert_eq!(ping(&mut connect(&server)).unwrap(), "PONG");
    }

    #[test]
    fn stop_ends_a_paused_server() {
        let mut server = RedisServer::start();
        server.pause();
        server.stop();
        assert!(!server.is_running());
        server.restart();
        assert_eq!(ping(&mut connect(&server)).unwrap(), "PONG");
    }

    #[test]
    #[should_panic(expected = "it is not running")]
    fn pause_of_a_stopped_server_panics() {
        let mut server = RedisServer::start();
        server.stop();
        server.pause();
    }

    #[test]
    fn drop_kills_the_server() {
        let server = RedisServer::start();
        let client = server.client();
        let dir = server.dir.path().to_path_buf();
        drop(server);
        assert!(client.get_connection_with_timeout(Duration::from_secs(1)).is_err());
        assert!(!dir.exists(), "the server's folder outlived it");
    }

    #[test]
    fn two_servers_get_their_own_ports() {
        let a = RedisServer::start();
        let b = RedisServer::start();
        assert_ne!(a.port(), b.port());
        let mut con_a = connect(&a);
        redis::cmd("SET").arg("who").arg("a").exec(&mut con_a).unwrap();
        let value: Option<String> = redis::cmd("GET").arg("who").query(&mut connect(&b)).unwrap();
        assert_eq!(value, None);
    }

    #[test]
    fn a_taken_port_is_reported_as_an_exit_not_as_success() {
        // Another server answers PING on the port: it must not be taken for
        // ours, whose process exits because it cannot bind.
        let other = RedisServer::start();
        let mut server = RedisServer::start();
        server.kill_child();
        server.port = other.port();
        let failure = server.launch(Instant::now() + Duration::from_secs(5));
        assert!(matches!(failure, Err(LaunchFailure::Exited(_))), "{failure:?}");

        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        server.port = listener.local_addr().unwrap().port();
        let failure = server.launch(Instant::now() + Duration::from_secs(5));
        assert!(matches!(failure, Err(LaunchFailure::Exited(_))), "{failure:?}");
    }
}
