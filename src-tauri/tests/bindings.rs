//! The UI's TypeScript bindings are generated from the Rust types; this
//! test fails when the committed file is stale, and rewrites it when run
//! with `UPDATE_BINDINGS=1`. It also checks that every command is declared
//! in `build.rs` and granted in the capability file, and nothing more.

use std::collections::BTreeSet;
use std::path::PathBuf;

use tauri::test::MockRuntime;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn committed_bindings() -> PathBuf {
    crate_dir().join(kdesk_app::BINDINGS_PATH)
}

#[test]
fn committed_bindings_match_the_rust_types() {
    let bridge = kdesk_app::bridge::<MockRuntime>(kdesk_app::app_commands!(MockRuntime));
    let dir = tempfile::tempdir().unwrap();
    let fresh_path = dir.path().join("bindings.ts");
    kdesk_app::export_bindings(&bridge, &fresh_path).unwrap();
    let fresh = std::fs::read_to_string(&fresh_path).unwrap();

    let committed_path = committed_bindings();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed_path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == fresh,
        "'{}' is stale: the Rust types changed; run `UPDATE_BINDINGS=1 cargo test -p kdesk-app \
         --test bindings` and commit the file",
        committed_path.display()
    );
}

/// Command names in the generated bindings, e.g. `start_batch`.
fn commands_in_bindings() -> BTreeSet<String> {
    let text = std::fs::read_to_string(committed_bindings()).unwrap();
    text.match_indices("TAURI_INVOKE(\"")
        .map(|(at, found)| {
            let rest = &text[at + found.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

fn quoted_names(text: &str) -> BTreeSet<String> {
    text.split('"').skip(1).step_by(2).map(str::to_string).collect()
}

#[test]
fn every_command_is_declared_and_granted_and_nothing_else() {
    let commands = commands_in_bindings();
    assert!(commands.contains("start_batch"), "{commands:?}");

    let build = std::fs::read_to_string(crate_dir().join("build.rs")).unwrap();
    let list = &build[build.find(".commands(&[").unwrap()..build.find("]);").unwrap()];
    assert_eq!(quoted_names(list), commands, "build.rs declares other commands");

    let capability: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate_dir().join("capabilities/main-window.json")).unwrap(),
    )
    .unwrap();
    let permissions: BTreeSet<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let granted: BTreeSet<String> = permissions
        .iter()
        .filter_map(|p| p.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(granted, commands, "the capability grants other commands");
    let others: BTreeSet<&str> =
        permissions.iter().filter(|p| !p.starts_with("allow-")).map(String::as_str).collect();
    assert_eq!(others, BTreeSet::from(["core:event:allow-listen", "core:event:allow-unlisten"]));
}

#[test]
fn no_shell_or_file_system_plugin_and_a_strict_csp() {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).unwrap();
    for plugin in ["tauri-plugin-shell", "tauri-plugin-fs", "tauri-plugin-opener"] {
        assert!(!manifest.contains(plugin), "{plugin} must not be a dependency");
    }
    let config = std::fs::read_to_string(crate_dir().join("tauri.conf.json")).unwrap();
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    let csp = &config["app"]["security"]["csp"];
    assert_eq!(csp["script-src"], "'self'");
    assert_eq!(csp["default-src"], "'self'");
    assert!(!csp.to_string().contains("unsafe"), "{csp}");
}
