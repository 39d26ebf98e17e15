//! The tray icon, and the window's life around it: closing the window while
//! a batch runs hides the app to the tray; with nothing running it quits.
//!
//! On Linux the tray reports no clicks, so everything it offers is in its
//! menu: a line of progress, Show and Quit. Rule: Quit is the one way out
//! while a batch runs; the app's batches stop with it and are resumed at
//! the next launch.

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime, WebviewWindowBuilder};
use tracing::{info, warn};

use crate::state::AppState;
use crate::updates::project_title;

/// The main window's label, as in tauri.conf.json.
pub const MAIN_WINDOW: &str = "main";

/// The tray's parts that change with progress.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    progress: MenuItem<R>,
}

/// Puts the icon in the tray.
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let progress = MenuItem::with_id(app, "progress", "No batch running", false, None::<&str>)?;
    let show = MenuItem::with_id(app, "show", "Show Kalanjiyam Desk", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let menu = Menu::with_items(app, &[&progress, &separator, &show, &quit])?;
    let mut builder = TrayIconBuilder::with_id("main")
        .tooltip("Kalanjiyam Desk")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "show" => show_main_window(app),
            "quit" => {
                info!("quit chosen in the tray");
                app.exit(0);
            }
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    let icon = builder.build(app)?;
    app.manage(Tray { icon, progress });
    refresh(app);
    Ok(())
}

/// Shows the progress of running batches in the tray, if there is one.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.try_state::<Tray<R>>() else {
        return;
    };
    let line = progress_line(app);
    if let Err(error) = tray.progress.set_text(&line) {
        warn!(%error, "tray menu not updated");
    }
    let _ = tray.icon.set_tooltip(Some(&line));
}

fn progress_line<R: Runtime>(app: &AppHandle<R>) -> String {
    let state = app.state::<AppState>();
    let ongoing = state.board().ongoing();
    match ongoing.as_slice() {
        [] => "No batch running".to_string(),
        [one] => format!(
            "{}: {:.0}% ({} of {} pages)",
            project_title(&state, &one.project_slug),
            one.percent,
            one.done + one.failed + one.skipped,
            one.total
        ),
        many => {
            let parts: Vec<String> =
                many.iter().map(|s| format!("{} {:.0}%", s.project_slug, s.percent)).collect();
            format!("{} batches: {}", many.len(), parts.join(", "))
        }
    }
}

/// Brings the main window back (making it again if it was destroyed).
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    let window = match app.get_webview_window(MAIN_WINDOW) {
        Some(window) => window,
        None => {
            let Some(config) = app.config().app.windows.iter().find(|w| w.label == MAIN_WINDOW)
            else {
                return;
            };
            match WebviewWindowBuilder::from_config(app, config).and_then(|b| b.build()) {
                Ok(window) => window,
                Err(error) => {
                    warn!(%error, "could not open the window again");
                    return;
                }
            }
        }
    };
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
}

/// Whether closing the window should keep the app running in the tray.
pub fn keeps_running<R: Runtime>(app: &AppHandle<R>) -> bool {
    let state = app.state::<AppState>();
    let running = state.own_runs_count() > 0 || state.board().any_of_ours_running();
    running
}
