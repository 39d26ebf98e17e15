//! `kdesk history`: finished batches of this library, from the local record.

use crate::args::{Globals, JsonFlag};
use crate::commands::open_desk;
use crate::display;

pub fn run(globals: &Globals, args: &JsonFlag) -> anyhow::Result<i32> {
    let desk = open_desk(globals)?;
    let history = desk.history(100)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&history)?);
        return Ok(0);
    }
    if history.is_empty() {
        println!("no finished batches yet");
    }
    for status in &history {
        let took = status
            .finished_at
            .zip(chrono::DateTime::parse_from_rfc3339(&status.started_at).ok())
            .map(|(end, start)| (end - start.with_timezone(&chrono::Utc)).num_seconds() as f64)
            .map(display::duration)
            .unwrap_or_default();
        println!(
            "{}  {:<24} {:<26} {} done · {} failed · {} skipped of {}  {} ({})  {}",
            status.started_at,
            status.project_slug,
            display::state(status),
            status.done,
            status.failed,
            status.skipped,
            status.total,
            status.engine,
            status.language,
            took
        );
    }
    Ok(0)
}
