//! Criterion benchmark of a status look-up against the number of tracked
//! tasks: `kdesk`'s `Tracker::status` (one EVALSHA) beside the original's
//! scan of every `ocr_task:*` key, on a private `redis-server`.
//!
//! Run with `cargo bench -p kdesk-bench --bench status`; set
//! `KDESK_BENCH_QUICK=1` for 10, 1,000 and 10,000 tasks instead of
//! 100,000 at the top. The scan at the top size takes seconds per look-up,
//! so it is sampled flat, ten times.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};

use kdesk_bench::status::{scan_lookup, seed, tracker, tracker_lookup, Picker};

fn sizes() -> Vec<usize> {
    if std::env::var_os("KDESK_BENCH_QUICK").is_some_and(|v| v == "1") {
        vec![10, 1_000, 10_000]
    } else {
        vec![10, 1_000, 100_000]
    }
}

fn status(c: &mut Criterion) {
    let server = kdesk_testkit::RedisServer::start();
    let mut connection = server.client().get_connection().expect("connect to the bench redis");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let tracker = {
        let _inside = runtime.enter();
        tracker(&server.url()).expect("kdesk's tracker")
    };

    let mut group = c.benchmark_group("status");
    for tasks in sizes() {
        let ids = seed(&mut connection, tasks).expect("seed the tasks");
        let mut picker = Picker::new(tasks as u64);
        group.sampling_mode(SamplingMode::Auto);
        group.sample_size(100);
        group.measurement_time(Duration::from_secs(3));
        group.bench_with_input(BenchmarkId::new("tracker", tasks), &ids, |b, ids| {
            b.iter(|| {
                let id = &ids[picker.below(ids.len())];
                runtime.block_on(tracker_lookup(&tracker, black_box(id))).expect("a status")
            })
        });

        // The scan costs about a GET per tracked task: sample it flat.
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(10);
        let per_lookup = Duration::from_micros(60 * tasks as u64 / 2);
        group.measurement_time((per_lookup * 12).max(Duration::from_secs(2)));
        group.bench_with_input(BenchmarkId::new("scan", tasks), &ids, |b, ids| {
            b.iter(|| {
                let id = &ids[picker.below(ids.len())];
                let (slug, _trips) = scan_lookup(&mut connection, black_box(id)).expect("a scan");
                assert!(slug.is_some(), "the scan did not find {id}");
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500));
    targets = status
}
criterion_main!(benches);
