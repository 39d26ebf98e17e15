//! Kalanjiyam Desk, the desktop app: a thin Tauri shell over `kdesk-core`.
//!
//! The parts: [`commands`] are what the UI calls; [`events`] is what the
//! backend tells it unasked; [`batches`] runs the app's own batches and
//! [`watcher`] follows everyone's through Redis; [`updates`] is where every
//! status goes (board, UI, tray, notification); [`state`] holds it all
//! together; [`pages`] serves page images; [`tray`] keeps the app alive in
//! the tray while a batch runs. Rule: no OCR or tracking logic lives here;
//! it belongs to the core, which knows nothing of Tauri.
//!
//! [`configure`] sets up a builder for any runtime, so that the real app
//! ([`run`]) and the command tests (on Tauri's mock runtime) are the same.

// `app_commands!` names the commands by this crate's name, inside the crate too.
extern crate self as kdesk_app;

mod batches;
mod board;
pub mod commands;
mod error;
pub mod events;
mod notices;
mod pages;
pub mod settings;
mod state;
mod tray;
mod updates;
pub mod views;
mod watcher;

use tauri::{Manager, RunEvent, Runtime, WindowEvent};
use tauri_plugin_window_state::StateFlags;
use tracing::{info, warn};

pub use error::{AppError, ErrorCode, FieldError};
pub use events::AppEvent;
pub use notices::{Notice, NOTICE_LOG_FILE};
pub use settings::{Environment, Settings};
pub use state::{AppPaths, AppState};

/// Every command, for the runtime `$runtime`: the one list the invoke
/// handler and the generated bindings are made from.
#[macro_export]
macro_rules! app_commands {
    ($runtime:path) => {
        ::tauri_specta::collect_commands![
            kdesk_app::commands::app_overview,
            kdesk_app::commands::list_projects,
            kdesk_app::commands::project_detail,
            kdesk_app::commands::page_text,
            kdesk_app::commands::preview_batch,
            kdesk_app::commands::start_batch::<$runtime>,
            kdesk_app::commands::cancel_batch::<$runtime>,
            kdesk_app::commands::batch_status::<$runtime>,
            kdesk_app::commands::ongoing_batches::<$runtime>,
            kdesk_app::commands::batch_history,
            kdesk_app::commands::redis_health,
            kdesk_app::commands::get_settings,
            kdesk_app::commands::save_settings::<$runtime>,
        ]
    };
}

/// The typed bridge: commands, the one event type and shared constants.
pub fn bridge<R: Runtime>(commands: tauri_specta::Commands<R>) -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new()
        .commands(commands)
        .events(tauri_specta::collect_events![AppEvent])
        .constant("PAGE_SCHEME", pages::SCHEME)
        // Page counts and sizes stay far below 2^53.
        .dangerously_cast_bigints_to_number()
}

/// Where the UI's bindings are generated, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/lib/backend/bindings.ts";

/// Writes the UI's TypeScript bindings for `bridge` to `path`.
pub fn export_bindings<R: Runtime>(
    bridge: &tauri_specta::Builder<R>,
    path: &std::path::Path,
) -> Result<(), String> {
    let header = "// Generated from the Rust types by `cargo test -p kdesk-app bindings` \
                  (UPDATE_BINDINGS=1); do not edit.";
    bridge
        .export(specta_typescript::Typescript::default().header(header), path)
        .map_err(|error| error.to_string())
}

/// How the app starts: where its files go and what it turns on.
pub struct Launch {
    /// `None`: the platform's folders for the app's identifier.
    pub paths: Option<AppPaths>,
    pub environment: Environment,
    /// Follow Redis (off in tests that drive the board themselves).
    pub watch_redis: bool,
    /// Put an icon in the tray (needs a desktop).
    pub tray: bool,
}

impl Launch {
    /// As the installed app starts.
    pub fn desktop() -> Launch {
        Launch {
            paths: None,
            environment: Environment::from_process(),
            watch_redis: true,
            tray: true,
        }
    }
}

/// Sets up `builder` with the app's commands, state, page images and
/// window rules; used by [`run`] and by the command tests.
pub fn configure<R: Runtime>(
    builder: tauri::Builder<R>,
    bridge: tauri_specta::Builder<R>,
    launch: Launch,
) -> tauri::Builder<R> {
    builder
        .invoke_handler(bridge.invoke_handler())
        .register_asynchronous_uri_scheme_protocol(pages::SCHEME, pages::handle)
        .on_window_event(|window, event| {
            if let WindowEvent::CloseRequested { api, .. } = event {
                if window.label() == tray::MAIN_WINDOW && tray::keeps_running(window.app_handle()) {
                    api.prevent_close();
                    if let Err(error) = window.hide() {
                        warn!(%error, "could not hide the window");
                    }
                    info!("window closed while a batch runs: the app stays in the tray");
                }
            }
        })
        .setup(move |app| {
            bridge.mount_events(app);
            let paths = match launch.paths {
                Some(paths) => paths,
                None => AppPaths {
                    config_dir: app.path().app_config_dir()?,
                    data_dir: app.path().app_data_dir()?,
                    cache_dir: app.path().app_cache_dir()?,
                },
            };
            info!(
                config = %paths.config_dir.display(),
                data = %paths.data_dir.display(),
                "starting"
            );
            // Opening Redis connections needs the async runtime's context.
            let runtime = tauri::async_runtime::handle();
            let _inside = runtime.inner().enter();
            app.manage(AppState::new(paths, launch.environment));
            if launch.tray {
                if let Err(error) = tray::create(app.handle()) {
                    warn!(
                        %error,
                        "no tray icon; closing the window will quit even while a batch runs"
                    );
                }
            }
            if launch.watch_redis {
                tauri::async_runtime::spawn(watcher::watch(app.handle().clone()));
            }
            Ok(())
        })
}

/// Starts the desktop app; returns when it quits.
pub fn run() {
    init_logging();
    let builder = tauri::Builder::default()
        // First, so that a second launch goes no further than this.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            info!("second launch: showing the running app");
            tray::show_main_window(app);
        }))
        .plugin(
            tauri_plugin_window_state::Builder::new()
                .with_state_flags(StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED)
                .build(),
        )
        .plugin(tauri_plugin_notification::init());
    let app = configure(builder, bridge(app_commands!(tauri::Wry)), Launch::desktop())
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: Kalanjiyam Desk could not start: {error}");
            std::process::exit(1);
        }
    };
    app.run(|app, event| {
        // The window is gone but a batch runs: stay in the tray.
        if let RunEvent::ExitRequested { code: None, api, .. } = event {
            if tray::keeps_running(app) {
                api.prevent_exit();
            }
        }
    });
}

/// Log lines to standard error, or appended to the file `KDESK_LOG_FILE`
/// names (a desktop launch has nowhere to show standard error); `RUST_LOG`
/// chooses what is logged, lifecycle events by default.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("warn,kdesk_app=info,kdesk_core=info")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let file = std::env::var_os("KDESK_LOG_FILE").and_then(|path| {
        let opened = std::fs::OpenOptions::new().create(true).append(true).open(&path);
        match opened {
            Ok(file) => Some(file),
            Err(error) => {
                eprintln!("warning: cannot write the log to {path:?} ({error}); logging to stderr");
                None
            }
        }
    });
    match file {
        Some(file) => builder.with_ansi(false).with_writer(std::sync::Mutex::new(file)).init(),
        None => builder.init(),
    }
}
