//! Build script: Tauri's code generation, and the app's own commands
//! declared so that capabilities can grant them one by one.

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&[
        "app_overview",
        "list_projects",
        "project_detail",
        "page_text",
        "preview_batch",
        "start_batch",
        "cancel_batch",
        "batch_status",
        "ongoing_batches",
        "batch_history",
        "redis_health",
        "get_settings",
        "save_settings",
    ]);
    let attributes = tauri_build::Attributes::new().app_manifest(manifest);
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}
