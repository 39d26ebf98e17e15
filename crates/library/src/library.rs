//! The library: one folder whose sub-folders are projects.
//!
//! This module owns finding projects by slug and listing them. Pages are
//! [`crate::pages`]'s business, PDF import [`crate::import`]'s.
//!
//! Rule: a folder is a project only if its name is a valid [`Slug`]; nothing
//! else in the library folder is touched or reported as a project.

use std::io;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};
use crate::import::{self, ImportOptions, ImportProgress};
use crate::metadata::METADATA_FILE;
use crate::pages;
use crate::project::Project;
use crate::slug::Slug;

/// Marks the temporary folder of an import in progress: `<slug>.importing-…`.
pub(crate) const IMPORTING_MARK: &str = ".importing-";

/// The editor's library of projects.
#[derive(Clone, Debug)]
pub struct Library {
    root: PathBuf,
}

impl Library {
    /// Opens the library folder `root`, which must exist.
    ///
    /// A relative `root` is made absolute against the current directory, so
    /// every path handed out later is absolute.
    pub fn open(root: impl Into<PathBuf>) -> Result<Library> {
        let root = root.into();
        let root = std::path::absolute(&root).map_err(|e| Error::io("resolve", &root, e))?;
        match std::fs::metadata(&root) {
            Ok(meta) if meta.is_dir() => Ok(Library { root }),
            Ok(_) => Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "library path '{}' is not a folder; set KDESK_LIBRARY or pass --library \
                     with the folder that holds your projects",
                    root.display()
                ),
            )),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "library folder '{}' does not exist; create it, or set KDESK_LIBRARY or \
                     pass --library with the folder that holds your projects",
                    root.display()
                ),
            )
            .with_source(e)),
            Err(e) => Err(Error::io("open library folder", &root, e)),
        }
    }

    /// The library folder, absolute.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every project in the library, sorted by slug.
    ///
    /// A project is a sub-folder named by a valid slug that holds page images
    /// or a `project.toml`. Hidden folders and imports in progress are
    /// skipped quietly; other folders with invalid names are skipped with a
    /// warning. A project whose `project.toml` does not parse makes the whole
    /// listing fail, naming that file.
    pub fn projects(&self) -> Result<Vec<Project>> {
        let entries =
            std::fs::read_dir(&self.root).map_err(|e| Error::io("read folder", &self.root, e))?;

        let mut projects = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read folder", &self.root, e))?;
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            if name.contains(IMPORTING_MARK) {
                tracing::debug!(
                    folder = %path.display(),
                    "import in progress or abandoned, skipped"
                );
                continue;
            }
            let slug = match Slug::parse(&name) {
                Ok(slug) => slug,
                Err(e) => {
                    tracing::warn!(folder = %path.display(), error = %e, "folder skipped");
                    continue;
                }
            };

            let has_pages = match pages::has_page_files(&path) {
                Ok(has) => has,
                Err(e) => {
                    tracing::warn!(
                        slug = %slug,
                        error = %e,
                        "project folder not readable, skipped"
                    );
                    continue;
                }
            };
            if has_pages || path.join(METADATA_FILE).is_file() {
                // One project's broken metadata must not hide the library:
                // it is named in a warning, and opening it says what to fix.
                match Project::open(slug.clone(), path) {
                    Ok(project) => projects.push(project),
                    Err(e) if e.kind() == ErrorKind::InvalidMetadata => {
                        tracing::warn!(slug = %slug, error = %e, "project skipped");
                    }
                    Err(e) => return Err(e),
                }
            }
        }

        projects.sort_by(|a, b| a.slug.cmp(&b.slug));
        Ok(projects)
    }

    /// The project named `slug`, which must have a folder in the library. A
    /// project without pages is returned too; see [`Project::pages`].
    pub fn project(&self, slug: &Slug) -> Result<Project> {
        let path = self.project_path(slug);
        if !path.is_dir() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "no project '{slug}' in library '{}'; `kdesk projects` lists them",
                    self.root.display()
                ),
            ));
        }
        Project::open(slug.clone(), path)
    }

    /// Where the project `slug` lives or would live.
    pub fn project_path(&self, slug: &Slug) -> PathBuf {
        self.root.join(slug.as_str())
    }

    /// Turns a PDF into a new project named `slug`, one PNG per page in
    /// `<slug>/pages/`. See [`crate::import`] for the steps and guarantees.
    pub fn import_pdf(&self, pdf: &Path, slug: &Slug, options: &ImportOptions) -> Result<Project> {
        self.import_pdf_with_progress(pdf, slug, options, &mut |_| {})
    }

    /// Like [`Library::import_pdf`], calling `progress` after each page is
    /// rendered.
    pub fn import_pdf_with_progress(
        &self,
        pdf: &Path,
        slug: &Slug,
        options: &ImportOptions,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<Project> {
        import::import_pdf(self, pdf, slug, options, progress)?;
        self.project(slug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn open_refuses_a_missing_folder_and_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");

        let err = Library::open(&missing).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        let message = err.to_string();
        assert!(message.contains(&format!("'{}'", missing.display())), "{message}");
        assert!(message.contains("KDESK_LIBRARY") && message.contains("--library"), "{message}");
    }

    #[test]
    fn open_refuses_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"x").unwrap();

        let err = Library::open(&file).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert!(err.to_string().contains("is not a folder"), "{err}");
    }

    #[test]
    fn open_makes_a_relative_root_absolute() {
        let library = Library::open(".").unwrap();
        assert!(library.root().is_absolute());
    }

    #[test]
    fn projects_lists_only_valid_folders_with_pages_or_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in
            ["b-book", "a-book", "meta-only", "empty", "Bad Name", ".hidden", "c.importing-x1"]
        {
            fs::create_dir(root.join(name)).unwrap();
        }
        fs::create_dir(root.join("b-book/pages")).unwrap();
        fs::write(root.join("b-book/pages/001.png"), b"x").unwrap();
        fs::write(root.join("a-book/001.jpg"), b"x").unwrap();
        fs::write(root.join("meta-only/project.toml"), "title = \"M\"\n").unwrap();
        fs::write(root.join("Bad Name/001.png"), b"x").unwrap();
        fs::write(root.join(".hidden/001.png"), b"x").unwrap();
        fs::write(root.join("c.importing-x1/001.png"), b"x").unwrap();
        fs::write(root.join("loose-file.png"), b"x").unwrap();

        let library = Library::open(root).unwrap();
        let projects = library.projects().unwrap();
        let slugs: Vec<&str> = projects.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(slugs, ["a-book", "b-book", "meta-only"]);
        assert_eq!(projects[2].metadata.title, "M");
        assert_eq!(projects[0].root, root.join("a-book"));
    }

    #[test]
    fn project_not_found_names_slug_and_library() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path()).unwrap();

        let err = library.project(&Slug::parse("x").unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
        assert_eq!(
            err.to_string(),
            format!(
                "no project 'x' in library '{}'; `kdesk projects` lists them",
                dir.path().display()
            )
        );
    }

    #[test]
    fn project_without_pages_still_opens() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("empty")).unwrap();
        let library = Library::open(dir.path()).unwrap();

        let project = library.project(&Slug::parse("empty").unwrap()).unwrap();
        assert!(project.pages().unwrap().is_empty());
        assert_eq!(project.metadata.title, "empty");
    }

    /// Regression: one project's broken `project.toml` made the whole
    /// listing fail, hiding every other project.
    #[test]
    fn broken_metadata_skips_that_project_only() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("book")).unwrap();
        fs::write(dir.path().join("book/project.toml"), "title = [\n").unwrap();
        fs::create_dir(dir.path().join("other")).unwrap();
        fs::write(dir.path().join("other/project.toml"), "title = \"Other\"\n").unwrap();
        let library = Library::open(dir.path()).unwrap();

        let listed: Vec<String> =
            library.projects().unwrap().iter().map(|p| p.slug.to_string()).collect();
        assert_eq!(listed, vec!["other".to_string()]);
        let err = library.project(&Slug::parse("book").unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidMetadata);
        assert!(err.to_string().contains("book/project.toml"), "{err}");
    }
}
