//! Listing projects and pages: the corpus projects as they are, and odd
//! layouts built in temporary folders.

use std::fs;

use kdesk_library::{ErrorKind, Library, PageFormat, Slug};

use crate::util::{copy_into, corpus, odd};

fn slug(s: &str) -> Slug {
    Slug::parse(s).unwrap()
}

#[test]
fn corpus_projects_are_listed_in_slug_order_with_default_metadata() {
    let library = Library::open(corpus().join("projects")).unwrap();
    let projects = library.projects().unwrap();

    let slugs: Vec<&str> = projects.iter().map(|p| p.slug.as_str()).collect();
    assert_eq!(slugs, ["en-mixed-scans", "san-shreelipi-book", "san-tulasi-scan", "tam-old-books"]);
    for project in &projects {
        assert_eq!(project.metadata.title, project.slug.as_str());
        assert_eq!(project.metadata.language, "eng");
        assert_eq!(project.metadata.engine, "tesseract");
        assert_eq!(project.root, library.root().join(project.slug.as_str()));
    }
}

#[test]
fn corpus_pages_are_numbered_images_without_ground_truth_files() {
    let library = Library::open(corpus().join("projects")).unwrap();
    let expected = [
        ("en-mixed-scans", 6),
        ("san-shreelipi-book", 15),
        ("san-tulasi-scan", 8),
        ("tam-old-books", 6),
    ];

    for (name, count) in expected {
        let pages = library.project(&slug(name)).unwrap().pages().unwrap();

        let ids: Vec<&str> = pages.iter().map(|p| p.id.as_str()).collect();
        let want: Vec<String> = (1..=count).map(|n| format!("{n:03}")).collect();
        assert_eq!(ids, want, "{name}");
        for page in &pages {
            assert!(page.path.is_absolute() && page.path.is_file(), "{}", page.path.display());
            assert_eq!(page.path.parent().unwrap().file_name().unwrap(), "pages");
            assert_eq!(page.frame, None, "corpus TIFFs hold one frame each");
        }
    }
}

#[test]
fn mixed_project_reports_each_format() {
    let library = Library::open(corpus().join("projects")).unwrap();
    let pages = library.project(&slug("en-mixed-scans")).unwrap().pages().unwrap();

    let formats: Vec<PageFormat> = pages.iter().map(|p| p.format).collect();
    use PageFormat::*;
    assert_eq!(formats, [Tiff, Tiff, Tiff, Tiff, Png, Jpeg]);
}

#[test]
fn multipage_tiff_gives_one_page_per_frame() {
    let dir = tempfile::tempdir().unwrap();
    let pages_dir = dir.path().join("scans/pages");
    fs::create_dir_all(&pages_dir).unwrap();
    let tiff = copy_into(&odd("multipage-8p-g4.tif"), &pages_dir, "multipage-8p-g4.tif");
    copy_into(&odd("tiny-48x29-g4.tif"), &pages_dir, "zz-tiny.tif");

    let library = Library::open(dir.path()).unwrap();
    let pages = library.project(&slug("scans")).unwrap().pages().unwrap();

    assert_eq!(pages.len(), 9);
    for (k, page) in pages[..8].iter().enumerate() {
        assert_eq!(page.id, format!("multipage-8p-g4-p{:03}", k + 1));
        assert_eq!(page.frame, Some(k as u32));
        assert_eq!(page.path, tiff);
        assert_eq!(page.format, PageFormat::Tiff);
    }
    assert_eq!(pages[8].id, "zz-tiny");
    assert_eq!(pages[8].frame, None, "a single-frame TIFF is not numbered");
}

#[test]
fn broken_images_are_still_listed_as_pages() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("broken");
    fs::create_dir(&root).unwrap();
    for (from, to) in [
        ("truncated-half.tif", "001.tif"),
        ("zero-bytes.png", "002.png"),
        ("text-file-named.png", "003.png"),
        ("truncated-half.jpg", "004.jpg"),
    ] {
        copy_into(&odd(from), &root, to);
    }

    let library = Library::open(dir.path()).unwrap();
    let pages = library.project(&slug("broken")).unwrap().pages().unwrap();

    let ids: Vec<&str> = pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["001", "002", "003", "004"]);
    assert_eq!(pages[0].frame, None, "an unreadable TIFF counts as one page");
}

#[test]
fn pages_follow_natural_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("order");
    fs::create_dir(&root).unwrap();
    let png = odd("blank-page-300dpi.png");
    for name in ["p10.png", "page02.png", "p2.png", "p1.png", "page10.png", "page3.png"] {
        copy_into(&png, &root, name);
    }

    let library = Library::open(dir.path()).unwrap();
    let pages = library.project(&slug("order")).unwrap().pages().unwrap();

    let ids: Vec<&str> = pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p1", "p2", "p10", "page02", "page3", "page10"]);
}

#[test]
fn metadata_round_trips_through_the_library() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("book")).unwrap();
    let library = Library::open(dir.path()).unwrap();

    let mut project = library.project(&slug("book")).unwrap();
    project.metadata.title = "पुस्तक".to_owned();
    project.metadata.language = "san".to_owned();
    project.save_metadata().unwrap();

    let text = fs::read_to_string(dir.path().join("book/project.toml")).unwrap();
    assert!(text.contains("language = \"san\""), "hand-editable toml: {text}");
    let reopened = library.project(&slug("book")).unwrap();
    assert_eq!(reopened.metadata, project.metadata);

    // A folder with only metadata is a project too.
    assert_eq!(library.projects().unwrap().len(), 1);
}

#[test]
fn broken_metadata_names_the_file_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("book")).unwrap();
    let path = dir.path().join("book/project.toml");
    fs::write(&path, "title = \"no end\n").unwrap();
    let library = Library::open(dir.path()).unwrap();

    let err = library.project(&slug("book")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidMetadata);
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("fix it or delete it"), "{message}");
}
