//! The page time limit kills Tesseract and leaves nothing behind; the child
//! runs with OMP_THREAD_LIMIT=1. Alone in its own test binary, so that every
//! child process seen is this test's.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kdesk_ocr::ErrorKind;

/// The children of this process, with their command names.
fn children() -> Vec<(u32, String)> {
    let me = std::process::id();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …"; comm may hold spaces, so split after ')'.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let comm = stat[stat.find('(').map_or(0, |i| i + 1)..close].to_string();
        let ppid = stat[close + 1..].split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(me) {
            found.push((pid, comm));
        }
    }
    found
}

#[test]
fn timeout_kills_tesseract_and_leaves_no_process_or_files() {
    // A private temporary folder, set before any thread starts, so the
    // page's working folder can be checked for leftovers.
    let tmp = tempfile::tempdir().expect("a temporary folder");
    std::env::set_var("TMPDIR", tmp.path());
    // Tesseract must get OMP_THREAD_LIMIT=1 from us, not inherit it.
    std::env::remove_var("OMP_THREAD_LIMIT");

    // Probe the engine first: its probes are tesseract children too.
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let engine = runtime.block_on(common::engine()).with_page_timeout(Duration::from_millis(200));
    // 3312x2550, about 2 s of OCR.
    let bytes = common::read(&common::corpus().join("projects/en-mixed-scans/pages/003.tif"));

    // Watch this process's children from a plain thread while the page runs,
    // noting for each look at a tesseract's environment whether it had
    // OMP_THREAD_LIMIT=1.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut seen = BTreeSet::new();
            let mut environments = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                for (pid, comm) in children() {
                    if comm != "tesseract" {
                        continue;
                    }
                    seen.insert(pid);
                    // A process being killed reads as an empty environment.
                    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
                    if !env.is_empty() {
                        environments
                            .push(env.split(|&b| b == 0).any(|var| var == b"OMP_THREAD_LIMIT=1"));
                    }
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            (seen, environments)
        })
    };

    let started = Instant::now();
    let result = runtime.block_on(engine.recognise(&bytes, None, "eng", "003.tif"));
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (seen, environments) = watcher.join().expect("the watcher thread");

    let err = result.expect_err("200 ms is far too short for this page");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(
        err.to_string(),
        "page '003.tif' took longer than 0.2 s; raise --page-timeout or check the scan"
    );
    assert!(!err.is_permanent());
    assert!(elapsed < Duration::from_secs(1), "the kill took {elapsed:?}");

    // The tesseract process was seen, and is gone (killed and reaped).
    assert!(!seen.is_empty(), "no tesseract child was ever seen");
    assert!(!environments.is_empty(), "no tesseract environment was read");
    assert!(
        environments.iter().all(|&one_thread| one_thread),
        "tesseract ran without OMP_THREAD_LIMIT=1 (4-6x slower)"
    );
    for pid in &seen {
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "tesseract {pid} is still there");
    }
    assert!(children().is_empty(), "children left: {:?}", children());

    // The page's temporary folder was removed.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).expect("readable").flatten().collect();
    assert!(left.is_empty(), "left in the temporary folder: {left:?}");
}
