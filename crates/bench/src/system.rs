//! The machine a run happened on, and how busy other programs kept it.
//!
//! Other load is measured as BASELINE.md did, without `top`: the CPU time
//! the whole machine spent busy (from `/proc/stat`) minus the CPU time of
//! this process, its reaped children and our Redis server, over the wall
//! time and the cores. Rule: a section's figure is only as good as the
//! reaping; every child must be reaped before [`LoadSampler::finish`].

use std::process::Command;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// What the report says about the machine and the software measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    pub date: String,
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub os: String,
    pub kernel: String,
    pub tesseract: String,
    pub redis: String,
    pub kdesk_commit: String,
    pub load_average_at_start: String,
}

impl Machine {
    pub fn describe() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|line| line.starts_with("model name"))
            .and_then(|line| line.split(':').nth(1))
            .map(|name| name.trim().to_string())
            .unwrap_or_else(|| "unknown".to_string());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kb: f64 = meminfo
            .lines()
            .find(|line| line.starts_with("MemTotal:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse().ok())
            .unwrap_or(0.0);
        let os = std::fs::read_to_string("/etc/os-release")
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("PRETTY_NAME="))
            .map(|name| name.trim_matches('"').to_string())
            .unwrap_or_else(|| "unknown".to_string());
        Machine {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            cpu,
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            memory_gib: (memory_kb / 1024.0 / 1024.0 * 10.0).round() / 10.0,
            os,
            kernel: first_line("uname", &["-r"]),
            tesseract: first_line("tesseract", &["--version"]),
            redis: first_line("redis-server", &["--version"]),
            kdesk_commit: first_line("git", &["rev-parse", "--short", "HEAD"]),
            load_average_at_start: load_average(),
        }
    }
}

/// `/proc/loadavg`'s three averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn first_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|output| {
            let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
            text.push_str(&String::from_utf8_lossy(&output.stderr));
            text.lines().next().unwrap_or("").trim().to_string()
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Busy CPU of the whole machine against our own, over one section.
pub struct LoadSampler {
    started: Instant,
    machine_busy: f64,
    ours: f64,
    redis: f64,
    redis_pid: Option<u32>,
}

/// How busy the machine was with other programs during a section.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OtherLoad {
    /// Percent of all cores used by processes that are not ours.
    pub other_cpu_percent: f64,
    pub load_average_after: String,
}

impl LoadSampler {
    /// Starts a section; `redis_pid` is our server, whose CPU is ours too.
    pub fn start(redis_pid: Option<u32>) -> LoadSampler {
        LoadSampler {
            started: Instant::now(),
            machine_busy: machine_busy_seconds(),
            ours: own_cpu_seconds(),
            redis: redis_pid.map(process_cpu_seconds).unwrap_or(0.0),
            redis_pid,
        }
    }

    pub fn finish(&self) -> OtherLoad {
        let wall = self.started.elapsed().as_secs_f64();
        let busy = machine_busy_seconds() - self.machine_busy;
        let ours = own_cpu_seconds() - self.ours;
        let redis = self.redis_pid.map(process_cpu_seconds).unwrap_or(0.0) - self.redis;
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) as f64;
        let other = ((busy - ours - redis) / (wall * cores) * 100.0).max(0.0);
        OtherLoad {
            other_cpu_percent: (other * 10.0).round() / 10.0,
            load_average_after: load_average(),
        }
    }
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 {
        ticks as f64
    } else {
        100.0
    }
}

/// Busy (not idle, not waiting on I/O) CPU seconds of all cores since boot.
fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else {
        return 0.0;
    };
    let fields: Vec<f64> =
        line.split_whitespace().skip(1).filter_map(|field| field.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal
    let busy: f64 = fields
        .iter()
        .enumerate()
        .filter(|(index, _)| *index != 3 && *index != 4 && *index < 8)
        .map(|(_, ticks)| ticks)
        .sum();
    busy / clock_ticks()
}

/// CPU seconds of this process and of its reaped children.
fn own_cpu_seconds() -> f64 {
    let usage = |who| {
        // SAFETY: rusage is plain data, filled by getrusage.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: a valid pointer to a local.
        unsafe { libc::getrusage(who, &mut usage) };
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        seconds(usage.ru_utime) + seconds(usage.ru_stime)
    };
    usage(libc::RUSAGE_SELF) + usage(libc::RUSAGE_CHILDREN)
}

/// utime + stime of a running process, from `/proc/<pid>/stat`.
fn process_cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces; fields are counted after its ')'.
    let Some(after) = stat.rfind(')').map(|end| &stat[end + 1..]) else {
        return 0.0;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|f| f.parse::<f64>().ok());
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / clock_ticks(),
        _ => 0.0,
    }
}
