//! A page's output files in a project's output folder.
//!
//! This module owns the three files made from one page: `<page_id>.txt`
//! (the text), `<page_id>.tsv` (Tesseract's word boxes) and
//! `<page_id>.json` ([`OutputMeta`]). Which folder, and which page ids, is
//! the caller's business.
//!
//! Rule: the JSON meta file is the commit marker. It is removed first and
//! written last, each file atomically (temporary file + rename), so a page
//! whose meta can be read has complete text beside it, and a crash midway
//! leaves a page that reads as not done.

use std::io::Write;
use std::path::{Path, PathBuf};

use atomic_write_file::AtomicWriteFile;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::tesseract::Recognition;

/// What is known about how a page's text was made; the content of
/// `<page_id>.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct OutputMeta {
    /// The page's id, also the stem of its three file names.
    pub page_id: String,
    /// The engine's name, e.g. "tesseract".
    pub engine: String,
    /// The engine's version, e.g. "5.3.0".
    pub engine_version: String,
    /// The language spec used, e.g. "san+eng".
    pub language: String,
    /// Copied from [`Recognition::mean_confidence`].
    pub mean_confidence: Option<f32>,
    /// Copied from [`Recognition::words`].
    pub words: u32,
    /// Copied from [`Recognition::seconds`].
    pub seconds: f64,
    /// When the output was written.
    pub finished_at: chrono::DateTime<chrono::Utc>,
    /// The task (run) that made this output.
    pub task_id: String,
}

/// Writes `<dir>/<page_id>.txt`, `<page_id>.tsv`, then `<page_id>.json`,
/// creating `dir` if missing. The page id is `meta.page_id`.
pub fn write_output(dir: &Path, recognition: &Recognition, meta: &OutputMeta) -> Result<()> {
    let id = &meta.page_id;
    check_page_id(id)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create the output folder", dir, e))?;

    // Withdraw the old commit marker before touching the text it vouches for.
    let meta_path = file(dir, id, "json");
    match std::fs::remove_file(&meta_path) {
        Ok(()) => tracing::debug!(page = %id, "replacing earlier output"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("remove", &meta_path, e)),
    }

    write_atomically(&file(dir, id, "txt"), recognition.text.as_bytes())?;
    write_atomically(&file(dir, id, "tsv"), recognition.tsv.as_bytes())?;

    // The meta last: from here on the page reads as done.
    let mut json = serde_json::to_vec_pretty(meta).map_err(|e| {
        let message = format!("could not encode the output meta of page '{id}': {e}");
        Error::with_source(ErrorKind::Io, message, e)
    })?;
    json.push(b'\n');
    write_atomically(&meta_path, &json)?;
    tracing::debug!(page = %id, dir = %dir.display(), "output written");
    Ok(())
}

/// Reads `<dir>/<page_id>.json` if it is present and parseable, names this
/// page, and `<page_id>.txt` exists; `None` otherwise. A meta file that
/// cannot be used is logged as a warning naming it and treated as absent.
pub fn read_output_meta(dir: &Path, page_id: &str) -> Option<OutputMeta> {
    if let Err(e) = check_page_id(page_id) {
        tracing::warn!(page = page_id, error = %e, "cannot look up output");
        return None;
    }
    let meta_path = file(dir, page_id, "json");
    let bytes = match std::fs::read(&meta_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!(file = %meta_path.display(), error = %e, "output meta unreadable");
            return None;
        }
    };
    let meta: OutputMeta = match serde_json::from_slice(&bytes) {
        Ok(meta) => meta,
        Err(e) => {
            tracing::warn!(
                file = %meta_path.display(), error = %e,
                "output meta is not valid; the page counts as not done"
            );
            return None;
        }
    };
    if meta.page_id != page_id {
        tracing::warn!(
            file = %meta_path.display(), found = %meta.page_id,
            "output meta names another page; the page counts as not done"
        );
        return None;
    }
    let text_path = file(dir, page_id, "txt");
    if !text_path.is_file() {
        tracing::warn!(
            file = %meta_path.display(), missing = %text_path.display(),
            "output meta has no text beside it; the page counts as not done"
        );
        return None;
    }
    Some(meta)
}

fn file(dir: &Path, page_id: &str, extension: &str) -> PathBuf {
    dir.join(format!("{page_id}.{extension}"))
}

/// A page id becomes a file name stem, so it must not leave the folder.
fn check_page_id(page_id: &str) -> Result<()> {
    let bad = page_id.is_empty()
        || page_id == "."
        || page_id == ".."
        || page_id.contains(['/', '\\', '\0']);
    if !bad {
        return Ok(());
    }
    let message = format!(
        "page id '{page_id}' cannot name an output file; \
         use a plain name such as '007' without slashes"
    );
    let source = std::io::Error::new(std::io::ErrorKind::InvalidInput, "bad page id");
    Err(Error::with_source(ErrorKind::Io, message, source))
}

fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    let mut file = AtomicWriteFile::open(path).map_err(|e| Error::io("create", path, e))?;
    file.write_all(contents).map_err(|e| Error::io("write", path, e))?;
    file.commit().map_err(|e| Error::io("save", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(page_id: &str) -> (Recognition, OutputMeta) {
        let recognition = Recognition {
            text: "This is a lot of 12 point text\n".to_string(),
            tsv: "level\tpage_num\n5\t1\n".to_string(),
            mean_confidence: Some(91.25),
            words: 8,
            seconds: 0.24,
        };
        let meta = OutputMeta {
            page_id: page_id.to_string(),
            engine: "tesseract".to_string(),
            engine_version: "5.3.0".to_string(),
            language: "eng".to_string(),
            mean_confidence: recognition.mean_confidence,
            words: recognition.words,
            seconds: recognition.seconds,
            finished_at: chrono::DateTime::from_timestamp(1_780_000_000, 0)
                .expect("a valid timestamp"),
            task_id: "t-1".to_string(),
        };
        (recognition, meta)
    }

    #[test]
    fn round_trip_writes_three_files_and_reads_the_meta_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("out").join("nested");
        let (recognition, meta) = sample("007");

        assert_eq!(read_output_meta(&dir, "007"), None);
        write_output(&dir, &recognition, &meta).unwrap();

        assert_eq!(std::fs::read_to_string(dir.join("007.txt")).unwrap(), recognition.text);
        assert_eq!(std::fs::read_to_string(dir.join("007.tsv")).unwrap(), recognition.tsv);
        assert_eq!(read_output_meta(&dir, "007"), Some(meta));
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["007.json", "007.tsv", "007.txt"], "no temporary files left");
    }

    #[test]
    fn rewriting_replaces_the_output() {
        let tmp = tempfile::tempdir().unwrap();
        let (mut recognition, mut meta) = sample("001");
        write_output(tmp.path(), &recognition, &meta).unwrap();

        recognition.text = "second run\n".to_string();
        meta.task_id = "t-2".to_string();
        write_output(tmp.path(), &recognition, &meta).unwrap();

        let read = read_output_meta(tmp.path(), "001").unwrap();
        assert_eq!(read.task_id, "t-2");
        let text = std::fs::read_to_string(tmp.path().join("001.txt")).unwrap();
        assert_eq!(text, "second run\n");
    }

    #[test]
    fn junk_meta_reads_as_absent() {
        let tmp = tempfile::tempdir().unwrap();
        let (recognition, meta) = sample("002");
        write_output(tmp.path(), &recognition, &meta).unwrap();

        std::fs::write(tmp.path().join("002.json"), b"{\"page_id\": \"002\", trunc").unwrap();
        assert_eq!(read_output_meta(tmp.path(), "002"), None);

        std::fs::write(tmp.path().join("002.json"), b"[1, 2, 3]").unwrap();
        assert_eq!(read_output_meta(tmp.path(), "002"), None);
    }

    #[test]
    fn meta_without_text_reads_as_absent() {
        let tmp = tempfile::tempdir().unwrap();
        let (recognition, meta) = sample("003");
        write_output(tmp.path(), &recognition, &meta).unwrap();
        std::fs::remove_file(tmp.path().join("003.txt")).unwrap();
        assert_eq!(read_output_meta(tmp.path(), "003"), None);
    }

    #[test]
    fn meta_of_another_page_reads_as_absent() {
        let tmp = tempfile::tempdir().unwrap();
        let (recognition, meta) = sample("004");
        write_output(tmp.path(), &recognition, &meta).unwrap();
        std::fs::copy(tmp.path().join("004.json"), tmp.path().join("005.json")).unwrap();
        std::fs::copy(tmp.path().join("004.txt"), tmp.path().join("005.txt")).unwrap();
        assert_eq!(read_output_meta(tmp.path(), "005"), None);
    }

    #[test]
    fn page_ids_that_leave_the_folder_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        for bad in ["", ".", "..", "../escape", "a/b", "a\\b"] {
            let (recognition, meta) = sample(bad);
            let err = write_output(tmp.path(), &recognition, &meta).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Io, "{bad:?}");
            assert!(err.to_string().contains(&format!("page id '{bad}'")), "{err}");
            assert_eq!(read_output_meta(tmp.path(), bad), None);
        }
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}
