//! Recognition of corpus pages against their ground truth, a few pages per
//! language. The bounds sit a little above the CER measured here, so a
//! change that makes recognition worse (wrong page segmentation mode, a
//! lost language, mangled UTF-8) fails.

mod common;

use kdesk_ocr::{character_error_rate, Tesseract};

/// OCRs `pages` of `project` with `language` and returns the CER over all
/// of them together (total edits / total truth characters, as BASELINE.md).
async fn project_cer(engine: &Tesseract, project: &str, pages: &[&str], language: &str) -> f64 {
    let dir = common::corpus().join("projects").join(project).join("pages");
    let mut edits = 0.0;
    let mut truth_chars = 0.0;
    for page in pages {
        let image = std::fs::read_dir(&dir)
            .expect("the pages folder is readable")
            .map(|entry| entry.expect("a directory entry").path())
            .find(|p| {
                p.file_stem().is_some_and(|s| s == *page)
                    && p.extension().is_some_and(|e| e != "txt")
            })
            .unwrap_or_else(|| panic!("no image for page {page} in '{}'", dir.display()));
        let name = format!("{project}/{page}");
        let truth = String::from_utf8(common::read(&dir.join(format!("{page}.gt.txt"))))
            .expect("ground truth is UTF-8");

        let r = engine.recognise(&common::read(&image), None, language, &name).await;
        let r = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(r.words > 0 && r.mean_confidence.is_some(), "{name}: {r:?}");

        let cer = character_error_rate(&truth, &r.text);
        let length = kdesk_ocr::normalise(&truth).chars().count() as f64;
        eprintln!(
            "{name} ({language}): CER {:.2} %, {} words, {:.2} s",
            cer * 100.0,
            r.words,
            r.seconds
        );
        edits += cer * length;
        truth_chars += length;
    }
    let cer = edits / truth_chars;
    eprintln!("{project} ({language}): CER {:.2} % over {pages:?}", cer * 100.0);
    cer
}

#[tokio::test]
async fn english_pages_match_the_ground_truth() {
    let engine = common::engine().await;
    let cer = project_cer(&engine, "en-mixed-scans", &["001", "002"], "eng").await;
    // Measured: 1.29 % over both (001 0.00 %, 002 2.18 %), as in BASELINE.md.
    assert!(cer < 0.02, "CER {cer}");
}

#[tokio::test]
async fn sanskrit_pages_match_the_ground_truth() {
    let engine = common::engine().await;
    let cer = project_cer(&engine, "san-tulasi-scan", &["001", "002", "003"], "san").await;
    // Measured: 9.99 % over the three (001 11.05 %, 002 11.38 %, 003 7.30 %),
    // as in BASELINE.md.
    assert!(cer < 0.11, "CER {cer}");
}

#[tokio::test]
async fn tamil_pages_match_the_ground_truth() {
    let engine = common::engine().await;
    let cer = project_cer(&engine, "tam-old-books", &["005", "006"], "tam").await;
    // Measured: 13.37 % over both (005 12.42 %, 006 18.35 %), as in BASELINE.md.
    assert!(cer < 0.15, "CER {cer}");
}
