//! The report: every figure of a run in one serialisable [`Report`]
//! (`raw.json`), and the Markdown tables made from it (`report.md`).
//!
//! Rule: derived figures (pages per minute, ratios, shares) are computed
//! here from the raw figures and nowhere else, so the JSON and the tables
//! cannot disagree.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::corpus::Project;
use crate::overhead::{Breakdown, RedisCost};
use crate::quality::Cer;
use crate::scaleout::ScaleRun;
use crate::stats::Summary;
use crate::status::StatusFigures;
use crate::system::{Machine, OtherLoad};
use crate::throughput::{Mode, ProjectRun};

/// A project as benchmarked.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProjectInfo {
    pub slug: String,
    pub language: String,
    pub pages: usize,
    pub bytes: u64,
}

impl ProjectInfo {
    pub fn of(project: &Project) -> ProjectInfo {
        ProjectInfo {
            slug: project.slug.clone(),
            language: project.language.clone(),
            pages: project.pages.len(),
            bytes: project.bytes(),
        }
    }
}

/// Text quality of one project in each mode (from the first repetition).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QualityRow {
    pub slug: String,
    pub cer: BTreeMap<Mode, Cer>,
    /// Pages whose text is byte-identical in A and B.
    pub identical_a_b: usize,
    pub pages: usize,
}

/// Criterion's estimate for one benchmark, read from its `estimates.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CriterionEstimate {
    pub id: String,
    pub median_us: f64,
    pub low_us: f64,
    pub high_us: f64,
}

/// Everything one run measured.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub quick: bool,
    pub machine: Machine,
    pub repetitions: usize,
    /// Pages at once in A and C (`kdesk`'s default: one per core).
    pub jobs: usize,
    pub projects: Vec<ProjectInfo>,
    pub throughput: Vec<ProjectRun>,
    pub quality: Vec<QualityRow>,
    pub profile: Vec<Breakdown>,
    pub redis_cost: Vec<RedisCost>,
    pub status: Vec<StatusFigures>,
    pub criterion: Vec<CriterionEstimate>,
    pub scaleout: Vec<ScaleRun>,
    /// Other programs' CPU during each section.
    pub other_load: BTreeMap<String, OtherLoad>,
    /// Runs that failed a correctness check, with why; the others went on.
    #[serde(default)]
    pub failures: Vec<String>,
    pub total_seconds: f64,
}

/// Pages per minute of one mode in one repetition, over all projects.
fn rate(runs: &[ProjectRun], mode: Mode, rep: usize) -> Option<f64> {
    let chosen: Vec<&ProjectRun> = runs.iter().filter(|r| r.mode == mode && r.rep == rep).collect();
    if chosen.is_empty() {
        return None;
    }
    let pages: usize = chosen.iter().map(|r| r.pages).sum();
    let wall: f64 = chosen.iter().map(|r| r.wall).sum();
    Some(pages as f64 * 60.0 / wall)
}

impl Report {
    fn reps_of(&self, mode: Mode) -> Vec<usize> {
        let mut reps: Vec<usize> =
            self.throughput.iter().filter(|r| r.mode == mode).map(|r| r.rep).collect();
        reps.sort_unstable();
        reps.dedup();
        reps
    }

    /// Pages per minute of `mode`, one figure per repetition.
    pub fn rates(&self, mode: Mode) -> Summary {
        let rates: Vec<f64> = self
            .reps_of(mode)
            .into_iter()
            .filter_map(|rep| rate(&self.throughput, mode, rep))
            .collect();
        Summary::of(&rates)
    }

    /// `A / other` per repetition, pairing runs of the same repetition.
    pub fn ratio(&self, other: Mode) -> Summary {
        let ratios: Vec<f64> = self
            .reps_of(Mode::A)
            .into_iter()
            .filter_map(|rep| {
                Some(rate(&self.throughput, Mode::A, rep)? / rate(&self.throughput, other, rep)?)
            })
            .collect();
        Summary::of(&ratios)
    }

    /// Share of A's core-seconds outside Tesseract, by `kdesk`'s own page times.
    pub fn a_outside_share(&self) -> f64 {
        self.outside_share(Mode::A)
    }

    /// Share of a parallel mode's core-seconds with no Tesseract running:
    /// `1 - sum(page seconds) / (sum(wall) * jobs)`.
    pub fn outside_share(&self, mode: Mode) -> f64 {
        let runs: Vec<&ProjectRun> = self.throughput.iter().filter(|r| r.mode == mode).collect();
        let busy: f64 = runs.iter().flat_map(|r| r.page_seconds.iter()).sum();
        let slots: f64 = runs.iter().map(|r| r.wall * self.jobs as f64).sum();
        if slots == 0.0 {
            return 0.0;
        }
        1.0 - busy / slots
    }

    /// Mean Tesseract seconds per page in a mode, over all its runs.
    fn mean_page_seconds(&self, mode: Mode) -> f64 {
        let seconds: Vec<f64> = self
            .throughput
            .iter()
            .filter(|r| r.mode == mode)
            .flat_map(|r| r.page_seconds.iter().copied())
            .collect();
        seconds.iter().sum::<f64>() / seconds.len().max(1) as f64
    }

    fn median_wall(&self, mode: Mode, slug: &str) -> Option<f64> {
        let walls: Vec<f64> = self
            .throughput
            .iter()
            .filter(|r| r.mode == mode && r.slug == slug)
            .map(|r| r.wall)
            .collect();
        (!walls.is_empty()).then(|| Summary::of(&walls).median)
    }

    /// Steady gap per page hand-over over all profiled projects, and the
    /// share of a page's time it is.
    pub fn steady_gap(&self) -> (f64, f64) {
        let gaps: f64 = self.profile.iter().map(|b| b.gaps).sum();
        let handovers: usize = self.profile.iter().map(|b| b.handovers).sum();
        let busy: f64 = self.profile.iter().map(|b| b.busy).sum();
        let pages: usize = self.profile.iter().map(|b| b.pages).sum();
        let gap = gaps / handovers.max(1) as f64;
        let page = busy / pages.max(1) as f64;
        (gap, if page > 0.0 { gap / page } else { 0.0 })
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        self.write_header(&mut out);
        self.write_throughput(&mut out);
        self.write_overhead(&mut out);
        self.write_status(&mut out);
        self.write_scaleout(&mut out);
        self.write_memory(&mut out);
        self.write_targets(&mut out);
        if !self.failures.is_empty() {
            out.push_str("## Failed runs\n\n");
            for failure in &self.failures {
                out.push_str(&format!("- {}\n", failure.replace('\n', " ")));
            }
            out.push('\n');
        }
        out
    }

    fn write_header(&self, out: &mut String) {
        let m = &self.machine;
        let kind = if self.quick { "quick (`--quick`)" } else { "full" };
        out.push_str("# kdesk benchmark report\n\n");
        out.push_str(&format!(
            "Run: {kind}, {}, {} repetition(s), {} pages at once in A and C, {:.0} s in all.\n\n",
            m.date, self.repetitions, self.jobs, self.total_seconds
        ));
        out.push_str("| machine | |\n|---|---|\n");
        out.push_str(&format!("| CPU | {} × {} |\n", m.cores, m.cpu));
        out.push_str(&format!("| memory | {} GiB |\n", m.memory_gib));
        out.push_str(&format!("| system | {}, kernel {} |\n", m.os, m.kernel));
        out.push_str(&format!("| tesseract | {} |\n| redis | {} |\n", m.tesseract, m.redis));
        out.push_str(&format!("| kdesk commit | {} |\n", m.kdesk_commit));
        out.push_str(&format!("| load average at start | {} |\n\n", m.load_average_at_start));
        out.push_str("Other programs' CPU during each section (percent of all cores; ");
        out.push_str("the machine's busy time minus ours and our Redis's):\n\n");
        out.push_str("| section | other CPU | load average after |\n|---|---|---|\n");
        for (section, load) in &self.other_load {
            out.push_str(&format!(
                "| {section} | {:.1} % | {} |\n",
                load.other_cpu_percent, load.load_average_after
            ));
        }
        out.push('\n');
        out.push_str("| project | language | pages | bytes |\n|---|---|---|---|\n");
        for p in &self.projects {
            out.push_str(&format!("| {} | {} | {} | {} |\n", p.slug, p.language, p.pages, p.bytes));
        }
        out.push('\n');
    }

    fn write_throughput(&self, out: &mut String) {
        out.push_str("## 1. Throughput\n\n");
        out.push_str("Pages per minute over all projects (total pages / total wall time), ");
        out.push_str("one figure per repetition; each project run from a cold start.\n\n");
        out.push_str("| mode | what | runs | pages/min median | min – max | spread ± |\n");
        out.push_str("|---|---|---|---|---|---|\n");
        for mode in [Mode::A, Mode::B, Mode::B0, Mode::C] {
            let rates = self.rates(mode);
            if rates.count == 0 {
                continue;
            }
            out.push_str(&format!(
                "| {mode:?} | {} | {} | **{:.1}** | {:.1} – {:.1} | {:.1} % |\n",
                mode.describe(),
                rates.count,
                rates.median,
                rates.min,
                rates.max,
                rates.spread_percent()
            ));
        }
        out.push('\n');
        for (name, other) in [("A/B", Mode::B), ("A/C", Mode::C), ("A/B0", Mode::B0)] {
            let ratio = self.ratio(other);
            if ratio.count == 0 {
                continue;
            }
            out.push_str(&format!(
                "- **{name} = {:.2}** (min {:.2}, max {:.2}, {} paired repetition(s))\n",
                ratio.median, ratio.min, ratio.max, ratio.count
            ));
        }
        out.push_str(&format!(
            "- A's core-seconds outside Tesseract (1 − Σ kdesk's page seconds / (wall × {})): \
             **{:.1} %**; C's by the same measure (its idle tail): {:.1} %\n",
            self.jobs,
            self.a_outside_share() * 100.0,
            self.outside_share(Mode::C) * 100.0
        ));
        let (a, c) = (self.mean_page_seconds(Mode::A), self.mean_page_seconds(Mode::C));
        if a > 0.0 && c > 0.0 {
            out.push_str(&format!(
                "- Mean Tesseract time per page: {a:.3} s inside A (txt + tsv, `--psm 3`) \
                 against {c:.3} s in C (txt), {:+.1} %\n",
                (a / c - 1.0) * 100.0
            ));
        }
        out.push_str("\nMedian wall seconds per project:\n\n");
        out.push_str("| project | pages | A | B | B0 | C | A/C | A − C |\n");
        out.push_str("|---|---|---|---|---|---|---|---|\n");
        let cell = |value: Option<f64>| value.map(|v| format!("{v:.2}")).unwrap_or("–".into());
        for p in &self.projects {
            let (a, c) = (self.median_wall(Mode::A, &p.slug), self.median_wall(Mode::C, &p.slug));
            let (ratio, extra) = match (a, c) {
                (Some(a), Some(c)) => (format!("{:.2}", c / a), format!("{:+.2}", a - c)),
                _ => ("–".into(), "–".into()),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {ratio} | {extra} |\n",
                p.slug,
                p.pages,
                cell(a),
                cell(self.median_wall(Mode::B, &p.slug)),
                cell(self.median_wall(Mode::B0, &p.slug)),
                cell(c)
            ));
        }
        out.push_str(
            "\nText quality: CER against the ground truth (first repetition of each mode).\n\n",
        );
        out.push_str("| project | B | A | C | B0 | A − B (points) | pages A = B byte for byte |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        let mut totals: BTreeMap<Mode, Cer> = BTreeMap::new();
        let mut identical = (0, 0);
        for row in &self.quality {
            let show = |mode: Mode| {
                row.cer.get(&mode).map(|c| format!("{:.2} %", c.percent())).unwrap_or("–".into())
            };
            for (mode, cer) in &row.cer {
                totals.entry(*mode).or_default().add(cer);
            }
            identical = (identical.0 + row.identical_a_b, identical.1 + row.pages);
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:+.2} | {} / {} |\n",
                row.slug,
                show(Mode::B),
                show(Mode::A),
                show(Mode::C),
                show(Mode::B0),
                self.cer_gap(&row.cer),
                row.identical_a_b,
                row.pages
            ));
        }
        let show = |mode: Mode| {
            totals.get(&mode).map(|c| format!("{:.2} %", c.percent())).unwrap_or("–".into())
        };
        out.push_str(&format!(
            "| **all** | {} | {} | {} | {} | {:+.2} | {} / {} |\n\n",
            show(Mode::B),
            show(Mode::A),
            show(Mode::C),
            show(Mode::B0),
            self.cer_gap(&totals),
            identical.0,
            identical.1
        ));
    }

    fn cer_gap(&self, cer: &BTreeMap<Mode, Cer>) -> f64 {
        match (cer.get(&Mode::A), cer.get(&Mode::B)) {
            (Some(a), Some(b)) => a.percent() - b.percent(),
            _ => 0.0,
        }
    }

    fn write_overhead(&self, out: &mut String) {
        out.push_str("## 2. Cost around the OCR\n\n");
        out.push_str("Profile pass (Tesseract shim logs each run; one run per project). ");
        out.push_str("Idle figures are core-seconds: a slot with no Tesseract running.\n\n");
        out.push_str("| project | pages | wall s | start-up s (probes) | ramp-up idle | ");
        out.push_str("steady gap / page | tail idle | shut-down s | outside Tesseract |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|\n");
        for b in &self.profile {
            out.push_str(&format!(
                "| {} | {} | {:.2} | {:.3} ({:.3}) | {:.2} | {:.1} ms ({:.2} % of {:.2} s) | {:.2} | {:.3} | {:.1} % |\n",
                b.slug,
                b.pages,
                b.wall,
                b.startup,
                b.probes,
                b.ramp,
                b.gap_per_page() * 1000.0,
                b.gap_per_page() / b.page_time().max(1e-9) * 100.0,
                b.page_time(),
                b.tail,
                b.shutdown,
                b.outside_share() * 100.0
            ));
        }
        let (gap, share) = self.steady_gap();
        out.push_str(&format!(
            "\nSteady state over all projects: **{:.1} ms outside Tesseract per page \
             hand-over = {:.2} % of a page's time**.\n\n",
            gap * 1000.0,
            share * 100.0
        ));
        let fixed: f64 = self.profile.iter().map(|b| b.startup + b.shutdown).sum();
        let shutdown: f64 = self.profile.iter().map(|b| b.shutdown).sum();
        let trail: f64 = self
            .projects
            .iter()
            .filter_map(|p| {
                Some(self.median_wall(Mode::A, &p.slug)? - self.median_wall(Mode::C, &p.slug)?)
            })
            .sum();
        if !self.profile.is_empty() {
            out.push_str(&format!(
                "Fixed cost per batch: start-up plus shut-down add up to {fixed:.2} s over the \
                 {} projects (shut-down alone {shutdown:.2} s), against {trail:.2} s by which \
                 A's median project times trail C's in total.\n\n",
                self.profile.len()
            ));
        }
        out.push_str("Redis traffic of one `kdesk ocr` per project (counted with MONITOR; ");
        out.push_str("a MULTI…EXEC block is one round trip; idle polls included):\n\n");
        out.push_str("| project | pages | wall s | commands | round trips | round trips / page | ");
        out.push_str("commands by name |\n|---|---|---|---|---|---|---|\n");
        for cost in &self.redis_cost {
            let mut names: Vec<(&String, &u64)> = cost.counted.by_command.iter().collect();
            names.sort_by(|a, b| b.1.cmp(a.1));
            let names: Vec<String> = names.iter().map(|(n, c)| format!("{n} {c}")).collect();
            out.push_str(&format!(
                "| {} | {} | {:.2} | {} | {} | {:.1} | {} |\n",
                cost.slug,
                cost.pages,
                cost.wall,
                cost.counted.commands,
                cost.counted.round_trips,
                cost.counted.round_trips as f64 / cost.pages.max(1) as f64,
                names.join(", ")
            ));
        }
        out.push('\n');
    }

    fn write_status(&self, out: &mut String) {
        out.push_str("### Status look-up against tracked tasks\n\n");
        out.push_str("`Tracker::status` (kdesk) beside the original's look-up (SCAN MATCH ");
        out.push_str("`ocr_task:*` + GET each + compare task_id, stopping at the match), ");
        out.push_str("random tasks, same Redis. p99 is the largest sample below 100 samples.\n\n");
        out.push_str("| tasks | status median | status p99 | status round trips | samples | ");
        out.push_str("scan median | scan p99 | scan round trips (median) | samples |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|\n");
        for s in &self.status {
            out.push_str(&format!(
                "| {} | **{}** | {} | {:.1} | {} | {} | {} | {:.0} | {} |\n",
                s.tasks,
                micros(s.status_us.median),
                micros(s.status_us.p99),
                s.status_round_trips,
                s.status_us.count,
                micros(s.scan_us.median),
                micros(s.scan_us.p99),
                s.scan_round_trips.median,
                s.scan_us.count
            ));
        }
        if !self.criterion.is_empty() {
            out.push_str("\nCriterion (`cargo bench -p kdesk-bench --bench status`), median with ");
            out.push_str(
                "its 95 % interval:\n\n| benchmark | median | interval |\n|---|---|---|\n",
            );
            for estimate in &self.criterion {
                out.push_str(&format!(
                    "| {} | {} | {} – {} |\n",
                    estimate.id,
                    micros(estimate.median_us),
                    micros(estimate.low_us),
                    micros(estimate.high_us)
                ));
            }
        }
        out.push('\n');
    }

    fn write_scaleout(&self, out: &mut String) {
        out.push_str("## 3. Scale-out\n\n");
        out.push_str("Projects submitted with `kdesk ocr --jobs 0` (the owner recognises ");
        out.push_str("nothing); their pages taken by N `kdesk worker --jobs 1` processes on ");
        out.push_str("one Redis, started and ready beforehand. *One by one*: each batch starts ");
        out.push_str("when the previous ends. *All at once*: every batch starts together ");
        out.push_str("(three pages each), so each worker reads several job streams.\n\n");
        out.push_str("| batches | workers | runs | pages | pages/min median | min – max | ");
        out.push_str("pages per worker (each run) | lost | done twice | claimed after idle |\n");
        out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
        let mut keys: Vec<(String, usize)> =
            self.scaleout.iter().map(|r| (format!("{:?}", r.submission), r.workers)).collect();
        keys.dedup();
        for (submission, workers) in keys {
            let runs: Vec<&ScaleRun> = self
                .scaleout
                .iter()
                .filter(|r| format!("{:?}", r.submission) == submission && r.workers == workers)
                .collect();
            let rates: Vec<f64> = runs.iter().map(|r| r.pages_per_minute).collect();
            let rates = Summary::of(&rates);
            let split: Vec<String> = runs.iter().map(|r| format!("{:?}", r.per_worker)).collect();
            let name = if submission == "OneByOne" { "one by one" } else { "all at once" };
            out.push_str(&format!(
                "| {name} | {workers} | {} | {} | **{:.1}** | {:.1} – {:.1} | {} | {} | {} | {} |\n",
                runs.len(),
                runs.first().map(|r| r.pages).unwrap_or(0),
                rates.median,
                rates.min,
                rates.max,
                split.join(" "),
                runs.iter().map(|r| r.lost).sum::<usize>(),
                runs.iter().map(|r| r.twice).sum::<usize>(),
                runs.iter().map(|r| r.reclaimed).sum::<usize>()
            ));
        }
        out.push('\n');
    }

    fn largest_project(&self) -> Option<&ProjectInfo> {
        self.projects.iter().max_by_key(|p| (p.bytes, p.pages))
    }

    fn write_memory(&self, out: &mut String) {
        out.push_str("## 4. Memory (peak RSS)\n\n");
        let Some(largest) = self.largest_project() else {
            return;
        };
        let a_runs = self.throughput.iter().filter(|r| r.mode == Mode::A && r.slug == largest.slug);
        let kdesk_own = a_runs.clone().filter_map(|r| r.own_peak_kb).max().unwrap_or(0);
        let kdesk_tree = a_runs.map(|r| r.max_rss_kb).max().unwrap_or(0);
        let worker = self.scaleout.iter().flat_map(|r| r.worker_peak_kb.iter()).max().copied();
        let tesseract_here = self
            .throughput
            .iter()
            .filter(|r| r.mode == Mode::B && r.slug == largest.slug)
            .map(|r| r.max_rss_kb)
            .max()
            .unwrap_or(0);
        let tesseract_any = self
            .throughput
            .iter()
            .filter(|r| r.mode == Mode::B)
            .map(|r| r.max_rss_kb)
            .max()
            .unwrap_or(0);
        out.push_str("| process | peak RSS |\n|---|---|\n");
        out.push_str(&format!(
            "| `kdesk ocr {}` (largest project), the process itself | **{}** |\n",
            largest.slug,
            mib(kdesk_own)
        ));
        out.push_str(&format!(
            "| the same, largest of it and its Tesseract children (wait4) | {} |\n",
            mib(kdesk_tree)
        ));
        if let Some(worker) = worker {
            out.push_str(&format!(
                "| one `kdesk worker --jobs 1`, the process itself | **{}** |\n",
                mib(worker)
            ));
        }
        out.push_str(&format!(
            "| one Tesseract process, largest page of {} | **{}** |\n",
            largest.slug,
            mib(tesseract_here)
        ));
        out.push_str(&format!(
            "| one Tesseract process, any corpus page | {} |\n\n",
            mib(tesseract_any)
        ));
    }

    fn write_targets(&self, out: &mut String) {
        out.push_str("## Targets (2 cores)\n\n| target | measured | met |\n|---|---|---|\n");
        let mut row = |target: &str, measured: String, met: Option<bool>| {
            let verdict = match met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "(for comparison)",
            };
            out.push_str(&format!("| {target} | {measured} | {verdict} |\n"));
        };
        let ab = self.ratio(Mode::B);
        let ac = self.ratio(Mode::C);
        row("A/B ≥ 1.8", format!("{:.2}", ab.median), Some(ab.median >= 1.8));
        row("A/C ≥ 1.0 (aim > 1.1)", format!("{:.2}", ac.median), Some(ac.median >= 1.0));
        let (gap, share) = self.steady_gap();
        row(
            "time outside Tesseract < 2 % of a page's time (steady state)",
            format!("{:.2} % ({:.1} ms)", share * 100.0, gap * 1000.0),
            Some(share < 0.02),
        );
        row(
            "idle core time over whole batches (start-up, ramp-up, tail, shut-down)",
            format!(
                "A {:.1} %, C {:.1} %",
                self.a_outside_share() * 100.0,
                self.outside_share(Mode::C) * 100.0
            ),
            None,
        );
        if let (Some(first), Some(last)) = (self.status.first(), self.status.last()) {
            let constant = (first.status_round_trips - last.status_round_trips).abs() < 1e-9;
            row(
                "status: constant round trips",
                format!(
                    "{:.1} at {} tasks, {:.1} at {}",
                    first.status_round_trips, first.tasks, last.status_round_trips, last.tasks
                ),
                Some(constant),
            );
            row(
                &format!("status median < 1 ms at {} tasks", last.tasks),
                micros(last.status_us.median),
                Some(last.status_us.median < 1000.0),
            );
            row(
                "scan look-up grows with the tasks",
                format!("{} → {}", micros(first.scan_us.median), micros(last.scan_us.median)),
                Some(last.scan_us.median > first.scan_us.median * 10.0),
            );
        }
        let lost: usize = self.scaleout.iter().map(|r| r.lost + r.twice).sum();
        row(
            "scale-out: nothing lost or done twice",
            format!("{lost} pages, {} failed runs", self.failures.len()),
            Some(lost == 0 && self.failures.is_empty()),
        );
        out.push('\n');
    }
}

fn micros(us: f64) -> String {
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

fn mib(kb: u64) -> String {
    format!("{:.1} MiB", kb as f64 / 1024.0)
}

/// Criterion's medians for the status benchmarks under `dir`
/// (`target/criterion`), if they were run.
pub fn read_criterion(dir: &Path) -> Vec<CriterionEstimate> {
    let mut estimates = Vec::new();
    let group = dir.join("status");
    for function in ["tracker", "scan"] {
        let Ok(entries) = std::fs::read_dir(group.join(function)) else {
            continue;
        };
        let mut sizes: Vec<(u64, std::path::PathBuf)> = entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let size = entry.file_name().to_string_lossy().parse::<u64>().ok()?;
                Some((size, entry.path()))
            })
            .collect();
        sizes.sort();
        for (size, path) in sizes {
            let file = path.join("new").join("estimates.json");
            let Ok(bytes) = std::fs::read(&file) else {
                continue;
            };
            let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
                continue;
            };
            let median = &value["median"];
            let ns = |v: &serde_json::Value| v.as_f64().unwrap_or(0.0) / 1000.0;
            estimates.push(CriterionEstimate {
                id: format!("status/{function}/{size} tasks"),
                median_us: ns(&median["point_estimate"]),
                low_us: ns(&median["confidence_interval"]["lower_bound"]),
                high_us: ns(&median["confidence_interval"]["upper_bound"]),
            });
        }
    }
    estimates
}
