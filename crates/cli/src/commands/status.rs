//! `kdesk status [<slug>]`: running batches, from Redis or this computer's record.

use crate::args::{Globals, StatusArgs};
use crate::commands::{open_desk, parse_slug};
use crate::display;

pub async fn run(globals: &Globals, args: &StatusArgs) -> anyhow::Result<i32> {
    let desk = open_desk(globals)?;
    if let Some(slug) = &args.slug {
        let slug = parse_slug(slug)?;
        let status = desk.status(&slug).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&status)?);
        } else {
            match status {
                Some(status) => println!("{}", display::status_block(&status)),
                None => println!("no batch is running on '{slug}'"),
            }
        }
        return Ok(0);
    }

    let (statuses, redis_error) = desk.ongoing().await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&statuses)?);
    } else {
        if let Some(error) = &redis_error {
            eprintln!("warning: {error}; showing this computer's record only");
        }
        if statuses.is_empty() {
            println!("no batch is running");
        }
        for status in &statuses {
            println!("{}", display::status_block(status));
        }
    }
    Ok(0)
}
