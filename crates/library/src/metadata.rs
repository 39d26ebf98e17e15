//! A project's metadata file, `<project>/project.toml`.
//!
//! This module owns reading and writing that one file. The file is meant to
//! be edited by hand, so every key is optional and a missing file simply
//! means "all defaults".
//!
//! Rule: a file that exists but does not parse is an error naming the file,
//! never silently replaced by defaults: that would throw the editor's
//! changes away at the next save.

use std::io::{self, Write};
use std::path::Path;

use atomic_write_file::AtomicWriteFile;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// The metadata file's name inside a project folder.
pub const METADATA_FILE: &str = "project.toml";

/// The keys [`ProjectMetadata`] reads; any other key earns a warning.
const KNOWN_KEYS: [&str; 3] = ["title", "language", "engine"];

/// What the editor says about a project, kept in `project.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectMetadata {
    /// The book's title as shown to people. When the file leaves it out or
    /// empty, the project's slug is used.
    #[serde(default)]
    pub title: String,
    /// The OCR language(s) in Tesseract's notation, such as `san` or
    /// `tam+eng`. Read by the OCR stage; this crate does not check it.
    #[serde(default = "default_language")]
    pub language: String,
    /// Which OCR engine the project uses. Read by the OCR stage.
    #[serde(default = "default_engine")]
    pub engine: String,
}

fn default_language() -> String {
    "eng".to_owned()
}

fn default_engine() -> String {
    "tesseract".to_owned()
}

impl ProjectMetadata {
    /// Metadata with the given title and the default language and engine.
    pub fn new(title: impl Into<String>) -> ProjectMetadata {
        ProjectMetadata {
            title: title.into(),
            language: default_language(),
            engine: default_engine(),
        }
    }
}

/// Reads `<project_root>/project.toml`, or gives defaults when it is absent.
///
/// `fallback_title` (the slug) fills a missing or blank title.
pub(crate) fn load(project_root: &Path, fallback_title: &str) -> Result<ProjectMetadata> {
    let mut metadata = read(project_root)?.unwrap_or_else(|| ProjectMetadata::new(fallback_title));
    if metadata.title.trim().is_empty() {
        metadata.title = fallback_title.to_owned();
    }
    Ok(metadata)
}

/// Reads `<project_root>/project.toml` as written, blank title included;
/// `None` when there is no such file.
pub(crate) fn read(project_root: &Path) -> Result<Option<ProjectMetadata>> {
    let path = project_root.join(METADATA_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path, e)),
    };

    let metadata: ProjectMetadata = toml::from_str(&text).map_err(|e| {
        let message = format!(
            "metadata file '{}' is not valid: {}; fix it or delete it to use the defaults",
            path.display(),
            e.to_string().trim_end()
        );
        Error::new(ErrorKind::InvalidMetadata, message).with_source(e)
    })?;

    // A misspelt key would otherwise be ignored without a word.
    if let Ok(table) = toml::from_str::<toml::Table>(&text) {
        for key in table.keys().filter(|k| !KNOWN_KEYS.contains(&k.as_str())) {
            tracing::warn!(
                file = %path.display(),
                key = %key,
                "unknown key in metadata file, ignored"
            );
        }
    }
    Ok(Some(metadata))
}

/// Writes `<project_root>/project.toml` atomically: a reader sees either the
/// old file or the new one, never a half-written file.
pub(crate) fn save(project_root: &Path, metadata: &ProjectMetadata) -> Result<()> {
    let path = project_root.join(METADATA_FILE);
    let text = toml::to_string_pretty(metadata).map_err(|e| {
        // Three plain strings always serialise; this is here for completeness.
        let message = format!("could not write metadata '{}': {e}", path.display());
        Error::new(ErrorKind::Io, message).with_source(e)
    })?;

    let mut file = AtomicWriteFile::open(&path).map_err(|e| Error::io("write", &path, e))?;
    file.write_all(text.as_bytes()).map_err(|e| Error::io("write", &path, e))?;
    file.commit().map_err(|e| Error::io("write", &path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_titled_after_the_slug() {
        let dir = tempfile::tempdir().unwrap();
        let metadata = load(dir.path(), "tam-old-books").unwrap();
        assert_eq!(metadata, ProjectMetadata::new("tam-old-books"));
        assert_eq!(metadata.language, "eng");
        assert_eq!(metadata.engine, "tesseract");
    }

    #[test]
    fn round_trip_keeps_every_field() {
        let dir = tempfile::tempdir().unwrap();
        let metadata = ProjectMetadata {
            title: "தமிழ் \"old\" books".to_owned(),
            language: "tam+eng".to_owned(),
            engine: "other".to_owned(),
        };

        save(dir.path(), &metadata).unwrap();
        assert_eq!(load(dir.path(), "ignored").unwrap(), metadata);
    }

    #[test]
    fn hand_written_partial_file_fills_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(METADATA_FILE), "language = \"san\"\n").unwrap();

        let metadata = load(dir.path(), "san-book").unwrap();
        assert_eq!(metadata.title, "san-book");
        assert_eq!(metadata.language, "san");
        assert_eq!(metadata.engine, "tesseract");
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let text = "title = \"T\"\nlangauge = \"san\"\n";
        std::fs::write(dir.path().join(METADATA_FILE), text).unwrap();

        let metadata = load(dir.path(), "x").unwrap();
        assert_eq!(metadata.title, "T");
        assert_eq!(metadata.language, "eng");
    }

    #[test]
    fn broken_file_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(METADATA_FILE);
        std::fs::write(&path, "title = \"unterminated\nlanguage = 3\n").unwrap();

        let err = load(dir.path(), "x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidMetadata);
        let message = err.to_string();
        assert!(message.contains(&format!("'{}'", path.display())), "{message}");
        assert!(message.contains("fix it or delete it"), "{message}");
        assert!(message.contains("line 1"), "the toml error is quoted: {message}");
    }

    #[test]
    fn wrong_type_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(METADATA_FILE), "language = 3\n").unwrap();

        let err = load(dir.path(), "x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidMetadata);
        assert!(err.to_string().contains("language"), "{err}");
    }

    #[test]
    fn save_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        save(dir.path(), &ProjectMetadata::new("first")).unwrap();
        save(dir.path(), &ProjectMetadata::new("second")).unwrap();

        assert_eq!(load(dir.path(), "x").unwrap().title, "second");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left behind");
    }
}
