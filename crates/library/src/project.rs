//! One project: a folder in the library holding a scanned book.
//!
//! A [`Project`] is a snapshot taken when it was opened: its slug, where it
//! lives and the metadata read then. Pages are listed afresh on every call,
//! because the editor may drop files into the folder at any time.
//!
//! Rule: this crate writes only `project.toml` inside an existing project;
//! page images belong to the editor and `ocr/` to the OCR stage.

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::metadata::{self, ProjectMetadata};
use crate::pages::{self, Page};
use crate::slug::Slug;

/// The folder inside a project where OCR output goes.
pub const OUTPUT_DIR: &str = "ocr";

/// A project in the library.
#[derive(Clone, Debug)]
pub struct Project {
    /// The project's name, equal to its folder's name.
    pub slug: Slug,
    /// The absolute path of the project folder.
    pub root: PathBuf,
    /// The metadata as read when the project was opened; change it and call
    /// [`Project::save_metadata`] to keep the change.
    pub metadata: ProjectMetadata,
}

impl Project {
    /// Opens the project folder `root` named `slug`, reading its metadata.
    pub(crate) fn open(slug: Slug, root: PathBuf) -> Result<Project> {
        let metadata = metadata::load(&root, slug.as_str())?;
        Ok(Project { slug, root, metadata })
    }

    /// The project's pages in reading order; empty when it has none yet.
    ///
    /// Image files are read from `<root>/pages/` when that folder exists,
    /// otherwise from `<root>` itself. A multi-page TIFF gives one page per
    /// frame. See [`Page::id`] for how pages are named.
    pub fn pages(&self) -> Result<Vec<Page>> {
        pages::list(&self.root)
    }

    /// Like [`Project::pages`], but a project without pages is an error of
    /// kind [`ErrorKind::NoPages`] telling the editor where to put them.
    pub fn require_pages(&self) -> Result<Vec<Page>> {
        let pages = self.pages()?;
        if pages.is_empty() {
            let message = format!(
                "project '{}' has no page images; put PNG, JPEG, TIFF or WebP files in '{}' \
                 or import a PDF",
                self.slug,
                self.root.join(pages::PAGES_DIR).display()
            );
            return Err(Error::new(ErrorKind::NoPages, message));
        }
        Ok(pages)
    }

    /// Where OCR output for this project goes: `<root>/ocr`. Not created
    /// here; whoever writes there creates it.
    pub fn output_dir(&self) -> PathBuf {
        self.root.join(OUTPUT_DIR)
    }

    /// The path of the project's metadata file, whether it exists or not.
    pub fn metadata_path(&self) -> PathBuf {
        self.root.join(metadata::METADATA_FILE)
    }

    /// Writes [`Project::metadata`] to `project.toml`, atomically.
    pub fn save_metadata(&self) -> Result<()> {
        metadata::save(&self.root, &self.metadata)
    }

    /// The project folder; the same as [`Project::root`].
    pub fn path(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_in(dir: &Path) -> Project {
        Project::open(Slug::parse("demo").unwrap(), dir.to_path_buf()).unwrap()
    }

    #[test]
    fn save_metadata_then_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut project = project_in(dir.path());
        assert_eq!(project.metadata.title, "demo");

        project.metadata.title = "A Demo".to_owned();
        project.metadata.language = "san".to_owned();
        project.save_metadata().unwrap();

        let reopened = project_in(dir.path());
        assert_eq!(reopened.metadata, project.metadata);
        assert!(project.metadata_path().is_file());
    }

    #[test]
    fn require_pages_says_where_pages_go() {
        let dir = tempfile::tempdir().unwrap();
        let project = project_in(dir.path());

        assert!(project.pages().unwrap().is_empty());
        let err = project.require_pages().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NoPages);
        assert!(err.to_string().contains("project 'demo' has no page images"), "{err}");
    }

    #[test]
    fn output_dir_is_ocr_inside_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let project = project_in(dir.path());
        assert_eq!(project.output_dir(), dir.path().join("ocr"));
        assert!(!project.output_dir().exists(), "not created by asking");
    }
}
