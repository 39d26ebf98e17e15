//! Helpers shared by the integration tests: where the corpus is, and a
//! detected engine. Tests read the corpus and never write into it.

use std::path::PathBuf;
use std::time::Duration;

use kdesk_ocr::Tesseract;

/// The shared corpus: `$KDESK_CORPUS`, else `shared/corpus` beside the
/// repository (`<crate>/../../../shared/corpus`).
pub fn corpus() -> PathBuf {
    let path = match std::env::var_os("KDESK_CORPUS") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    assert!(
        path.join("odd").is_dir() && path.join("projects").is_dir(),
        "the OCR corpus was not found at '{}'; set KDESK_CORPUS to the folder holding \
         odd/ and projects/",
        path.display()
    );
    path
}

/// The installed Tesseract with a generous page time limit; panics with
/// the install hint when it is missing.
pub async fn engine() -> Tesseract {
    match Tesseract::detect(Duration::from_secs(300)).await {
        Ok(engine) => engine,
        Err(e) => panic!("these tests need Tesseract: {e}"),
    }
}

/// The bytes of a corpus file, with a clear panic when it is missing.
pub fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read '{}': {e}", path.display()))
}
