//! `kdesk cancel <slug>`: asks a batch to stop.

use crate::args::{CancelArgs, Globals};
use crate::commands::{open_desk, parse_slug};

pub async fn run(globals: &Globals, args: &CancelArgs) -> anyhow::Result<i32> {
    let desk = open_desk(globals)?;
    let slug = parse_slug(&args.slug)?;
    let status = desk.cancel(&slug).await?;
    if status.state.is_finished() {
        println!("cancelled batch {} on '{}' (its process was gone)", status.task_id, slug);
    } else {
        println!(
            "asked batch {} on '{}' to stop: no more pages are handed out, {} running finish first",
            status.task_id, slug, status.running
        );
    }
    Ok(0)
}
