//! The app's commands through Tauri's mock runtime: no display, no WebKit,
//! but the real invoke path (IPC, capabilities), the real core, a real
//! `redis-server` on a free port, real Tesseract on real corpus pages.
//!
//! These tests pin the JSON the UI receives: the keys of each result, and
//! errors as exactly `{code, message}` (plus `fields` for settings).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Listener, Manager, WebviewWindow};

use kdesk_app::{AppPaths, Environment, Launch, Settings};
use kdesk_testkit::{copy_corpus_project, RedisServer};

/// The project every test works on: two Sanskrit pages.
const SLUG: &str = "san-tulasi-scan";
const TITLE: &str = "तुलसीविवाहविधिः";

/// How long a batch of two small pages may take, with room for a busy machine.
const BATCH_TIMEOUT: Duration = Duration::from_secs(60);

struct TestApp {
    /// Kept alive for the test's length.
    _app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
    events: mpsc::Receiver<Value>,
    library: PathBuf,
    data_dir: PathBuf,
    _dirs: tempfile::TempDir,
}

fn start_app(redis_url: &str, workers: u32) -> TestApp {
    let dirs = tempfile::tempdir().unwrap();
    let library = dirs.path().join("library");
    std::fs::create_dir_all(&library).unwrap();
    let project = copy_corpus_project(SLUG, &library, Some(2));
    let metadata = format!("title = \"{TITLE}\"\nlanguage = \"san\"\n");
    std::fs::write(project.join("project.toml"), metadata).unwrap();

    let paths = AppPaths {
        config_dir: dirs.path().join("config"),
        data_dir: dirs.path().join("data"),
        cache_dir: dirs.path().join("cache"),
    };
    Settings { workers: Some(workers), ..Settings::default() }.save(&paths.config_dir).unwrap();
    let launch = Launch {
        paths: Some(paths.clone()),
        environment: Environment {
            redis_url: Some(redis_url.to_string()),
            library: Some(library.clone()),
        },
        watch_redis: true,
        tray: false,
    };
    let bridge = kdesk_app::bridge::<MockRuntime>(kdesk_app::app_commands!(MockRuntime));
    let mut app = kdesk_app::configure(mock_builder(), bridge, launch)
        .build(tauri::generate_context!())
        .unwrap();
    // One turn of the event loop runs the setup hook, which also opens the
    // main window from tauri.conf.json.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let window = app.get_webview_window("main").expect("the main window");
    let (sender, events) = mpsc::channel();
    app.listen_any("app-event", move |event| {
        let _ = sender.send(serde_json::from_str(event.payload()).unwrap_or(Value::Null));
    });
    TestApp { _app: app, window, events, library, data_dir: paths.data_dir, _dirs: dirs }
}

impl TestApp {
    /// Calls a command as the UI does; `Err` holds the error's JSON.
    fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: command.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().unwrap(),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window, request).map(|body| body.deserialize::<Value>().unwrap())
    }

    fn ok(&self, command: &str, args: Value) -> Value {
        self.invoke(command, args).unwrap_or_else(|error| panic!("{command} failed: {error}"))
    }

    /// Waits for an event matching `wanted`, returning it.
    fn wait_event(&self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + BATCH_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) if wanted(&event) => return event,
                Ok(_) => continue,
                Err(_) => panic!("no event for {what} within {BATCH_TIMEOUT:?}"),
            }
        }
    }

    /// Waits until `command` answers with a value matching `wanted`.
    fn wait_for(&self, command: &str, args: Value, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + BATCH_TIMEOUT;
        loop {
            let answer = self.invoke(command, args.clone());
            if let Ok(value) = &answer {
                if wanted(value) {
                    return value.clone();
                }
            }
            assert!(Instant::now() < deadline, "{command} never matched; last: {answer:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn sent_notices(&self) -> Value {
        let path = self.data_dir.join(kdesk_app::NOTICE_LOG_FILE);
        std::fs::read(path).map(|b| serde_json::from_slice(&b).unwrap()).unwrap_or(json!([]))
    }
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value.as_object().unwrap().keys().map(String::as_str).collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

const STATUS_KEYS: &[&str] = &[
    "task_id",
    "project_slug",
    "engine",
    "language",
    "started_at",
    "state",
    "outcome",
    "total",
    "done",
    "failed",
    "skipped",
    "running",
    "queued",
    "percent",
    "pages_per_minute",
    "mean_page_seconds",
    "eta_seconds",
    "failed_pages",
    "finished_at",
    "owner",
    "source",
    "interrupted",
];

fn is_finished_update(event: &Value, task_id: &str) -> bool {
    event["kind"] == "task_updated"
        && event["status"]["task_id"] == task_id
        && ["SUCCESS", "FAILURE", "CANCELLED"].contains(&event["status"]["state"].as_str().unwrap())
}

#[test]
fn project_list_and_detail_have_the_pinned_shape() {
    let redis = RedisServer::start();
    let app = start_app(&redis.url(), 1);

    let projects = app.ok("list_projects", json!({}));
    let project = &projects[0];
    assert_eq!(
        keys(project),
        set(&["slug", "title", "pages", "language", "engine", "last_batch", "running"])
    );
    assert_eq!(project["slug"], SLUG);
    assert_eq!(project["title"], TITLE);
    assert_eq!(project["pages"], 2);
    assert_eq!(project["language"], "san");
    assert_eq!(project["last_batch"], Value::Null);
    assert_eq!(project["running"], Value::Null);

    let detail = app.ok("project_detail", json!({ "slug": SLUG }));
    assert_eq!(keys(&detail), set(&["project", "pages"]));
    let page = &detail["pages"][0];
    assert_eq!(
        keys(page),
        set(&[
            "id",
            "file_name",
            "frame",
            "state",
            "engine",
            "language",
            "confidence",
            "words",
            "finished_at",
            "failure"
        ])
    );
    assert_eq!(page["id"], "001");
    assert_eq!(page["file_name"], "001.tif");
    assert_eq!(page["state"], "not_done");

    let overview = app.ok("app_overview", json!({}));
    assert_eq!(keys(&overview), set(&["version", "host", "library", "library_problem", "redis"]));
    assert_eq!(overview["library"], app.library.display().to_string());
    assert_eq!(overview["library_problem"], Value::Null);
}

#[test]
fn errors_are_a_code_and_a_message() {
    let redis = RedisServer::start();
    let app = start_app(&redis.url(), 1);

    let error = app.invoke("project_detail", json!({ "slug": "no-such-book" })).unwrap_err();
    assert_eq!(keys(&error), set(&["code", "message"]));
    assert_eq!(error["code"], "not_found");
    let message = error["message"].as_str().unwrap();
    assert!(message.starts_with("no project 'no-such-book' in library"), "{message}");

    let error = app.invoke("project_detail", json!({ "slug": "Not A Slug!" })).unwrap_err();
    assert_eq!(error["code"], "invalid_slug");

    let error = app.invoke("page_text", json!({ "slug": SLUG, "pageId": "001" })).unwrap_err();
    assert_eq!(
        error,
        json!({
            "code": "not_found",
            "message": format!(
                "page '001' of '{SLUG}' has no text yet; run OCR on the project first"
            ),
        })
    );

    let options =
        json!({ "engine": null, "language": "xx-none", "force": false, "only_pages": null });
    let error =
        app.invoke("preview_batch", json!({ "slug": SLUG, "options": options })).unwrap_err();
    assert_eq!(keys(&error), set(&["code", "message"]));
    assert_eq!(error["code"], "ocr");
    assert!(error["message"].as_str().unwrap().contains("'xx-none'"), "{error}");

    let error = app.invoke("cancel_batch", json!({ "slug": SLUG })).unwrap_err();
    assert_eq!(error["code"], "task_not_found");
}

#[test]
fn settings_refuse_bad_values_field_by_field_and_never_show_the_password() {
    let redis = RedisServer::start();
    let app = start_app(&redis.url(), 1);

    let view = app.ok("get_settings", json!({}));
    assert_eq!(view["redis_url"], redis.url());
    assert_eq!(view["redis_url_from"], "environment");
    assert_eq!(view["workers"], 1);
    assert!(view["languages"].as_array().unwrap().iter().any(|l| l == "san"), "{view}");

    let bad = json!({ "input": {
        "redis_url": "http://example.org",
        "library": "/no/such/kdesk/library",
        "default_engine": "tesseract",
        "default_language": "san",
        "workers": "many",
    }});
    let error = app.invoke("save_settings", bad).unwrap_err();
    assert_eq!(keys(&error), set(&["code", "message", "fields"]));
    assert_eq!(error["code"], "invalid_settings");
    let fields: Vec<&str> =
        error["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["redis_url", "library", "workers"]);
    assert_eq!(keys(&error["fields"][0]), set(&["field", "message"]));

    // A password is kept but never sent back.
    let with_password = format!("redis://:hunter2@127.0.0.1:{}/0", redis.port());
    let good = json!({ "input": {
        "redis_url": with_password,
        "library": app.library.display().to_string(),
        "default_engine": "tesseract",
        "default_language": "",
        "workers": "1",
    }});
    let saved = app.ok("save_settings", good);
    assert_eq!(saved["redis_url"], format!("redis://***@127.0.0.1:{}/0", redis.port()));
    assert_eq!(saved["redis_url_from"], "settings");
    assert!(!saved.to_string().contains("hunter2"));
    let again = app.ok("get_settings", json!({}));
    assert!(!again.to_string().contains("hunter2"));
}

#[test]
fn a_batch_runs_to_its_end_with_pushed_updates_and_one_notification() {
    let redis = RedisServer::start();
    let app = start_app(&redis.url(), 1);
    let options = json!({ "engine": null, "language": null, "force": false, "only_pages": null });

    let preview = app.ok("preview_batch", json!({ "slug": SLUG, "options": options }));
    assert_eq!(
        preview,
        json!({
            "slug": SLUG, "engine": "tesseract", "language": "san", "force": false,
            "total": 2, "to_run": 2, "skipped": [], "workers": 1, "running": null,
        })
    );

    let started = app.ok("start_batch", json!({ "slug": SLUG, "options": options }));
    assert_eq!(keys(&started), set(&["status", "already_running", "resumed"]));
    assert_eq!(started["already_running"], false);
    assert_eq!(started["resumed"], false);
    assert_eq!(keys(&started["status"]), set(STATUS_KEYS));
    let task_id = started["status"]["task_id"].as_str().unwrap().to_string();
    assert!(task_id.starts_with("kdesk-"), "{task_id}");
    assert_eq!(started["status"]["total"], 2);

    // Starting again while it runs opens the same batch.
    let again = app.ok("start_batch", json!({ "slug": SLUG, "options": options }));
    assert_eq!(again["already_running"], true);
    assert_eq!(again["status"]["task_id"], task_id.as_str());

    // Progress is pushed page by page, then the end.
    let one_done = app.wait_event("the first page", |e| {
        e["kind"] == "task_updated" && e["status"]["task_id"] == task_id && e["status"]["done"] == 1
    });
    assert_eq!(one_done["status"]["percent"], 50.0);
    let ended = app.wait_event("the end", |e| is_finished_update(e, &task_id));
    assert_eq!(ended["status"]["state"], "SUCCESS");
    assert_eq!(ended["status"]["outcome"], "succeeded");
    assert_eq!(ended["status"]["done"], 2);

    let notices = app.sent_notices();
    assert_eq!(notices.as_array().unwrap().len(), 1, "{notices}");
    assert_eq!(notices[0]["task_id"], task_id.as_str());
    assert_eq!(notices[0]["notice"]["title"], format!("OCR finished: {TITLE}"));
    assert_eq!(notices[0]["notice"]["body"], "2 pages OCR'd, 0 failed");

    // The page's text, the list's last batch, the history, and a preview
    // that now skips both pages and says why.
    let text = app.ok("page_text", json!({ "slug": SLUG, "pageId": "001" }));
    assert!(text["text"].as_str().unwrap().chars().any(|c| ('\u{0900}'..='\u{097F}').contains(&c)));
    let projects = app.ok("list_projects", json!({}));
    assert_eq!(projects[0]["last_batch"]["task_id"], task_id.as_str());
    assert_eq!(projects[0]["last_batch"]["outcome"], "succeeded");
    let history = app.ok("batch_history", json!({ "limit": 10 }));
    assert_eq!(
        keys(&history[0]),
        set(&[
            "task_id",
            "project_slug",
            "project_title",
            "state",
            "outcome",
            "total",
            "done",
            "failed",
            "skipped",
            "engine",
            "language",
            "started_at",
            "finished_at",
            "duration_seconds"
        ])
    );
    assert_eq!(history[0]["project_title"], TITLE);
    assert!(history[0]["duration_seconds"].as_f64().unwrap() > 0.0);
    let preview = app.ok("preview_batch", json!({ "slug": SLUG, "options": options }));
    assert_eq!(preview["to_run"], 0);
    assert_eq!(preview["skipped"][0]["pages"], json!(["001", "002"]));
    assert!(preview["skipped"][0]["reason"].as_str().unwrap().starts_with("already have text"));

    // Asking again for the status of the finished batch.
    let status = app.ok("batch_status", json!({ "taskId": task_id }));
    assert_eq!(status["state"], "SUCCESS");
}

#[test]
fn a_batch_started_elsewhere_is_followed_through_redis_and_announced() {
    let redis = RedisServer::start();
    let app = start_app(&redis.url(), 1);
    assert_eq!(app.ok("ongoing_batches", json!({})), json!([]));
    wait_connected(&app);

    // `kdesk ocr` in a terminal: a desk of its own on the same library and Redis.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let library = app.library.clone();
    let url = redis.url();
    let status = runtime.block_on(async move { run_like_the_cli(&library, &url).await });
    let task_id = status.task_id.clone();

    let ended = app.wait_event("the end of the other batch", |e| is_finished_update(e, &task_id));
    assert_eq!(ended["status"]["done"], 2);
    assert_eq!(ended["status"]["source"], "redis");
    let notices = app.sent_notices();
    assert_eq!(notices.as_array().unwrap().len(), 1, "{notices}");
    assert_eq!(notices[0]["notice"]["title"], format!("OCR finished: {TITLE}"));
}

/// Runs a whole batch as `kdesk ocr` does, after the app has seen it start.
async fn run_like_the_cli(library: &Path, url: &str) -> kdesk_core::TaskStatus {
    let desk = kdesk_core::Desk::open(kdesk_core::DeskConfig {
        library: library.to_path_buf(),
        redis: kdesk_core::RedisTarget::parse(url).unwrap(),
        page_timeout: Duration::from_secs(120),
    })
    .unwrap();
    let slug = kdesk_library::Slug::parse(SLUG).unwrap();
    let request = kdesk_core::BatchRequest { jobs: 1, ..Default::default() };
    let batch = desk.start_batch(&slug, &request).await.unwrap();
    let (sender, _receiver) = tokio::sync::watch::channel(batch.status());
    batch.run(sender, tokio_util::sync::CancellationToken::new()).await.unwrap()
}

fn wait_connected(app: &TestApp) {
    app.wait_for("redis_health", json!({}), |health| health["state"] == "connected");
}

#[test]
fn redis_going_away_is_shown_with_a_countdown_and_coming_back_reconnects() {
    let mut redis = RedisServer::start();
    let app = start_app(&redis.url(), 1);
    wait_connected(&app);

    redis.stop();
    let health = app.wait_for("redis_health", json!({}), |h| h["state"] == "unreachable");
    assert_eq!(keys(&health), set(&["state", "url", "message", "retry_at_ms"]));
    assert_eq!(health["url"], redis.url());
    let now_ms = chrono::Utc::now().timestamp_millis() as f64;
    let retry_at = health["retry_at_ms"].as_f64().unwrap();
    assert!(retry_at > now_ms - 1000.0 && retry_at < now_ms + 31_000.0, "{health}");
    assert!(health["message"].as_str().unwrap().contains("unreachable"), "{health}");

    // The lists still work, from this computer's record.
    assert!(app.invoke("list_projects", json!({})).is_ok());
    assert_eq!(app.ok("ongoing_batches", json!({})), json!([]));

    while app.events.try_recv().is_ok() {}
    redis.restart();
    wait_connected(&app);
    let event = app.wait_event("redis back", |e| {
        e["kind"] == "redis_changed" && e["health"]["state"] == "connected"
    });
    assert_eq!(event["health"]["retry_at_ms"], Value::Null);
}

#[test]
fn cancelling_a_batch_ends_it_and_says_so_differently() {
    let redis = RedisServer::start();
    // No workers in the app: pages wait for `kdesk worker`s that never come.
    let app = start_app(&redis.url(), 0);
    let options = json!({ "engine": null, "language": null, "force": false, "only_pages": null });
    let started = app.ok("start_batch", json!({ "slug": SLUG, "options": options }));
    let task_id = started["status"]["task_id"].as_str().unwrap().to_string();

    let projects = app.ok("list_projects", json!({}));
    assert_eq!(projects[0]["running"]["task_id"], task_id.as_str(), "the list shows it running");

    let cancelled = app.ok("cancel_batch", json!({ "slug": SLUG }));
    assert_eq!(keys(&cancelled), set(STATUS_KEYS));
    assert_eq!(cancelled["task_id"], task_id.as_str());
    let ended = app.wait_event("the cancelled end", |e| is_finished_update(e, &task_id));
    assert_eq!(ended["status"]["state"], "CANCELLED");
    assert_eq!(ended["status"]["outcome"], "cancelled");

    let notices = app.sent_notices();
    assert_eq!(notices.as_array().unwrap().len(), 1, "{notices}");
    assert_eq!(notices[0]["notice"]["title"], format!("OCR cancelled: {TITLE}"));
    assert_eq!(notices[0]["notice"]["body"], "0 pages OCR'd before it was cancelled, 0 failed");
    let history = app.ok("batch_history", json!({ "limit": 5 }));
    assert_eq!(history[0]["outcome"], "cancelled");
}
