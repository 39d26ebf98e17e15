//! Every file of `corpus/odd` through `recognise`: nothing panics, every
//! failure names its file, and what is not an image never reaches Tesseract.

mod common;

use kdesk_ocr::{inspect, ErrorKind, ImageLimits};

/// Files [`inspect`] must refuse as not images, before Tesseract runs.
fn refused_before_tesseract(name: &str) -> bool {
    name.ends_with(".pdf")
        || ["text-file-named.png", "pdf-file-named.jpg", "zero-bytes.png"].contains(&name)
}

/// Images with nothing on them: recognised, with no words.
const BLANK: [&str; 2] = ["blank-page-300dpi.png", "tiny-48x29-g4.tif"];

#[tokio::test]
async fn every_odd_file_gives_text_or_an_error_naming_it() {
    let engine = common::engine().await;
    let dir = common::corpus().join("odd");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("odd/ is readable")
        .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 30, "odd/ holds only {} files", names.len());

    for name in &names {
        let bytes = common::read(&dir.join(name));
        let result = engine.recognise(&bytes, None, "eng", name).await;
        match &result {
            Ok(r) => eprintln!("{name}: {} words, {:.2} s", r.words, r.seconds),
            Err(e) => eprintln!("{name}: {:?}: {e}", e.kind()),
        }

        if refused_before_tesseract(name) {
            let early = inspect(&bytes, name, &ImageLimits::default());
            let early = early.expect_err("inspect must refuse it");
            assert_eq!(early.kind(), ErrorKind::NotAnImage, "{name}: {early}");
            let err = result.expect_err("recognise must refuse it");
            assert_eq!(err.kind(), ErrorKind::NotAnImage, "{name}: {err}");
            assert!(err.to_string().contains(&format!("page '{name}'")), "{err}");
            assert!(err.is_permanent());
        } else if name.starts_with("truncated-half.") {
            let err = result.expect_err("a truncated image cannot be recognised");
            assert!(err.to_string().contains(&format!("page '{name}'")), "{err}");
        } else if BLANK.contains(&name.as_str()) {
            let r = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(r.words, 0, "{name}: {:?}", r.text);
            assert!(r.text.trim().is_empty(), "{name}: {:?}", r.text);
            assert_eq!(r.mean_confidence, None);
        } else {
            let r = result.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(r.words > 0 && !r.text.trim().is_empty(), "{name} gave no text");
            assert!(r.mean_confidence.is_some() && r.seconds > 0.0, "{name}: {r:?}");
        }
    }
}

#[tokio::test]
async fn pdf_and_text_messages_say_what_to_do() {
    let engine = common::engine().await;
    let dir = common::corpus().join("odd");

    let pdf = common::read(&dir.join("pdf-file-named.jpg"));
    let err = engine.recognise(&pdf, None, "eng", "pdf-file-named.jpg").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "page 'pdf-file-named.jpg' is a PDF, not an image; \
         import it with `kdesk import pdf-file-named.jpg --slug …`"
    );

    let text = common::read(&dir.join("text-file-named.png"));
    let err = engine.recognise(&text, None, "eng", "text-file-named.png").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "page 'text-file-named.png' is not an image (starts with \"The LinnSequencer 32 Tra…\"); \
         replace it with a PNG, JPEG, TIFF or WebP scan"
    );

    let err = engine.recognise(b"", None, "eng", "zero-bytes.png").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "page 'zero-bytes.png' is empty (0 bytes); re-scan or re-export it"
    );
}

/// Before the magic-byte check, Tesseract read a text file named like an
/// image as a list of paths and OCR'd the image it named, with exit 0.
#[tokio::test]
async fn text_file_listing_an_image_path_is_not_ocrd() {
    let engine = common::engine().await;
    let listed = common::corpus().join("projects/en-mixed-scans/pages/001.tif");
    let listed = listed.canonicalize().expect("the listed page exists");
    let list = format!("{}\n", listed.display());

    let err = engine.recognise(list.as_bytes(), None, "eng", "002.png").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAnImage, "{err}");
    assert!(err.to_string().contains("page '002.png' is not an image"), "{err}");
}

#[tokio::test]
async fn frames_of_a_multipage_tiff_differ() {
    let engine = common::engine().await;
    let name = "multipage-8p-g4.tif";
    let bytes = common::read(&common::corpus().join("odd").join(name));
    assert_eq!(kdesk_ocr::count_frames(&bytes, name).unwrap(), 8);

    let first = engine.recognise(&bytes, Some(0), "eng", name).await.unwrap();
    let third = engine.recognise(&bytes, Some(2), "eng", name).await.unwrap();
    let default = engine.recognise(&bytes, None, "eng", name).await.unwrap();
    assert!(first.words > 0 && third.words > 0, "{first:?} {third:?}");
    assert_ne!(first.text, third.text);
    // Without a frame, Tesseract reads the whole file: frame 0's text comes first.
    assert!(default.text.starts_with(first.text.trim_end()), "{:?}", default.text);
    assert!(default.words > first.words + third.words);

    let err = engine.recognise(&bytes, Some(8), "eng", name).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreadable);
    assert!(err.to_string().contains("page 'multipage-8p-g4.tif' has 8 frame(s)"), "{err}");
}

#[tokio::test]
async fn frame_of_a_single_image_past_zero_is_refused() {
    let engine = common::engine().await;
    let name = "palette.png";
    let bytes = common::read(&common::corpus().join("odd").join(name));
    let err = engine.recognise(&bytes, Some(1), "eng", name).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unreadable);
    assert!(err.to_string().contains("page 'palette.png' has 1 frame(s)"), "{err}");
    assert!(engine.recognise(&bytes, Some(0), "eng", name).await.is_ok());
}

#[tokio::test]
async fn missing_language_is_refused_before_running() {
    let engine = common::engine().await;
    let bytes = common::read(&common::corpus().join("odd/palette.png"));
    let err = engine.recognise(&bytes, None, "eng+xyz", "palette.png").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::LanguageMissing);
    assert!(err.to_string().contains("tesseract-ocr-xyz"), "{err}");
    assert!(err.is_permanent());
}

#[tokio::test]
async fn detect_reports_version_and_languages() {
    let engine = common::engine().await;
    assert!(engine.version().starts_with(|c: char| c.is_ascii_digit()), "{}", engine.version());
    for language in ["eng", "san", "tam", "hin", "osd"] {
        assert!(engine.languages().iter().any(|l| l == language), "{language} is not installed");
    }
    assert!(engine.check_language("san+eng").is_ok());
}
