//! Small helpers shared by the integration tests: finding the corpus and
//! copying parts of it into temporary folders, since the corpus is read-only.

use std::path::{Path, PathBuf};

/// The shared corpus: `$KDESK_CORPUS`, else `../../../shared/corpus` from
/// this crate. Panics when neither exists, so a missing corpus fails loudly
/// instead of skipping tests.
pub fn corpus() -> PathBuf {
    if let Some(dir) = std::env::var_os("KDESK_CORPUS") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.join("projects").is_dir(),
            "KDESK_CORPUS is set to '{}', which has no projects/ folder",
            dir.display()
        );
        return dir;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    assert!(
        dir.join("projects").is_dir(),
        "test corpus not found at '{}'; set KDESK_CORPUS to the folder holding projects/ and odd/",
        dir.display()
    );
    dir
}

/// A file in the corpus's `odd/` folder.
pub fn odd(name: &str) -> PathBuf {
    let path = corpus().join("odd").join(name);
    assert!(path.is_file(), "corpus file '{}' is missing", path.display());
    path
}

/// Copies `from` to `dir/name`, returning the new path.
pub fn copy_into(from: &Path, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(from, &to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    to
}

/// Names of everything directly in `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
