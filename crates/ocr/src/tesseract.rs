//! The OCR engine: Debian's `tesseract` CLI, one process per page.
//!
//! This module owns finding the program, knowing its version and installed
//! languages, and running it on one page with a hard time limit. A process
//! per page gives isolation (a crash or a runaway page costs one page) and
//! a limit we can enforce by killing it; loading a model costs 20-150 ms,
//! small next to a page. Scheduling pages in parallel is left to callers.
//!
//! Rules: every run sets `OMP_THREAD_LIMIT=1` (Tesseract's own threading is
//! 4-6x slower on 2 cores, with identical text), and every image passes
//! [`crate::inspect()`] first and runs in a fresh empty directory, so that a
//! file Tesseract misreads as a list of paths finds nothing to read.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use crate::error::{Error, ErrorKind, Result};
use crate::inspect::{count_frames, inspect, ImageLimits};

/// Environment variable naming the `tesseract` program to use instead of
/// the one found on `PATH`.
pub const TESSERACT_ENV: &str = "KDESK_TESSERACT";

/// How long `--version` and `--list-langs` may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// How much of Tesseract's stderr we keep for messages; the rest is read
/// and dropped so that the process never blocks on a full pipe.
const STDERR_KEPT: usize = 64 * 1024;

/// An installed Tesseract, probed once by [`Tesseract::detect`] and then
/// shared (it is cheap to clone) by every page run.
#[derive(Clone, Debug)]
pub struct Tesseract {
    /// The program, as found on `PATH` or given by `$KDESK_TESSERACT`.
    binary: PathBuf,
    /// The version `--version` printed, e.g. "5.3.0".
    version: String,
    /// Installed language models as `--list-langs` printed them, sorted.
    languages: Vec<String>,
    /// A page running longer than this is killed.
    page_timeout: Duration,
}

/// What Tesseract recognised on one page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Recognition {
    /// UTF-8 plain text as Tesseract gives it (empty for a blank page).
    pub text: String,
    /// Tesseract's TSV word boxes, header line included: level, page_num,
    /// block_num, par_num, line_num, word_num, left, top, width, height,
    /// conf, text.
    pub tsv: String,
    /// Mean confidence (0-100) of the words; `None` when there are none.
    pub mean_confidence: Option<f32>,
    /// Number of recognised words (TSV level 5 rows with conf >= 0).
    pub words: u32,
    /// Wall time of the tesseract run, in seconds.
    pub seconds: f64,
}

impl Tesseract {
    /// Finds `tesseract` (`$KDESK_TESSERACT`, else on `PATH`) and runs
    /// `--version` and `--list-langs` once. Pages taking longer than
    /// `page_timeout` will be killed.
    pub async fn detect(page_timeout: Duration) -> Result<Tesseract> {
        let binary = find_binary()?;

        let version_output = probe(&binary, "--version").await?;
        let version = parse_version(&version_output).ok_or_else(|| {
            let message = format!(
                "'{}' did not print a tesseract version (got {:?}); \
                 check that it is Tesseract OCR",
                binary.display(),
                version_output.lines().next().unwrap_or("")
            );
            Error::new(ErrorKind::EngineFailed, message)
        })?;

        let languages = parse_languages(&probe(&binary, "--list-langs").await?);
        tracing::info!(binary = %binary.display(), %version, ?languages, "tesseract found");
        Ok(Tesseract { binary, version, languages, page_timeout })
    }

    /// The Tesseract version, e.g. "5.3.0".
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The installed languages, e.g. `["eng", "hin", "osd", "san", "tam"]`.
    pub fn languages(&self) -> &[String] {
        &self.languages
    }

    /// The program being run.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The time limit for one page.
    pub fn page_timeout(&self) -> Duration {
        self.page_timeout
    }

    /// The same engine with another time limit for one page.
    pub fn with_page_timeout(mut self, page_timeout: Duration) -> Tesseract {
        self.page_timeout = page_timeout;
        self
    }

    /// Checks a language spec such as "san+eng": every part must be an
    /// installed model. [`ErrorKind::LanguageMissing`] names the first
    /// missing one and the Debian package that provides it.
    pub fn check_language(&self, language: &str) -> Result<()> {
        if language.trim().is_empty() {
            let message = "no OCR language given; name one such as 'eng' or 'san+eng'";
            return Err(Error::new(ErrorKind::LanguageMissing, message));
        }
        for part in language.split('+') {
            if part.is_empty() {
                let message =
                    format!("language '{language}' has an empty part; write it like 'san+eng'");
                return Err(Error::new(ErrorKind::LanguageMissing, message));
            }
            if !self.languages.iter().any(|installed| installed == part) {
                let message = format!(
                    "OCR language '{part}' is not installed (installed: {}); \
                     install it with `apt-get install {}`",
                    self.languages.join(", "),
                    debian_package(part)
                );
                return Err(Error::new(ErrorKind::LanguageMissing, message));
            }
        }
        Ok(())
    }

    /// OCRs one page. `frame` selects frame k (0-based) of a multi-page
    /// TIFF; `None` is the file's only or first page. `name` is only used
    /// in messages and logs.
    #[tracing::instrument(
        level = "debug",
        skip_all,
        fields(page = name, language, ?frame, bytes = image.len())
    )]
    pub async fn recognise(
        &self,
        image: &[u8],
        frame: Option<u32>,
        language: &str,
        name: &str,
    ) -> Result<Recognition> {
        // Refuse what is not an image before Tesseract can misread it.
        let info = inspect(image, name, &ImageLimits::default())?;
        self.check_language(language)?;
        if let Some(k) = frame {
            check_frame(image, k, name)?;
        }

        // A fresh directory holding only the page, also the working
        // directory, so relative paths in a misread file resolve to nothing.
        let dir = tempfile::Builder::new()
            .prefix("kdesk-ocr-")
            .tempdir()
            .map_err(|e| Error::io("create a temporary folder for", Path::new(name), e))?;
        let page = dir.path().join(format!("page.{}", info.format.extension()));
        // tokio::fs::write copies the bytes and writes on the blocking pool.
        tokio::fs::write(&page, image).await.map_err(|e| Error::io("write", &page, e))?;

        // Run it, killing it at the time limit.
        let started = Instant::now();
        let run = self.run(dir.path(), &page, frame, language, name).await;
        let seconds = started.elapsed().as_secs_f64();
        let (status, stderr) = match run {
            Ok(done) => done,
            Err(e) => {
                remove_dir(dir).await;
                return Err(e);
            }
        };

        // Judge the run by its exit status and by what it said.
        if let Err(e) = judge(status, &stderr, name) {
            tracing::debug!(page = name, error = %e, stderr = %stderr, "tesseract failed");
            remove_dir(dir).await;
            return Err(e);
        }

        // Read both outputs of the one run.
        let outputs = read_outputs(dir.path(), name).await;
        remove_dir(dir).await;
        let (text, tsv) = outputs?;
        let (words, mean_confidence) = word_stats(&tsv);
        tracing::debug!(page = name, words, ?mean_confidence, seconds, "page recognised");
        Ok(Recognition { text, tsv, mean_confidence, words, seconds })
    }

    /// Runs tesseract on `page` inside `dir` and waits for it, at most the
    /// page time limit. Returns the exit status and the start of stderr.
    async fn run(
        &self,
        dir: &Path,
        page: &Path,
        frame: Option<u32>,
        language: &str,
        name: &str,
    ) -> Result<(ExitStatus, String)> {
        let mut command = Command::new(&self.binary);
        command
            .current_dir(dir)
            .env("OMP_THREAD_LIMIT", "1")
            .arg(page.file_name().unwrap_or(page.as_os_str()))
            .args(["out", "-l", language, "--psm", "3"]);
        if let Some(k) = frame {
            command.arg("-c").arg(format!("tessedit_page_number={k}"));
        }
        command
            .args(["txt", "tsv"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);

        let mut child = command.spawn().map_err(|e| {
            let message =
                format!("could not start '{}' for page '{name}': {e}", self.binary.display());
            Error::with_source(ErrorKind::EngineMissing, message, e)
        })?;
        let pid = child.id();
        tracing::debug!(page = name, pid, "tesseract started");
        let stderr = child.stderr.take().map(|pipe| tokio::spawn(read_capped(pipe)));

        let status = match tokio::time::timeout(self.page_timeout, child.wait()).await {
            Ok(Ok(status)) => status,
            Ok(Err(e)) => {
                let message = format!("could not wait for tesseract on page '{name}': {e}");
                return Err(Error::with_source(ErrorKind::EngineFailed, message, e));
            }
            Err(_elapsed) => {
                // kill() also waits, so no zombie is left behind.
                if let Err(e) = child.kill().await {
                    tracing::warn!(page = name, pid, error = %e, "could not kill tesseract");
                }
                let message = format!(
                    "page '{name}' took longer than {} s; raise --page-timeout or check the scan",
                    self.page_timeout.as_secs_f64()
                );
                tracing::warn!(page = name, pid, "tesseract killed at the page time limit");
                return Err(Error::new(ErrorKind::Timeout, message));
            }
        };

        let stderr = match stderr {
            Some(reader) => reader.await.unwrap_or_default(),
            None => String::new(),
        };
        Ok((status, stderr))
    }
}

/// The Debian package holding a language model, e.g. "chi_sim" →
/// "tesseract-ocr-chi-sim".
pub fn debian_package(language: &str) -> String {
    format!("tesseract-ocr-{}", language.to_ascii_lowercase().replace('_', "-"))
}

/// Refuses a frame past the end of the file: Tesseract would silently
/// give an empty page for it.
fn check_frame(image: &[u8], k: u32, name: &str) -> Result<()> {
    let frames = count_frames(image, name)?;
    if k < frames {
        return Ok(());
    }
    let message = format!(
        "page '{name}' has {frames} frame(s), so frame {k} (counted from 0) does not exist; \
         re-import the file to refresh its page list"
    );
    Err(Error::new(ErrorKind::Unreadable, message))
}

fn find_binary() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(TESSERACT_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if path.is_file() {
            return Ok(path);
        }
        let message = format!(
            "${TESSERACT_ENV} names '{}', which is not a file; fix or unset it",
            path.display()
        );
        return Err(Error::new(ErrorKind::EngineMissing, message));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join("tesseract")).find(|p| p.is_file()).ok_or_else(
        || {
            let message = "tesseract was not found; \
                 install it with `apt-get install tesseract-ocr tesseract-ocr-eng`";
            Error::new(ErrorKind::EngineMissing, message)
        },
    )
}

/// Runs `binary flag` and returns stdout and stderr together (versions
/// before 4 printed these to stderr).
async fn probe(binary: &Path, flag: &str) -> Result<String> {
    let run = Command::new(binary)
        .arg(flag)
        .env("OMP_THREAD_LIMIT", "1")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(PROBE_TIMEOUT, run).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            let message = format!(
                "could not run '{}': {e}; \
                 install it with `apt-get install tesseract-ocr tesseract-ocr-eng`",
                binary.display()
            );
            return Err(Error::with_source(ErrorKind::EngineMissing, message, e));
        }
        Err(_) => {
            let message = format!(
                "'{} {flag}' did not finish in {} s; check the installation",
                binary.display(),
                PROBE_TIMEOUT.as_secs()
            );
            return Err(Error::new(ErrorKind::EngineFailed, message));
        }
    };
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        let message = format!(
            "'{} {flag}' failed ({}): {}",
            binary.display(),
            output.status,
            text.lines().next().unwrap_or("no output")
        );
        return Err(Error::new(ErrorKind::EngineFailed, message));
    }
    Ok(text)
}

/// "tesseract 5.3.0\n leptonica-1.82.0 …" → "5.3.0".
fn parse_version(output: &str) -> Option<String> {
    let first = output.lines().find(|line| line.trim_start().starts_with("tesseract"))?;
    let version = first.split_whitespace().nth(1)?;
    let version = version.strip_prefix('v').unwrap_or(version);
    version.starts_with(|c: char| c.is_ascii_digit()).then(|| version.to_string())
}

/// The lines after the "List of available languages …" header, sorted.
fn parse_languages(output: &str) -> Vec<String> {
    let mut languages: Vec<String> = output
        .lines()
        .skip_while(|line| !line.starts_with("List of available languages"))
        .skip(1)
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect();
    languages.sort();
    languages
}

/// Reads a pipe to its end, keeping the first [`STDERR_KEPT`] bytes.
async fn read_capped(mut pipe: impl AsyncRead + Unpin) -> String {
    let mut kept = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = STDERR_KEPT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Stderr lines that say the image itself could not be read. Some appear
/// with exit status 0 when Tesseract fell back to reading the file as a
/// list of image paths.
const UNREADABLE_SIGNS: [&str; 6] = [
    "image file not found",
    "pix not read",
    "no pix returned",
    "cannot be read",
    "truncated file",
    "reading is not supported",
];

/// Stderr lines that are progress, notes or consequences, never the first
/// reason for a failure.
const NOISE: [&str; 8] = [
    "Tesseract Open Source OCR Engine",
    "Estimating resolution",
    "Warning: Invalid resolution",
    "Detected ",
    "Page ",
    "Empty page!!",
    "Error during processing",
    "Error in fopenReadStream",
];

/// Turns a finished run into Ok or the right error. "Empty page!!" is not
/// an error: a blank page has no text.
fn judge(status: ExitStatus, stderr: &str, name: &str) -> Result<()> {
    let unreadable = UNREADABLE_SIGNS.iter().any(|sign| stderr.contains(sign));
    let processing_error = stderr.contains("Error during processing");
    if status.success() && !unreadable && !processing_error {
        return Ok(());
    }

    let reason = first_meaningful_line(stderr);
    if unreadable {
        let message = format!(
            "tesseract could not read page '{name}' ({}); re-scan or re-export it",
            reason.unwrap_or("damaged image")
        );
        return Err(Error::new(ErrorKind::Unreadable, message));
    }
    let how = match status.code() {
        Some(code) => format!("exit status {code}"),
        None => format!("{status}"),
    };
    let message = match reason {
        Some(reason) => format!("tesseract failed on page '{name}' ({how}): {reason}"),
        None => format!("tesseract failed on page '{name}' ({how}) without saying why"),
    };
    Err(Error::new(ErrorKind::EngineFailed, message))
}

/// The first stderr line that explains a failure: the first that is not
/// progress noise or a consequence of an earlier line.
fn first_meaningful_line(stderr: &str) -> Option<&str> {
    stderr
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty() && !NOISE.iter().any(|noise| line.starts_with(noise)))
}

async fn read_outputs(dir: &Path, name: &str) -> Result<(String, String)> {
    let read = |file: &'static str| {
        let path = dir.join(file);
        async move {
            match tokio::fs::read(&path).await {
                Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
                Err(e) => {
                    let message = format!(
                        "tesseract finished page '{name}' but wrote no {file} ({e}); \
                         check the tesseract installation"
                    );
                    Err(Error::with_source(ErrorKind::EngineFailed, message, e))
                }
            }
        }
    };
    Ok((read("out.txt").await?, read("out.tsv").await?))
}

/// Counts words (level 5 rows with conf >= 0 and some text) and their mean
/// confidence in Tesseract's TSV.
fn word_stats(tsv: &str) -> (u32, Option<f32>) {
    let mut words = 0u32;
    let mut total = 0f64;
    for line in tsv.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() < 12 || fields[0] != "5" || fields[11].trim().is_empty() {
            continue;
        }
        let Ok(conf) = fields[10].trim().parse::<f64>() else {
            continue;
        };
        if conf >= 0.0 {
            words += 1;
            total += conf;
        }
    }
    let mean = (words > 0).then(|| (total / f64::from(words)) as f32);
    (words, mean)
}

/// Removes the page's temporary directory on the blocking pool (it holds
/// a copy of the image, which may be large).
async fn remove_dir(dir: tempfile::TempDir) {
    let path = dir.path().to_path_buf();
    let removed = tokio::task::spawn_blocking(move || dir.close()).await;
    if let Ok(Err(e)) = removed {
        tracing::warn!(dir = %path.display(), error = %e, "could not remove a temporary folder");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn exit(code: i32) -> ExitStatus {
        ExitStatus::from_raw(code << 8)
    }

    #[test]
    fn parses_the_version_line() {
        let out = "tesseract 5.3.0\n leptonica-1.82.0\n  libgif 5.2.1 : libjpeg 6b\n";
        assert_eq!(parse_version(out).as_deref(), Some("5.3.0"));
        assert_eq!(parse_version("tesseract v4.1.1-rc2\n").as_deref(), Some("4.1.1-rc2"));
        assert_eq!(parse_version("usage: something else\n"), None);
    }

    #[test]
    fn parses_the_language_list() {
        let out = "List of available languages in \"/usr/share/tesseract-ocr/5/tessdata/\" (3):\n\
                   tam\neng\nosd\n";
        assert_eq!(parse_languages(out), ["eng", "osd", "tam"]);
        assert!(parse_languages("nothing here\n").is_empty());
    }

    #[test]
    fn names_debian_packages() {
        assert_eq!(debian_package("san"), "tesseract-ocr-san");
        assert_eq!(debian_package("chi_sim"), "tesseract-ocr-chi-sim");
    }

    #[test]
    fn checks_every_part_of_a_language_spec() {
        let engine = Tesseract {
            binary: PathBuf::from("/usr/bin/tesseract"),
            version: "5.3.0".to_string(),
            languages: vec!["eng".to_string(), "san".to_string()],
            page_timeout: Duration::from_secs(1),
        };
        assert!(engine.check_language("eng").is_ok());
        assert!(engine.check_language("san+eng").is_ok());

        let err = engine.check_language("san+tam").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LanguageMissing);
        assert!(err.to_string().contains("'tam' is not installed"), "{err}");
        assert!(err.to_string().contains("apt-get install tesseract-ocr-tam"), "{err}");

        for bad in ["", "san+", "+eng"] {
            let err = engine.check_language(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::LanguageMissing, "{bad:?}");
        }
    }

    #[test]
    fn counts_words_and_mean_confidence() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\t\
                   left\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t640\t480\t-1\t\n\
                   4\t1\t1\t1\t1\t0\t36\t92\t582\t26\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t36\t92\t96\t26\t90.5\tThis\n\
                   5\t1\t1\t1\t1\t2\t140\t92\t40\t26\t70.5\tis\n\
                   5\t1\t1\t1\t1\t3\t190\t92\t40\t26\t-1\t\n";
        assert_eq!(word_stats(tsv), (2, Some(80.5)));
        assert_eq!(word_stats("level\tpage_num\n"), (0, None));
    }

    #[test]
    fn empty_page_is_not_an_error() {
        assert!(judge(exit(0), "Empty page!!\nEmpty page!!\n", "blank.tif").is_ok());
    }

    #[test]
    fn path_list_fallback_is_unreadable_even_with_exit_zero() {
        let stderr = "Error in fopenReadStream: file not found\n\
                      Error in pixRead: image file not found: The LinnSequencer\n\
                      Image file The LinnSequencer cannot be read!\n";
        let err = judge(exit(0), stderr, "002.png").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unreadable);
        assert_eq!(
            err.to_string(),
            "tesseract could not read page '002.png' \
             (Error in pixRead: image file not found: The LinnSequencer); re-scan or re-export it"
        );
    }

    #[test]
    fn other_failures_quote_the_first_meaningful_line() {
        let stderr = "Estimating resolution as 300\n\
                      Failed loading language 'xyz'\n\
                      Tesseract couldn't load any languages!\n";
        let err = judge(exit(1), stderr, "003.tif").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::EngineFailed);
        assert_eq!(
            err.to_string(),
            "tesseract failed on page '003.tif' (exit status 1): Failed loading language 'xyz'"
        );

        let err = judge(ExitStatus::from_raw(9), "", "004.tif").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::EngineFailed);
        assert!(err.to_string().contains("signal: 9"), "{err}");

        let err = judge(exit(0), "Error during processing.\n", "005.tif").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::EngineFailed);
    }
}
