//! Turning a PDF into a project of page images, with Debian's poppler-utils.
//!
//! `pdfinfo` reads the page count, the title and each page's size; then
//! `pdftoppm` renders one page at a time to `pages/001.png`, `002.png`... in
//! a temporary folder next to the target, `<slug>.importing-<random>`. Every
//! rendered page is checked before the folder is renamed into place.
//!
//! Rule: an import either leaves a complete project or nothing at all. The
//! temporary folder is removed on every failure, and a page that poppler
//! silently failed to draw (it writes a 1x1 image and exits 0 on a page it
//! cannot allocate) fails the import instead of becoming a blank page.
//!
//! Currently the tools get no time limit: a PDF that makes poppler loop
//! keeps the import waiting until the process is killed.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::library::{Library, IMPORTING_MARK};
use crate::metadata::{self, ProjectMetadata};
use crate::pages::{self, PAGES_DIR};
use crate::slug::Slug;

/// A page is rendered at most this many pixels on its longest side; the dpi
/// is lowered for larger pages. Tesseract gains nothing above this, and
/// poppler fails silently far above it.
pub const MAX_PAGE_SIDE_PX: u32 = 10_000;

/// A rendered page smaller than this on either side is taken as a render
/// that failed without saying so.
const MIN_PAGE_SIDE_PX: usize = 16;

/// How to import a PDF.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// Rendering resolution in dots per inch; lowered per page when a page
    /// would exceed [`MAX_PAGE_SIDE_PX`].
    pub dpi: u32,
    /// The project's title; when `None`, the PDF's own title, or else the
    /// PDF's file name without extension.
    pub title: Option<String>,
    /// The OCR language to record in `project.toml`; when `None`, `eng`.
    pub language: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions { dpi: 300, title: None, language: None }
    }
}

/// Reported after each rendered page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportProgress {
    /// How many pages are rendered so far (1-based: the page just done).
    pub page: u32,
    /// How many pages the PDF has.
    pub pages: u32,
}

/// The poppler programs to run; tests point these at missing programs.
struct Tools {
    pdfinfo: &'static str,
    pdftoppm: &'static str,
}

const POPPLER: Tools = Tools { pdfinfo: "pdfinfo", pdftoppm: "pdftoppm" };

/// A poppler program that exited with an error, kept as an error's source.
#[derive(Debug, thiserror::Error)]
#[error("{program} exited with {status}: {stderr}")]
struct ToolFailed {
    program: &'static str,
    status: std::process::ExitStatus,
    stderr: String,
}

/// Imports `pdf` as the project `slug` of `library`; see the module docs.
pub(crate) fn import_pdf(
    library: &Library,
    pdf: &Path,
    slug: &Slug,
    options: &ImportOptions,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<()> {
    import_with(&POPPLER, library, pdf, slug, options, progress)
}

fn import_with(
    tools: &Tools,
    library: &Library,
    pdf: &Path,
    slug: &Slug,
    options: &ImportOptions,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<()> {
    let started = Instant::now();
    if options.dpi == 0 {
        return Err(Error::new(
            ErrorKind::ImportFailed,
            "a dpi of 0 cannot render anything; use 300 for most scans",
        ));
    }
    check_pdf_file(pdf)?;
    // An absolute path cannot be mistaken for an option by poppler.
    let pdf_arg = std::path::absolute(pdf).map_err(|e| Error::io("resolve", pdf, e))?;

    // 1. Never overwrite pages; keep metadata of a folder made beforehand.
    let target = library.project_path(slug);
    let existing = existing_metadata(&target, slug)?;

    // 2. Ask poppler what the PDF holds.
    let info = pdf_info(tools, pdf, &pdf_arg)?;
    tracing::info!(slug = %slug, pdf = %pdf.display(), pages = info.pages, "import started");

    // 3. Render every page into a temporary folder, removed when dropped.
    let prefix = format!("{slug}{IMPORTING_MARK}");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    // tempfile makes private (0700) folders; a project folder should get the
    // permissions of any folder the editor makes, so the umask decides.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o777));
    }
    let temp = builder
        .tempdir_in(library.root())
        .map_err(|e| Error::io("create a temporary folder in", library.root(), e))?;
    let pages_dir = temp.path().join(PAGES_DIR);
    std::fs::create_dir(&pages_dir).map_err(|e| Error::io("create folder", &pages_dir, e))?;

    let width = info.pages.to_string().len().max(3);
    for page in 1..=info.pages {
        let max_side_pts = info.max_side_pts.get(page as usize - 1).copied().flatten();
        let dpi = page_dpi(page, max_side_pts, options.dpi);
        let output = pages_dir.join(format!("{page:0width$}"));
        render_page(tools, pdf, &pdf_arg, page, dpi, &output)?;
        progress(ImportProgress { page, pages: info.pages });
    }

    // 4. Describe the project, then move it into place in one rename.
    let metadata = import_metadata(options, existing.as_ref(), &info, pdf, slug);
    match existing {
        None => {
            metadata::save(temp.path(), &metadata)?;
            std::fs::rename(temp.path(), &target).map_err(|e| install_error(&target, e))?;
            // The folder now lives at `target`; there is nothing left to remove.
            let _ = temp.keep();
        }
        Some(_) => {
            let target_pages = target.join(PAGES_DIR);
            std::fs::rename(&pages_dir, &target_pages)
                .map_err(|e| install_error(&target_pages, e))?;
            metadata::save(&target, &metadata)?;
        }
    }

    tracing::info!(
        slug = %slug,
        pages = info.pages,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "import finished"
    );
    Ok(())
}

fn check_pdf_file(pdf: &Path) -> Result<()> {
    match std::fs::metadata(pdf) {
        Ok(meta) if meta.is_file() => Ok(()),
        Ok(_) => Err(Error::new(
            ErrorKind::ImportFailed,
            format!("'{}' is not a file; give the path of a PDF", pdf.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::new(
            ErrorKind::NotFound,
            format!("no PDF at '{}'; check the path", pdf.display()),
        )
        .with_source(e)),
        Err(e) => Err(Error::io("read", pdf, e)),
    }
}

/// Refuses a target folder that has pages; returns the metadata of a target
/// folder that exists without pages (`None` when there is no folder).
fn existing_metadata(target: &Path, slug: &Slug) -> Result<Option<ProjectMetadata>> {
    match std::fs::metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", target, e)),
        Ok(meta) if !meta.is_dir() => {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "'{}' exists and is not a folder; pick another slug or move it away",
                    target.display()
                ),
            ));
        }
        Ok(_) => {}
    }
    if pages::has_page_files(target)? {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "project '{slug}' already has pages in '{}'; pick another slug or delete \
                 that folder",
                target.display()
            ),
        ));
    }
    // Pages are moved in as one `pages/` folder, which must be free.
    let pages_dir = target.join(PAGES_DIR);
    let pages_dir_used =
        std::fs::read_dir(&pages_dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    if pages_dir_used {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "'{}' already holds files other than page images; move them away or pick \
                 another slug",
                pages_dir.display()
            ),
        ));
    }

    // Without a file, or with a blank title, the PDF supplies the title.
    let metadata = metadata::read(target)?.unwrap_or_else(|| ProjectMetadata::new(""));
    Ok(Some(metadata))
}

fn install_error(target: &Path, e: io::Error) -> Error {
    if matches!(e.kind(), io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty) {
        let message = format!(
            "'{}' was filled while the PDF was imported; pick another slug or move it away",
            target.display()
        );
        Error::new(ErrorKind::AlreadyExists, message).with_source(e)
    } else {
        Error::io("move the imported pages to", target, e)
    }
}

fn import_metadata(
    options: &ImportOptions,
    existing: Option<&ProjectMetadata>,
    info: &PdfInfo,
    pdf: &Path,
    slug: &Slug,
) -> ProjectMetadata {
    let non_blank = |s: &str| -> Option<String> {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    let mut metadata = existing.cloned().unwrap_or_else(|| ProjectMetadata::new(""));

    let title = options
        .title
        .as_deref()
        .and_then(non_blank)
        .or_else(|| non_blank(&metadata.title))
        .or_else(|| info.title.clone())
        .or_else(|| pdf.file_stem().and_then(|s| non_blank(&s.to_string_lossy())))
        .unwrap_or_else(|| slug.to_string());
    metadata.title = title;
    if let Some(language) = options.language.as_deref().and_then(non_blank) {
        metadata.language = language;
    }
    metadata
}

/// What `pdfinfo` says about a PDF.
#[derive(Debug, PartialEq)]
struct PdfInfo {
    pages: u32,
    /// The document's title, unless blank or a placeholder like "Untitled".
    title: Option<String>,
    /// Each page's longest side in points, by page (index 0 is page 1).
    max_side_pts: Vec<Option<f64>>,
}

fn pdf_info(tools: &Tools, pdf: &Path, pdf_arg: &Path) -> Result<PdfInfo> {
    let summary = run(tools.pdfinfo, pdf, |cmd| {
        cmd.args(["-enc", "UTF-8"]).arg(pdf_arg);
    })?;
    let summary = String::from_utf8_lossy(&summary.stdout);
    let (pages, title) = parse_summary(&summary);
    let pages = pages.ok_or_else(|| {
        Error::new(
            ErrorKind::ImportFailed,
            format!("pdfinfo did not report a page count for '{}'; is it a PDF?", pdf.display()),
        )
    })?;
    if pages == 0 {
        return Err(Error::new(
            ErrorKind::NoPages,
            format!("'{}' has no pages; there is nothing to import", pdf.display()),
        ));
    }

    let per_page = run(tools.pdfinfo, pdf, |cmd| {
        cmd.args(["-box", "-f", "1", "-l"]).arg(pages.to_string()).arg(pdf_arg);
    })?;
    let max_side_pts = parse_page_sizes(&String::from_utf8_lossy(&per_page.stdout), pages);
    Ok(PdfInfo { pages, title, max_side_pts })
}

/// Reads `Pages:` and `Title:` from pdfinfo's summary.
fn parse_summary(text: &str) -> (Option<u32>, Option<String>) {
    let mut pages = None;
    let mut title = None;
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("Pages:") {
            pages = value.trim().parse().ok();
        } else if let Some(value) = line.strip_prefix("Title:") {
            let value = value.trim();
            // Ghostscript and some scanners write a placeholder title.
            if !value.is_empty() && !value.eq_ignore_ascii_case("untitled") {
                title = Some(value.to_owned());
            }
        }
    }
    (pages, title)
}

/// Reads each page's longest side from lines such as
/// `Page    2 size: 2160 x 2160 pts` and `Page    2 MediaBox: 0 0 2160 2160`,
/// taking the largest any line gives for that page.
fn parse_page_sizes(text: &str, pages: u32) -> Vec<Option<f64>> {
    let mut sides: Vec<Option<f64>> = vec![None; pages as usize];
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [first, number, label, rest @ ..] = words.as_slice() else {
            continue;
        };
        if *first != "Page" {
            continue;
        }
        let Some(page) = number.parse::<usize>().ok().filter(|p| (1..=sides.len()).contains(p))
        else {
            continue;
        };
        let numbers: Vec<f64> = rest.iter().map_while(|w| w.parse().ok()).collect();
        let side = match (*label, numbers.as_slice()) {
            ("size:", [w]) if rest.get(1) == Some(&"x") => {
                rest.get(2).and_then(|h| h.parse::<f64>().ok()).map(|h| w.max(h))
            }
            ("MediaBox:", [x1, y1, x2, y2]) => Some((x2 - x1).abs().max((y2 - y1).abs())),
            _ => None,
        };
        if let Some(side) = side.filter(|s| s.is_finite() && *s > 0.0) {
            let slot = &mut sides[page - 1];
            *slot = Some(slot.map_or(side, |old| old.max(side)));
        }
    }
    sides
}

/// The dpi to render `page` at: `dpi`, lowered so that the page's longest
/// side stays within [`MAX_PAGE_SIDE_PX`].
fn page_dpi(page: u32, max_side_pts: Option<f64>, dpi: u32) -> u32 {
    let Some(side) = max_side_pts else {
        tracing::warn!(page, dpi, "pdfinfo gave no size for this page, rendering as asked");
        return dpi;
    };
    let pixels = side * f64::from(dpi) / 72.0;
    if pixels <= f64::from(MAX_PAGE_SIDE_PX) {
        return dpi;
    }
    let lowered = (f64::from(MAX_PAGE_SIDE_PX) * 72.0 / side).floor().max(1.0) as u32;
    tracing::warn!(
        page,
        dpi = lowered,
        requested_dpi = dpi,
        side_pts = side,
        "page too large, rendering at a lower dpi"
    );
    lowered
}

/// Renders one page to `<output>.png` and checks the result is a real page.
fn render_page(
    tools: &Tools,
    pdf: &Path,
    pdf_arg: &Path,
    page: u32,
    dpi: u32,
    output: &Path,
) -> Result<()> {
    let started = Instant::now();
    let result = run(tools.pdftoppm, pdf, |cmd| {
        let page = page.to_string();
        cmd.args(["-r", &dpi.to_string(), "-f", &page, "-l", &page, "-png", "-singlefile"])
            .arg(pdf_arg)
            .arg(output);
    })?;

    let png = with_extension_png(output);
    let said = first_error_line(&String::from_utf8_lossy(&result.stderr))
        .map(|line| format!(" (poppler said '{line}')"))
        .unwrap_or_default();
    let size = imagesize::size(&png).map_err(|e| {
        let message = format!(
            "page {page} of '{}' was not rendered{said}: {e}; the page may be damaged",
            pdf.display()
        );
        Error::new(ErrorKind::ImportFailed, message).with_source(e)
    })?;
    if size.width < MIN_PAGE_SIDE_PX || size.height < MIN_PAGE_SIDE_PX {
        let message = format!(
            "page {page} of '{}' came out as a {}x{} image at {dpi} dpi{said}: poppler could \
             not draw it; the page may be too large or damaged, so nothing was imported",
            pdf.display(),
            size.width,
            size.height
        );
        return Err(Error::new(ErrorKind::ImportFailed, message));
    }

    tracing::debug!(
        page,
        dpi,
        width = size.width,
        height = size.height,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "page rendered"
    );
    Ok(())
}

fn with_extension_png(output: &Path) -> PathBuf {
    let mut name = output.as_os_str().to_owned();
    name.push(".png");
    PathBuf::from(name)
}

/// Runs a poppler program without a shell and turns its failures into
/// messages about `pdf`.
fn run(program: &'static str, pdf: &Path, args: impl FnOnce(&mut Command)) -> Result<Output> {
    let mut cmd = Command::new(program);
    args(&mut cmd);
    let output = cmd.stdin(Stdio::null()).output().map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            let message = format!(
                "'{program}' is not installed, and PDF import needs it; install it with \
                 `apt-get install poppler-utils` and import again"
            );
            Error::new(ErrorKind::ImportFailed, message).with_source(e)
        } else {
            let message = format!("could not run '{program}' on '{}': {e}", pdf.display());
            Error::new(ErrorKind::ImportFailed, message).with_source(e)
        }
    })?;
    if output.status.success() {
        return Ok(output);
    }

    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let message = if stderr.contains("Incorrect password") {
        format!(
            "'{}' is password-protected; remove the password (for example `qpdf --decrypt \
             --password=… in.pdf out.pdf`) and import again",
            pdf.display()
        )
    } else if let Some(line) = first_error_line(&stderr) {
        format!(
            "'{}' could not be read as a PDF: {program} said '{line}'; repair or re-export \
             it and import again",
            pdf.display()
        )
    } else {
        format!("{program} failed on '{}' ({})", pdf.display(), output.status)
    };
    let source = ToolFailed { program, status: output.status, stderr };
    Err(Error::new(ErrorKind::ImportFailed, message).with_source(source))
}

/// The line of poppler's stderr that best says what went wrong: the first
/// one mentioning an error, else the first non-blank one.
fn first_error_line(stderr: &str) -> Option<&str> {
    let mut lines = stderr.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.clone().next();
    lines.find(|l| l.contains("Error")).or(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_gives_page_count_and_real_titles_only() {
        let text = "Title:           Untitled\nCreator:  gs\nPages:           4\n\
                    Page size:       612 x 792 pts (letter)\n";
        assert_eq!(parse_summary(text), (Some(4), None));

        let text = "Title:   Tamil Reader, Part 2  \nPages: 120\n";
        assert_eq!(parse_summary(text), (Some(120), Some("Tamil Reader, Part 2".to_owned())));

        assert_eq!(parse_summary("Syntax Error: x\n"), (None, None));
    }

    #[test]
    fn page_sizes_take_the_largest_box() {
        let text = "Pages:           3\n\
            Page    1 size:  369.6 x 477.6 pts\n\
            Page    1 rot:   0\n\
            Page    2 size:  2160 x 2160 pts\n\
            Page    3 size:  612 x 792 pts (letter)\n\
            Page    1 MediaBox:      0.00     0.00   369.60   477.60\n\
            Page    1 CropBox:       0.00     0.00   369.60   477.60\n\
            Page    3 MediaBox:     10.00    10.00   1010.00   810.00\n\
            Page    9 size:  99999 x 99999 pts\n";
        let sides = parse_page_sizes(text, 3);
        assert_eq!(sides, [Some(477.6), Some(2160.0), Some(1000.0)]);

        assert_eq!(parse_page_sizes("", 2), [None, None]);
    }

    #[test]
    fn dpi_is_lowered_only_above_the_pixel_limit() {
        // A letter page at 300 dpi is 2550x3300 px: untouched.
        assert_eq!(page_dpi(1, Some(792.0), 300), 300);
        // 2160 pt at 300 dpi is exactly 9000 px: untouched.
        assert_eq!(page_dpi(1, Some(2160.0), 300), 300);
        // The 8400 pt JBIG2 page would be 35000 px; 85 dpi gives 9917 px.
        assert_eq!(page_dpi(1, Some(8400.0), 300), 85);
        let px = 8400.0 * 85.0 / 72.0;
        assert!(px <= f64::from(MAX_PAGE_SIDE_PX));
        // No size known: as asked, the render check still guards the result.
        assert_eq!(page_dpi(1, None, 300), 300);
        // Absurd page sizes never give 0 dpi.
        assert_eq!(page_dpi(1, Some(1.0e9), 300), 1);
    }

    #[test]
    fn first_error_line_prefers_errors_over_warnings() {
        let stderr = "Syntax Warning: bad thing\nSyntax Error: Couldn't find trailer\n";
        assert_eq!(first_error_line(stderr), Some("Syntax Error: Couldn't find trailer"));
        assert_eq!(first_error_line("\n  only a note \n"), Some("only a note"));
        assert_eq!(first_error_line(""), None);
    }

    /// The shared corpus's `odd/` file `name`; see tests/integration/util.rs.
    fn corpus_odd(name: &str) -> PathBuf {
        let corpus = std::env::var_os("KDESK_CORPUS").map(PathBuf::from).unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
        let path = corpus.join("odd").join(name);
        assert!(path.is_file(), "corpus file '{}' missing; set KDESK_CORPUS", path.display());
        path
    }

    /// Regression: at 300 dpi poppler exits 0 with a 1x1 PNG for the 35000 px
    /// JBIG2 page; that must fail the page, not pass as a blank one.
    #[test]
    fn degenerate_render_fails_the_page() {
        let dir = tempfile::tempdir().unwrap();
        let pdf = corpus_odd("huge-35000px-jbig2.pdf");
        let output = dir.path().join("001");

        let err = render_page(&POPPLER, &pdf, &pdf, 1, 300, &output).unwrap_err();

        assert_eq!(err.kind(), ErrorKind::ImportFailed);
        let message = err.to_string();
        assert!(message.contains("page 1 of"), "{message}");
        assert!(message.contains("1x1 image at 300 dpi"), "{message}");
        assert!(message.contains("Bogus memory allocation size"), "{message}");
    }

    #[test]
    fn missing_poppler_says_how_to_install_it() {
        let dir = tempfile::tempdir().unwrap();
        let library = Library::open(dir.path()).unwrap();
        let pdf = dir.path().join("in.pdf");
        std::fs::write(&pdf, b"%PDF-1.4\n").unwrap();
        let tools = Tools {
            pdfinfo: "kdesk-test-no-such-pdfinfo",
            pdftoppm: "kdesk-test-no-such-pdftoppm",
        };

        let slug = Slug::parse("book").unwrap();
        let options = ImportOptions::default();
        let err = import_with(&tools, &library, &pdf, &slug, &options, &mut |_| {}).unwrap_err();

        assert_eq!(err.kind(), ErrorKind::ImportFailed);
        assert!(err.to_string().contains("apt-get install poppler-utils"), "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "only the pdf remains");
    }

    #[test]
    fn title_comes_from_options_then_existing_then_pdf_then_file_name() {
        let info = |title: Option<&str>| PdfInfo {
            pages: 1,
            title: title.map(str::to_owned),
            max_side_pts: vec![None],
        };
        let slug = Slug::parse("s").unwrap();
        let pdf = Path::new("/in/My Scan.pdf");
        let mut options = ImportOptions::default();

        let m = import_metadata(&options, None, &info(None), pdf, &slug);
        assert_eq!((m.title.as_str(), m.language.as_str()), ("My Scan", "eng"));

        let m = import_metadata(&options, None, &info(Some("Reader")), pdf, &slug);
        assert_eq!(m.title, "Reader");

        let existing = ProjectMetadata {
            title: "Kept".to_owned(),
            language: "san".to_owned(),
            engine: "tesseract".to_owned(),
        };
        let m = import_metadata(&options, Some(&existing), &info(Some("Reader")), pdf, &slug);
        assert_eq!((m.title.as_str(), m.language.as_str()), ("Kept", "san"));

        options.title = Some("Given".to_owned());
        options.language = Some("tam".to_owned());
        let m = import_metadata(&options, Some(&existing), &info(Some("Reader")), pdf, &slug);
        assert_eq!((m.title.as_str(), m.language.as_str()), ("Given", "tam"));
    }
}
