//! `kdesk ocr <slug>`: one batch over a project, run by this process with
//! its own workers, shown as a progress bar.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use kdesk_core::{BatchRequest, Outcome, TaskStatus};

use crate::args::{Globals, OcrArgs};
use crate::commands::{open_desk, parse_slug};
use crate::{display, exit, logging};

pub async fn run(globals: &Globals, args: &OcrArgs) -> anyhow::Result<i32> {
    let desk = open_desk(globals)?;
    let slug = parse_slug(&args.slug)?;
    let request = BatchRequest {
        engine: args.engine.clone(),
        language: args.language.clone(),
        jobs: args.jobs.unwrap_or_else(kdesk_core::default_jobs),
        force: args.force,
        max_attempts: args.max_attempts,
        window: args.window,
        only_pages: args.pages.clone(),
    };
    let batch = desk.start_batch(&slug, &request).await?;

    // Say what will happen before it happens.
    let plan = batch.plan();
    let record = batch.record();
    let verb = if batch.is_resumed() { "resuming" } else { "starting" };
    eprintln!(
        "{verb} batch {} on '{}': {} ({}), {} of {} pages to recognise",
        record.task_id,
        slug,
        record.engine,
        record.language,
        plan.to_run.len(),
        plan.total
    );
    if !plan.already_done.is_empty() {
        eprintln!("  {} pages were done before the interruption", plan.already_done.len());
    }
    for (reason, count) in plan.skip_summary() {
        eprintln!("  skipping {count} pages: {reason}");
    }

    let (sender, mut receiver) = watch::channel(batch.status());
    let bar = progress_bar(args.json, &batch.status());
    let stop = CancellationToken::new();
    let running = tokio::spawn(batch.run(sender, stop.clone()));

    let bar_for_updates = bar.clone();
    let updates = tokio::spawn(async move {
        while receiver.changed().await.is_ok() {
            let status = receiver.borrow_and_update().clone();
            if let Some(bar) = &bar_for_updates {
                show(bar, &status);
            }
        }
    });

    let mut running = running;
    let status = tokio::select! {
        finished = &mut running => finished??,
        _ = interrupted() => {
            // Dropping the batch stops its Tesseract processes; every page
            // written so far is complete, and the next run resumes.
            running.abort();
            let _ = running.await;
            logging::clear_progress();
            eprintln!(
                "interrupted: pages already done are kept; `kdesk ocr {slug}` resumes, \
                 `kdesk cancel {slug}` ends the batch"
            );
            return Ok(exit::INTERRUPTED);
        }
    };
    updates.abort();
    if let Some(bar) = &bar {
        show(bar, &status);
        bar.finish();
    }

    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        println!("{}", display::status_block(&status));
    }
    Ok(match status.outcome {
        Some(Outcome::Succeeded) => 0,
        Some(Outcome::Cancelled) => exit::CANCELLED,
        _ => exit::PAGES_FAILED,
    })
}

/// Ctrl-C, or a polite request to stop (SIGTERM).
async fn interrupted() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

fn progress_bar(quiet: bool, status: &TaskStatus) -> Option<ProgressBar> {
    if quiet {
        return None;
    }
    let bar = ProgressBar::new(status.total);
    let style = ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} pages  {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("█▉▊▋▌▍▎▏ "));
    bar.enable_steady_tick(Duration::from_millis(500));
    logging::set_progress(bar.clone());
    show(&bar, status);
    Some(bar)
}

fn show(bar: &ProgressBar, status: &TaskStatus) {
    bar.set_length(status.total);
    bar.set_position(status.done + status.failed + status.skipped);
    let mut message =
        format!("{} failed · {} running · {} queued", status.failed, status.running, status.queued);
    if let Some(rate) = status.pages_per_minute {
        message.push_str(&format!(" · {rate:.1} pages/min"));
    }
    if let (Some(eta), false) = (status.eta_seconds, status.state.is_finished()) {
        message.push_str(&format!(" · {} left", display::duration(eta)));
    }
    bar.set_message(message);
}
