//! Kalanjiyam Desk: everything lives in the library crate; see `kdesk_app::run`.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    kdesk_app::run();
}
