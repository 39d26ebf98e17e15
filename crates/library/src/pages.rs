//! Finding a project's page images and putting them in reading order.
//!
//! This module owns the answer to "which pages does this project have, in
//! what order, under which ids". It looks at file names and, for TIFFs, at
//! the file's directory of frames; it never decodes pixels and never judges
//! whether an image is readable. That is the OCR stage's job, page by page.
//!
//! Rule: listing never fails because of one bad file. A file that cannot be
//! inspected is still listed as one page, so the problem is reported against
//! that page instead of hiding the whole project.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The sub-folder that holds page images when a project has one.
pub const PAGES_DIR: &str = "pages";

/// One page to OCR: an image file, or one frame of a multi-page TIFF.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// The page's name within its project, and the stem of every output file
    /// made from it: `007` for `007.tif`, `book-p003` for the third frame of
    /// `book.tif`. Unique within a project.
    pub id: String,
    /// The absolute path of the image file.
    pub path: PathBuf,
    /// Which frame of a multi-page TIFF this page is (0-based); `None` when
    /// the file holds a single image.
    pub frame: Option<u32>,
    /// The image format, from the file's extension.
    pub format: PageFormat,
}

/// The image formats a project's pages may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageFormat {
    Png,
    Jpeg,
    Tiff,
    Webp,
}

impl PageFormat {
    /// The format a file extension names, ignoring case; `None` for
    /// anything that is not a page image.
    pub fn from_extension(ext: &OsStr) -> Option<PageFormat> {
        let ext = ext.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "png" => Some(PageFormat::Png),
            "jpg" | "jpeg" => Some(PageFormat::Jpeg),
            "tif" | "tiff" => Some(PageFormat::Tiff),
            "webp" => Some(PageFormat::Webp),
            _ => None,
        }
    }

    /// The format's lowercase name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            PageFormat::Png => "png",
            PageFormat::Jpeg => "jpeg",
            PageFormat::Tiff => "tiff",
            PageFormat::Webp => "webp",
        }
    }
}

/// The folder a project's pages are read from: `pages/` if it exists,
/// otherwise the project folder itself.
pub(crate) fn page_dir(project_root: &Path) -> PathBuf {
    let pages = project_root.join(PAGES_DIR);
    if pages.is_dir() {
        pages
    } else {
        project_root.to_path_buf()
    }
}

/// Lists a project's pages in natural order, with unique ids.
pub(crate) fn list(project_root: &Path) -> Result<Vec<Page>> {
    let mut pages = Vec::new();
    for (path, format) in image_files(&page_dir(project_root))? {
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let frames = match format {
            PageFormat::Tiff => tiff_frame_count(&path),
            _ => 1,
        };

        if frames > 1 {
            for frame in 0..frames {
                pages.push(Page {
                    id: format!("{stem}-p{:03}", frame + 1),
                    path: path.clone(),
                    frame: Some(frame),
                    format,
                });
            }
        } else {
            pages.push(Page { id: stem, path, frame: None, format });
        }
    }

    make_ids_unique(&mut pages);
    Ok(pages)
}

/// Whether the project folder holds at least one page image, without
/// looking inside any file.
pub(crate) fn has_page_files(project_root: &Path) -> Result<bool> {
    Ok(!image_files(&page_dir(project_root))?.is_empty())
}

/// The page images directly in `dir`, sorted in natural order by file name.
///
/// Hidden files (such as macOS's `._001.tif` companions) are skipped, and so
/// are folders and files whose extension is not an image's.
fn image_files(dir: &Path) -> Result<Vec<(PathBuf, PageFormat)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("read folder", dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read folder", dir, e))?;
        let name = entry.file_name();
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        let Some(format) = path.extension().and_then(PageFormat::from_extension) else {
            continue;
        };

        // Follows symbolic links, so a linked page counts as a page.
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => files.push((path, format)),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(
                    file = %path.display(),
                    error = %e,
                    "page image not readable, skipped"
                );
            }
        }
    }

    files.sort_by(|(a, _), (b, _)| {
        let a_name = a.file_name().unwrap_or_default();
        let b_name = b.file_name().unwrap_or_default();
        alphanumeric_sort::compare_str(a_name.to_string_lossy(), b_name.to_string_lossy())
            .then_with(|| a_name.cmp(b_name))
    });
    Ok(files)
}

/// How many frames a TIFF holds, reading only its directories.
///
/// A file whose header or first directory cannot be read counts as one
/// frame: the OCR stage will report it. Counting stops at the first
/// directory that cannot be read.
fn tiff_frame_count(path: &Path) -> u32 {
    let decoder = File::open(path)
        .map_err(tiff::TiffError::from)
        .and_then(|file| tiff::decoder::Decoder::new(BufReader::new(file)));
    let mut decoder = match decoder {
        Ok(decoder) => decoder,
        Err(e) => {
            tracing::debug!(
                file = %path.display(),
                error = %e,
                "TIFF header not readable, one page"
            );
            return 1;
        }
    };

    let mut frames = 1;
    while decoder.more_images() {
        // `next_image` moves to the next directory before it interprets the
        // image's tags; a frame counts once its directory has been read,
        // even if its tags are unusual.
        let before = decoder.ifd_pointer();
        let result = decoder.next_image();
        if decoder.ifd_pointer() == before {
            if let Err(e) = result {
                tracing::debug!(
                    file = %path.display(),
                    frames,
                    error = %e,
                    "TIFF directory unreadable, counting stops"
                );
            }
            break;
        }
        frames += 1;
    }
    frames
}

/// Gives pages that share an id (`001.png` next to `001.tif`) distinct ids.
///
/// Every page whose id is shared gets its file extension appended
/// (`001-png`, `001-tif`). Ids still shared after that, such as from
/// `001.png` and `001.PNG`, get `-2`, `-3`... in listing order.
fn make_ids_unique(pages: &mut [Page]) {
    let shared = shared_ids(pages);
    if shared.is_empty() {
        return;
    }
    for page in pages.iter_mut().filter(|p| shared.contains(&p.id)) {
        let ext =
            page.path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        tracing::debug!(
            file = %page.path.display(),
            id = %page.id,
            "page id shared, extension appended"
        );
        page.id = format!("{}-{ext}", page.id);
    }

    let shared = shared_ids(pages);
    if shared.is_empty() {
        return;
    }
    let all: HashSet<String> = pages.iter().map(|p| p.id.clone()).collect();
    let mut taken = HashSet::new();
    for page in pages.iter_mut() {
        if taken.insert(page.id.clone()) {
            continue;
        }
        let mut n = 2;
        let id = loop {
            let candidate = format!("{}-{n}", page.id);
            if !all.contains(&candidate) && !taken.contains(&candidate) {
                break candidate;
            }
            n += 1;
        };
        taken.insert(id.clone());
        page.id = id;
    }
}

fn shared_ids(pages: &[Page]) -> HashSet<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for page in pages {
        *counts.entry(page.id.as_str()).or_default() += 1;
    }
    counts.into_iter().filter(|&(_, n)| n > 1).map(|(id, _)| id.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use tiff::encoder::{colortype, TiffEncoder};

    /// Writes `frames` small gray frames into a TIFF at `path`.
    fn write_tiff(path: &Path, frames: usize) {
        let file = File::create(path).unwrap();
        let mut encoder = TiffEncoder::new(file).unwrap();
        let pixels = vec![200u8; 32 * 24];
        for _ in 0..frames {
            encoder.write_image::<colortype::Gray8>(32, 24, &pixels).unwrap();
        }
    }

    fn touch(dir: &Path, names: &[&str]) {
        for name in names {
            fs::write(dir.join(name), b"not really an image").unwrap();
        }
    }

    fn ids(pages: &[Page]) -> Vec<&str> {
        pages.iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn natural_order_puts_p2_before_p10() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["p10.png", "p2.png", "p1.png", "page02.png", "page1.png", "p11.jpg"]);

        let pages = list(dir.path()).unwrap();
        assert_eq!(ids(&pages), ["p1", "p2", "p10", "p11", "page1", "page02"]);
    }

    #[test]
    fn only_image_extensions_count_in_any_case() {
        let dir = tempfile::tempdir().unwrap();
        touch(
            dir.path(),
            &[
                "001.PNG",
                "002.Jpg",
                "003.jpeg",
                "004.TIFF",
                "005.webp",
                "001.gt.txt",
                "notes.md",
                "scan.pdf",
                ".hidden.png",
                "noext",
            ],
        );
        fs::create_dir(dir.path().join("ocr")).unwrap();
        touch(&dir.path().join("ocr"), &["001.png"]);
        fs::create_dir(dir.path().join("folder.png")).unwrap();

        let pages = list(dir.path()).unwrap();
        assert_eq!(ids(&pages), ["001", "002", "003", "004", "005"]);
        let formats: Vec<_> = pages.iter().map(|p| p.format).collect();
        assert_eq!(
            formats,
            [
                PageFormat::Png,
                PageFormat::Jpeg,
                PageFormat::Jpeg,
                PageFormat::Tiff,
                PageFormat::Webp
            ]
        );
        assert!(pages.iter().all(|p| p.frame.is_none()));
        assert_eq!(pages[0].path, dir.path().join("001.PNG"));
    }

    #[test]
    fn pages_folder_wins_over_loose_files() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["cover.png"]);
        fs::create_dir(dir.path().join(PAGES_DIR)).unwrap();
        touch(&dir.path().join(PAGES_DIR), &["001.png", "002.png"]);

        let pages = list(dir.path()).unwrap();
        assert_eq!(ids(&pages), ["001", "002"]);
        assert!(pages[0].path.starts_with(dir.path().join(PAGES_DIR)));
        assert!(has_page_files(dir.path()).unwrap());
    }

    #[test]
    fn empty_project_lists_no_pages() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["project.toml", "001.gt.txt"]);

        assert!(list(dir.path()).unwrap().is_empty());
        assert!(!has_page_files(dir.path()).unwrap());
    }

    #[test]
    fn shared_stems_get_their_extension_appended() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["001.png", "001.tif", "002.png"]);

        let pages = list(dir.path()).unwrap();
        assert_eq!(ids(&pages), ["001-png", "001-tif", "002"]);
    }

    #[test]
    fn ids_stay_unique_when_extensions_differ_only_in_case() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["001.png", "001.PNG", "001-png-2.png"]);

        let pages = list(dir.path()).unwrap();
        let unique: HashSet<_> = ids(&pages).into_iter().collect();
        assert_eq!(unique.len(), 3, "{:?}", ids(&pages));
        assert_eq!(ids(&pages), ids(&list(dir.path()).unwrap()), "deterministic");
    }

    #[test]
    fn multi_page_tiff_becomes_one_page_per_frame() {
        let dir = tempfile::tempdir().unwrap();
        write_tiff(&dir.path().join("book.tif"), 3);
        write_tiff(&dir.path().join("single.tif"), 1);

        let pages = list(dir.path()).unwrap();
        assert_eq!(ids(&pages), ["book-p001", "book-p002", "book-p003", "single"]);
        let frames: Vec<_> = pages.iter().map(|p| p.frame).collect();
        assert_eq!(frames, [Some(0), Some(1), Some(2), None]);
        assert!(pages[..3].iter().all(|p| p.path == dir.path().join("book.tif")));
    }

    #[test]
    fn unreadable_tiff_is_still_one_page() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["bad.tif"]);
        fs::write(dir.path().join("empty.tiff"), b"").unwrap();

        let pages = list(dir.path()).unwrap();
        assert_eq!(ids(&pages), ["bad", "empty"]);
        assert!(pages.iter().all(|p| p.frame.is_none()));
    }

    #[test]
    fn tiff_cut_short_keeps_the_frames_it_still_has() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.tif");
        write_tiff(&path, 3);
        // The encoder writes each frame's pixels, then its directory; cutting
        // the end of the file loses the third directory only.
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 20]).unwrap();

        let pages = list(dir.path()).unwrap();
        assert_eq!(ids(&pages), ["cut-p001", "cut-p002"]);
    }

    #[test]
    fn format_serialises_lowercase() {
        assert_eq!(serde_json::to_string(&PageFormat::Jpeg).unwrap(), "\"jpeg\"");
        assert_eq!(PageFormat::Webp.as_str(), "webp");
    }
}
