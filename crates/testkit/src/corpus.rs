//! Where the shared scan corpus lives, and copies of its projects for tests.
//!
//! The corpus is a folder of real scanned pages kept beside the repository
//! (`../shared/corpus`, read-only), with `projects/<slug>/pages/` holding
//! page images and their `*.gt.txt` ground truth, and `odd/` holding broken
//! or unusual files. This module finds it and copies projects out of it.
//!
//! Rule: tests never write inside the corpus; they work on a copy made by
//! [`copy_corpus_project`].

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The variable that names the corpus folder when it is not beside the
/// repository.
const CORPUS_VAR: &str = "KDESK_CORPUS";

/// Suffix of the ground-truth text files that sit beside each page image.
const GROUND_TRUTH_SUFFIX: &str = ".gt.txt";

/// Absolute path of the shared corpus.
///
/// `KDESK_CORPUS` wins when set. Otherwise the folders above this crate are
/// searched, nearest first, for one holding `shared/corpus`; in a checkout
/// at `<dir>/main` that finds `<dir>/shared/corpus`.
pub fn corpus_dir() -> PathBuf {
    if let Some(value) = env::var_os(CORPUS_VAR) {
        let dir = std::path::absolute(PathBuf::from(&value)).unwrap_or_else(|e| {
            panic!("{CORPUS_VAR} is set to {value:?}, which is not a usable path ({e})")
        });
        if !dir.is_dir() {
            panic!(
                "{CORPUS_VAR} is set to '{}', which is not a directory; \
                 point it at the shared corpus or unset it",
                dir.display()
            );
        }
        return dir;
    }

    let start = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in start.ancestors() {
        let candidate = dir.join("shared").join("corpus");
        if candidate.is_dir() {
            return candidate;
        }
    }
    panic!(
        "no shared corpus: {CORPUS_VAR} is unset and no folder above '{}' holds \
         'shared/corpus'; set {CORPUS_VAR} to the corpus folder",
        start.display()
    );
}

/// `corpus_dir()/projects/<slug>`; panics, listing the known slugs, if that
/// project is not in the corpus.
pub fn corpus_project(slug: &str) -> PathBuf {
    existing_entry("projects", slug)
}

/// `corpus_dir()/odd/<name>`; panics, listing the known names, if that file
/// is not in the corpus.
pub fn corpus_odd(name: &str) -> PathBuf {
    existing_entry("odd", name)
}

/// Copies the page images of corpus project `slug` into
/// `<library>/<slug>/pages/` and returns `<library>/<slug>`.
///
/// Ground-truth files (`*.gt.txt`) and hidden files are left out. With
/// `first_n`, only the first `n` pages in natural name order are copied;
/// asking for more pages than the project has panics. Files are copied, not
/// linked, and made writable, so a test may change or delete them.
pub fn copy_corpus_project(slug: &str, library: &Path, first_n: Option<usize>) -> PathBuf {
    let source = corpus_project(slug).join("pages");
    let mut pages = page_images(&source);
    if let Some(n) = first_n {
        if n > pages.len() {
            panic!(
                "asked for the first {n} pages of corpus project '{slug}', but '{}' has only {}",
                source.display(),
                pages.len()
            );
        }
        pages.truncate(n);
    }

    let project = library.join(slug);
    let target = project.join("pages");
    fs::create_dir_all(&target)
        .unwrap_or_else(|e| panic!("cannot create '{}' ({e})", target.display()));
    for page in &pages {
        let Some(name) = page.file_name() else {
            continue;
        };
        let copy = target.join(name);
        fs::copy(page, &copy).unwrap_or_else(|e| {
            panic!("cannot copy '{}' to '{}' ({e})", page.display(), copy.display())
        });
        // The corpus is read-only and `fs::copy` keeps the mode bits.
        fs::set_permissions(&copy, fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("cannot make '{}' writable ({e})", copy.display()));
    }
    tracing::debug!(slug, pages = pages.len(), to = %project.display(), "copied corpus project");
    project
}

/// The page images in `dir`, in natural name order.
fn page_images(dir: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list corpus pages in '{}' ({e})", dir.display()));
    let mut pages = Vec::new();
    for entry in entries {
        let entry = entry
            .unwrap_or_else(|e| panic!("cannot list corpus pages in '{}' ({e})", dir.display()));
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name.ends_with(GROUND_TRUTH_SUFFIX) || !path.is_file() {
            continue;
        }
        pages.push(path);
    }
    alphanumeric_sort::sort_path_slice(&mut pages);
    pages
}

/// `corpus_dir()/<group>/<name>`, which must exist.
fn existing_entry(group: &str, name: &str) -> PathBuf {
    let parent = corpus_dir().join(group);
    let path = parent.join(name);
    if path.exists() {
        return path;
    }
    let mut known: Vec<String> = fs::read_dir(&parent)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name())
                .filter_map(|name| OsStr::to_str(&name).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    known.sort();
    panic!(
        "'{name}' is not in the corpus: '{}' does not exist; known: {}",
        path.display(),
        known.join(", ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpus_dir_holds_projects_and_odd_files() {
        let dir = corpus_dir();
        assert!(dir.is_absolute(), "{}", dir.display());
        assert!(dir.join("projects").is_dir(), "{}", dir.display());
        assert!(dir.join("odd").is_dir(), "{}", dir.display());
    }

    #[test]
    fn corpus_odd_finds_a_known_file() {
        let path = corpus_odd("zero-bytes.png");
        assert_eq!(fs::metadata(&path).map(|m| m.len()).ok(), Some(0));
    }

    #[test]
    #[should_panic(expected = "'no-such-project' is not in the corpus")]
    fn corpus_project_panics_on_an_unknown_slug() {
        corpus_project("no-such-project");
    }

    #[test]
    fn copy_takes_the_first_pages_in_order_without_ground_truth() {
        let library = tempfile::tempdir().unwrap();
        let project = copy_corpus_project("en-mixed-scans", library.path(), Some(2));
        assert_eq!(project, library.path().join("en-mixed-scans"));

        let mut names: Vec<String> = fs::read_dir(project.join("pages"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["001.tif", "002.tif"]);

        // A real copy, byte for byte, that the test may overwrite.
        let copy = project.join("pages").join("001.tif");
        let original = corpus_project("en-mixed-scans").join("pages").join("001.tif");
        assert_eq!(fs::read(&copy).unwrap(), fs::read(&original).unwrap());
        assert!(!fs::symlink_metadata(&copy).unwrap().file_type().is_symlink());
        fs::write(&copy, b"overwritten").unwrap();
    }

    #[test]
    fn copy_without_a_limit_takes_every_page_image() {
        let library = tempfile::tempdir().unwrap();
        let project = copy_corpus_project("tam-old-books", library.path(), None);
        let source = corpus_project("tam-old-books").join("pages");
        let expected = fs::read_dir(&source)
            .unwrap()
            .filter(|e| !e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".gt.txt"))
            .count();
        let copied = fs::read_dir(project.join("pages")).unwrap().count();
        assert!(expected > 0);
        assert_eq!(copied, expected);
    }

    #[test]
    #[should_panic(expected = "has only")]
    fn copy_panics_when_asked_for_more_pages_than_exist() {
        let library = tempfile::tempdir().unwrap();
        copy_corpus_project("tam-old-books", library.path(), Some(10_000));
    }
}
