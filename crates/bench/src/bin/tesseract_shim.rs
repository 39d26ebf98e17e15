//! `kdesk-bench-tesseract-shim`: stands in for `tesseract` in the
//! benchmark's profile pass (`KDESK_TESSERACT` names it), runs the real
//! program with the same arguments, environment and standard streams, and
//! appends one line per run to a log: start and end (Unix seconds), exit
//! code, and what the run was (`page`, or the probe flag such as
//! `--version`). Those lines let the benchmark tell the time inside
//! Tesseract from the time around it.
//!
//! It needs `KDESK_BENCH_REAL_TESSERACT` (the real program) and
//! `KDESK_BENCH_SHIM_LOG` (the log). Rule: it changes nothing Tesseract
//! sees, and exits with Tesseract's own exit code.

use std::io::Write;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let (Some(real), Some(log)) =
        (std::env::var_os("KDESK_BENCH_REAL_TESSERACT"), std::env::var_os("KDESK_BENCH_SHIM_LOG"))
    else {
        eprintln!(
            "kdesk-bench-tesseract-shim: set KDESK_BENCH_REAL_TESSERACT and KDESK_BENCH_SHIM_LOG; \
             this program is only run by kdesk-bench"
        );
        std::process::exit(2);
    };
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let kind = args
        .first()
        .map(|first| first.to_string_lossy().into_owned())
        .filter(|first| first.starts_with("--"))
        .unwrap_or_else(|| "page".to_string());

    let started = now();
    let status = Command::new(&real).args(&args).status();
    let ended = now();
    let code = match &status {
        Ok(status) => status.code().unwrap_or(1),
        Err(error) => {
            eprintln!("kdesk-bench-tesseract-shim: cannot run {real:?}: {error}");
            127
        }
    };

    // One write per line, O_APPEND: lines of parallel runs do not mix.
    let line = format!("{started:.6} {ended:.6} {code} {kind}\n");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = written {
        eprintln!("kdesk-bench-tesseract-shim: cannot write {log:?}: {error}");
    }
    std::process::exit(code);
}

fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}
