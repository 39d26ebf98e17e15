//! PDF import through the real poppler-utils, on the corpus's odd PDFs.
//!
//! Every test imports into its own temporary library and checks that a
//! failed import leaves the library exactly as it was.

use std::fs;
use std::path::Path;

use kdesk_library::{ErrorKind, ImportOptions, ImportProgress, Library, Slug, MAX_PAGE_SIDE_PX};

use crate::util::{copy_into, entries, odd};

/// A library in a temporary folder, and a separate folder holding the PDF,
/// so the library's contents can be checked exactly.
struct Setup {
    _library_dir: tempfile::TempDir,
    input_dir: tempfile::TempDir,
    library: Library,
}

fn setup() -> Setup {
    let library_dir = tempfile::tempdir().unwrap();
    let library = Library::open(library_dir.path()).unwrap();
    Setup { _library_dir: library_dir, input_dir: tempfile::tempdir().unwrap(), library }
}

impl Setup {
    fn pdf(&self, corpus_name: &str) -> std::path::PathBuf {
        copy_into(&odd(corpus_name), self.input_dir.path(), corpus_name)
    }
}

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

/// The permission bits of `path`.
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn png_size(path: &Path) -> (usize, usize) {
    let size = imagesize::size(path).unwrap();
    (size.width, size.height)
}

#[test]
fn four_page_pdf_becomes_a_project_of_four_pngs() {
    let setup = setup();
    let pdf = setup.pdf("four-orientations.pdf");
    let mut seen = Vec::new();

    let project = setup
        .library
        .import_pdf_with_progress(&pdf, &slug("four"), &ImportOptions::default(), &mut |p| {
            seen.push(p)
        })
        .unwrap();

    let pages = project.pages().unwrap();
    let ids: Vec<&str> = pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["001", "002", "003", "004"]);
    // Letter pages at 300 dpi, portrait and landscape in turn.
    let sizes: Vec<_> = pages.iter().map(|p| png_size(&p.path)).collect();
    assert_eq!(sizes, [(2550, 3300), (3300, 2550), (2550, 3300), (3300, 2550)]);
    assert!(pages.iter().all(|p| p.path.starts_with(project.root.join("pages"))));

    // "Untitled" in the PDF is a placeholder: the file name is the title.
    assert_eq!(project.metadata.title, "four-orientations");
    assert_eq!(project.metadata.language, "eng");
    assert!(project.metadata_path().is_file());

    let progress: Vec<u32> = seen.iter().map(|p: &ImportProgress| p.page).collect();
    assert_eq!(progress, [1, 2, 3, 4]);
    assert!(seen.iter().all(|p| p.pages == 4));
    assert_eq!(entries(setup.library.root()), ["four"], "no temporary folder left");
    let by_hand = setup.input_dir.path().join("made-by-hand");
    fs::create_dir(&by_hand).unwrap();
    assert_eq!(
        mode(&project.root),
        mode(&by_hand),
        "the project folder gets the usual permissions, not a temporary folder's 0700"
    );
    assert_eq!(setup.library.projects().unwrap().len(), 1);
}

#[test]
fn import_refuses_a_project_that_has_pages() {
    let setup = setup();
    let pdf = setup.pdf("jpeg2000.pdf");
    let options = ImportOptions { title: Some("First".to_owned()), ..ImportOptions::default() };
    setup.library.import_pdf(&pdf, &slug("book"), &options).unwrap();

    let err = setup.library.import_pdf(&pdf, &slug("book"), &ImportOptions::default()).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert!(err.to_string().contains("pick another slug or delete"), "{err}");
    let project = setup.library.project(&slug("book")).unwrap();
    assert_eq!(project.metadata.title, "First", "the first import is untouched");
    assert_eq!(entries(setup.library.root()), ["book"]);
}

#[test]
fn import_fills_a_folder_that_has_only_metadata() {
    let setup = setup();
    let root = setup.library.root().join("reader");
    fs::create_dir(&root).unwrap();
    fs::write(root.join("project.toml"), "language = \"san\"\n").unwrap();
    let pdf = setup.pdf("jpeg2000.pdf");

    let project =
        setup.library.import_pdf(&pdf, &slug("reader"), &ImportOptions::default()).unwrap();

    assert_eq!(project.pages().unwrap().len(), 1);
    assert_eq!(project.metadata.language, "san", "the editor's setting is kept");
    assert_eq!(project.metadata.title, "jpeg2000");
    // jpeg2000.pdf's page is 384 pt square: 1600 px at 300 dpi.
    assert_eq!(png_size(&project.pages().unwrap()[0].path), (1600, 1600));
    assert_eq!(entries(setup.library.root()), ["reader"]);
}

#[test]
fn import_refuses_a_pages_folder_holding_other_files() {
    let setup = setup();
    let pages = setup.library.root().join("book/pages");
    fs::create_dir_all(&pages).unwrap();
    fs::write(pages.join("001.gt.txt"), "ground truth").unwrap();
    let pdf = setup.pdf("jpeg2000.pdf");

    let err = setup.library.import_pdf(&pdf, &slug("book"), &ImportOptions::default()).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    assert!(err.to_string().contains("move them away"), "{err}");
    assert_eq!(entries(&pages), ["001.gt.txt"]);
    assert_eq!(entries(setup.library.root()), ["book"]);
}

#[test]
fn broken_pdf_is_refused_quoting_poppler() {
    let setup = setup();
    let pdf = setup.pdf("invalid.pdf");

    let err =
        setup.library.import_pdf(&pdf, &slug("broken"), &ImportOptions::default()).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::ImportFailed);
    let message = err.to_string();
    assert!(message.contains("invalid.pdf"), "{message}");
    assert!(message.contains("Couldn't find trailer dictionary"), "{message}");
    assert!(entries(setup.library.root()).is_empty(), "nothing half-made is left");
}

#[test]
fn password_protected_pdf_says_how_to_remove_the_password() {
    let setup = setup();
    let pdf = setup.pdf("encrypted-userpw.pdf");

    let err =
        setup.library.import_pdf(&pdf, &slug("locked"), &ImportOptions::default()).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::ImportFailed);
    assert_eq!(
        err.to_string(),
        format!(
            "'{}' is password-protected; remove the password (for example `qpdf --decrypt \
             --password=… in.pdf out.pdf`) and import again",
            pdf.display()
        )
    );
    assert!(entries(setup.library.root()).is_empty());
}

#[test]
fn owner_password_only_pdf_imports() {
    let setup = setup();
    let pdf = setup.pdf("encrypted-ownerpw-only.pdf");

    let project =
        setup.library.import_pdf(&pdf, &slug("owner-pw"), &ImportOptions::default()).unwrap();
    assert_eq!(project.pages().unwrap().len(), 1);
}

/// Regression: at 300 dpi poppler exits 0 and writes a 1x1 PNG for this
/// 35000 px JBIG2 page, which used to look like a blank page.
#[test]
fn huge_jbig2_page_is_rendered_at_a_lower_dpi_never_as_1x1() {
    let setup = setup();
    let pdf = setup.pdf("huge-35000px-jbig2.pdf");

    let result = setup.library.import_pdf(&pdf, &slug("huge"), &ImportOptions::default());

    match result {
        Ok(project) => {
            let pages = project.pages().unwrap();
            assert_eq!(pages.len(), 1);
            let (w, h) = png_size(&pages[0].path);
            assert!(w >= 16 && h >= 16, "degenerate page {w}x{h}");
            assert!(w.max(h) <= MAX_PAGE_SIDE_PX as usize, "{w}x{h}");
            // 8400 pt at the lowered 85 dpi is about 9917 px.
            assert!(w.max(h) > 9_000, "the dpi was lowered just enough: {w}x{h}");
        }
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::ImportFailed, "{err}");
            assert!(entries(setup.library.root()).is_empty());
        }
    }
}

#[test]
fn missing_pdf_is_not_found() {
    let setup = setup();
    let missing = setup.input_dir.path().join("nope.pdf");

    let err =
        setup.library.import_pdf(&missing, &slug("nope"), &ImportOptions::default()).unwrap_err();

    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.to_string().contains("nope.pdf"), "{err}");
    assert!(entries(setup.library.root()).is_empty());
}
