//! Checks a page's bytes before Tesseract sees them.
//!
//! This module owns the answer to "is this an image we may hand to
//! Tesseract, and how big is it?", decided from magic bytes and the image
//! header alone (via `imagesize`); it never decodes pixels. Decoding, and
//! finding damage past the header, is left to Tesseract.
//!
//! Rule: nothing reaches Tesseract without passing [`inspect`]. The CLI
//! treats any file it cannot read as an image as a *list of image paths*
//! and OCRs those, so a text file named `002.png` would otherwise put
//! another file's text into a project's output.

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};

/// The image formats we hand to Tesseract (all read by Debian's leptonica).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Png,
    Jpeg,
    Tiff,
    Webp,
    /// PBM, PGM or PPM (P1 to P6).
    Pnm,
    Bmp,
}

impl ImageFormat {
    /// The file extension Tesseract is given for this format.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Tiff => "tif",
            ImageFormat::Webp => "webp",
            ImageFormat::Pnm => "pnm",
            ImageFormat::Bmp => "bmp",
        }
    }
}

/// What [`inspect`] learnt from a page's header. For a multi-page TIFF the
/// size is that of the first frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

/// The largest page we agree to OCR. Past these, Tesseract either refuses
/// ("Image too large") or takes tens of seconds and gigabytes on one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLimits {
    /// Longest allowed side in pixels; Tesseract refuses sides of 32767+.
    pub max_side: u32,
    /// Largest allowed width × height.
    pub max_pixels: u64,
    /// Largest allowed file size in bytes.
    pub max_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> ImageLimits {
        ImageLimits { max_side: 32_000, max_pixels: 200_000_000, max_bytes: 256 * 1024 * 1024 }
    }
}

/// Checks that `bytes` are an image we can OCR, within `limits`, and returns
/// its format and size. `name` is only used in messages (e.g. "007.tif" or
/// "book.tif frame 3").
///
/// Errors are [`ErrorKind::NotAnImage`] (empty, a PDF, text, an unsupported
/// format), [`ErrorKind::Unreadable`] (an image header that cannot be read)
/// or [`ErrorKind::TooLarge`].
pub fn inspect(bytes: &[u8], name: &str, limits: &ImageLimits) -> Result<ImageInfo> {
    if bytes.is_empty() {
        let message = format!("page '{name}' is empty (0 bytes); re-scan or re-export it");
        return Err(Error::new(ErrorKind::NotAnImage, message));
    }
    if bytes.len() as u64 > limits.max_bytes {
        let message = format!(
            "page '{name}' is {} bytes, more than the limit of {} bytes; \
             downscale or recompress the scan",
            bytes.len(),
            limits.max_bytes
        );
        return Err(Error::new(ErrorKind::TooLarge, message));
    }

    let format = match sniff(bytes) {
        Sniffed::Image(format) => format,
        Sniffed::Pdf => {
            let message = format!(
                "page '{name}' is a PDF, not an image; \
                 import it with `kdesk import {name} --slug …`"
            );
            return Err(Error::new(ErrorKind::NotAnImage, message));
        }
        Sniffed::Unsupported(what) => {
            let message = format!(
                "page '{name}' is a {what} image, which is not supported; \
                 convert it to PNG or TIFF"
            );
            return Err(Error::new(ErrorKind::NotAnImage, message));
        }
        Sniffed::Unknown => {
            let message = format!(
                "page '{name}' is not an image (starts with {}); \
                 replace it with a PNG, JPEG, TIFF or WebP scan",
                describe_start(bytes)
            );
            return Err(Error::new(ErrorKind::NotAnImage, message));
        }
    };

    let (width, height) = header_size(bytes, format, name)?;
    check_size(width, height, name, limits)?;
    Ok(ImageInfo { format, width, height })
}

/// Counts the frames (pages) of an image: the IFDs of a TIFF, 1 for every
/// other format. Call it after [`inspect`] accepted the bytes.
///
/// A TIFF whose first frame cannot be found is [`ErrorKind::Unreadable`];
/// a damaged chain after it ends the count early.
pub fn count_frames(bytes: &[u8], name: &str) -> Result<u32> {
    if sniff(bytes) != Sniffed::Image(ImageFormat::Tiff) {
        return Ok(1);
    }
    let frames = tiff_frames(bytes);
    if frames == 0 {
        let message = format!(
            "page '{name}' is a damaged TIFF (its first frame is missing); \
             re-scan or re-export it"
        );
        return Err(Error::new(ErrorKind::Unreadable, message));
    }
    Ok(frames)
}

/// What the first bytes say a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sniffed {
    Image(ImageFormat),
    Pdf,
    /// An image format Tesseract might read but we do not take.
    Unsupported(&'static str),
    Unknown,
}

fn sniff(bytes: &[u8]) -> Sniffed {
    let starts = |magic: &[u8]| bytes.starts_with(magic);

    if starts(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Image(ImageFormat::Png);
    }
    if starts(b"\xff\xd8\xff") {
        return Sniffed::Image(ImageFormat::Jpeg);
    }
    if starts(b"II*\0") || starts(b"MM\0*") || starts(b"II+\0") || starts(b"MM\0+") {
        return Sniffed::Image(ImageFormat::Tiff);
    }
    if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Sniffed::Image(ImageFormat::Webp);
    }
    if is_pnm(bytes) {
        return Sniffed::Image(ImageFormat::Pnm);
    }
    if is_bmp(bytes) {
        return Sniffed::Image(ImageFormat::Bmp);
    }

    // A PDF may have a few bytes of junk before its header.
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Sniffed::Pdf;
    }

    if starts(b"GIF87a") || starts(b"GIF89a") {
        return Sniffed::Unsupported("GIF");
    }
    if starts(b"\0\0\0\x0cjP  \r\n\x87\n") || starts(b"\xff\x4f\xff\x51") {
        return Sniffed::Unsupported("JPEG 2000");
    }
    Sniffed::Unknown
}

/// `P1` to `P6` followed by whitespace: the start of a PBM, PGM or PPM.
fn is_pnm(bytes: &[u8]) -> bool {
    bytes.len() >= 3
        && bytes[0] == b'P'
        && (b'1'..=b'6').contains(&bytes[1])
        && bytes[2].is_ascii_whitespace()
}

/// `BM` followed by a known DIB header size, so that text starting with
/// "BM" is not taken for a bitmap.
fn is_bmp(bytes: &[u8]) -> bool {
    if bytes.len() < 26 || !bytes.starts_with(b"BM") {
        return false;
    }
    let dib = u32::from_le_bytes([bytes[14], bytes[15], bytes[16], bytes[17]]);
    matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)
}

/// Describes the first bytes of an unknown file for a message: quoted text
/// when they read as text, hex otherwise.
fn describe_start(bytes: &[u8]) -> String {
    const SHOWN: usize = 24;
    let head = &bytes[..bytes.len().min(SHOWN)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => Some(text),
        // A multi-byte character cut at the end is still text.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    let printable =
        |t: &str| !t.trim().is_empty() && t.chars().all(|c| !c.is_control() || c.is_whitespace());
    match text {
        Some(text) if printable(text) => {
            let one_line: String =
                text.chars().map(|c| if c.is_whitespace() { ' ' } else { c }).collect();
            let more = if bytes.len() > head.len() { "…" } else { "" };
            format!("\"{}{more}\"", one_line.trim_end())
        }
        _ => {
            let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
            format!("bytes {}", hex.join(" "))
        }
    }
}

/// Reads the pixel size from the header and cross-checks the format with
/// `imagesize`'s own detection.
fn header_size(bytes: &[u8], format: ImageFormat, name: &str) -> Result<(u32, u32)> {
    let unreadable = |detail: &str, source: Option<imagesize::ImageError>| {
        let message = format!(
            "page '{name}' looks like a {} image but its header cannot be read ({detail}); \
             re-scan or re-export it",
            format_label(format)
        );
        match source {
            Some(source) => Error::with_source(ErrorKind::Unreadable, message, source),
            None => Error::new(ErrorKind::Unreadable, message),
        }
    };
    let describe = |e: &imagesize::ImageError| match e {
        imagesize::ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the file ends too early".to_string()
        }
        other => other.to_string(),
    };

    match imagesize::image_type(bytes) {
        Ok(detected) if same_format(detected, format) => {}
        Ok(_) => return Err(unreadable("the header contradicts the magic bytes", None)),
        Err(e) => return Err(unreadable(&describe(&e), Some(e))),
    }
    let size = imagesize::blob_size(bytes).map_err(|e| unreadable(&describe(&e), Some(e)))?;
    if size.width == 0 || size.height == 0 {
        let detail = format!("its size is {}x{}", size.width, size.height);
        return Err(unreadable(&detail, None));
    }
    // Sizes past u32 are far above any limit; saturate rather than wrap.
    let width = u32::try_from(size.width).unwrap_or(u32::MAX);
    let height = u32::try_from(size.height).unwrap_or(u32::MAX);
    Ok((width, height))
}

fn check_size(width: u32, height: u32, name: &str, limits: &ImageLimits) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    let problem = if width.max(height) > limits.max_side {
        Some(format!("a side longer than the limit of {} pixels", limits.max_side))
    } else if pixels > limits.max_pixels {
        Some(format!("more than the limit of {} pixels", limits.max_pixels))
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => {
            let message = format!(
                "page '{name}' is {width}x{height} pixels, {problem}; \
                 downscale it (300 dpi is enough for OCR)"
            );
            Err(Error::new(ErrorKind::TooLarge, message))
        }
    }
}

fn same_format(detected: imagesize::ImageType, format: ImageFormat) -> bool {
    use imagesize::ImageType;
    matches!(
        (detected, format),
        (ImageType::Png, ImageFormat::Png)
            | (ImageType::Jpeg, ImageFormat::Jpeg)
            | (ImageType::Tiff, ImageFormat::Tiff)
            | (ImageType::Webp, ImageFormat::Webp)
            | (ImageType::Pnm, ImageFormat::Pnm)
            | (ImageType::Bmp, ImageFormat::Bmp)
    )
}

fn format_label(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::Webp => "WebP",
        ImageFormat::Pnm => "PNM",
        ImageFormat::Bmp => "BMP",
    }
}

/// Walks a TIFF's chain of IFDs and counts them, stopping at the end of
/// the chain, at an offset outside the file, or at a loop.
fn tiff_frames(bytes: &[u8]) -> u32 {
    // Far more frames than any book; also bounds the walk on a hostile file.
    const MAX_FRAMES: u32 = 100_000;

    let little = bytes.starts_with(b"II");
    let read = |at: usize, len: usize| -> Option<u64> {
        let field = bytes.get(at..at.checked_add(len)?)?;
        let mut value = 0u64;
        for i in 0..len {
            let byte = if little { field[len - 1 - i] } else { field[i] };
            value = (value << 8) | u64::from(byte);
        }
        Some(value)
    };
    let big = match read(2, 2) {
        Some(42) => false,
        Some(43) => true,
        _ => return 0,
    };
    // Classic TIFF: 2-byte entry count, 12-byte entries, 4-byte offsets.
    // BigTIFF: 8-byte count, 20-byte entries, 8-byte offsets.
    let (count_len, entry_len, offset_len) = if big { (8, 20, 8) } else { (2, 12, 4) };
    let first_offset_at = if big { 8 } else { 4 };

    let mut frames = 0;
    let mut seen = std::collections::HashSet::new();
    let mut offset = read(first_offset_at, offset_len).unwrap_or(0);
    while offset != 0 && frames < MAX_FRAMES && seen.insert(offset) {
        let Ok(at) = usize::try_from(offset) else {
            break;
        };
        let Some(entries) = read(at, count_len) else {
            break;
        };
        let Some(next_at) = usize::try_from(entries)
            .ok()
            .and_then(|n| n.checked_mul(entry_len))
            .and_then(|n| n.checked_add(at + count_len))
        else {
            break;
        };
        let Some(next) = read(next_at, offset_len) else {
            break;
        };
        frames += 1;
        offset = next;
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG signature and IHDR chunk for a `width`x`height` image.
    fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&[8, 0, 0, 0, 0, 0, 0, 0, 0]);
        bytes
    }

    /// A little-endian classic TIFF with `frames` IFDs of one entry each
    /// (width and height are not set, so only the chain is meaningful).
    fn tiff_chain(frames: u32) -> Vec<u8> {
        let mut bytes = b"II*\0".to_vec();
        bytes.extend_from_slice(&8u32.to_le_bytes());
        for i in 0..frames {
            let here = bytes.len() as u32;
            bytes.extend_from_slice(&1u16.to_le_bytes());
            bytes.extend_from_slice(&[0; 12]);
            let next = if i + 1 == frames { 0 } else { here + 2 + 12 + 4 };
            bytes.extend_from_slice(&next.to_le_bytes());
        }
        bytes
    }

    fn kind_and_message(result: Result<ImageInfo>) -> (ErrorKind, String) {
        let err = result.expect_err("expected an error");
        (err.kind(), err.to_string())
    }

    #[test]
    fn reads_format_and_size_from_a_png_header() {
        let info = inspect(&png_header(640, 480), "001.png", &ImageLimits::default()).unwrap();
        assert_eq!(info, ImageInfo { format: ImageFormat::Png, width: 640, height: 480 });
    }

    #[test]
    fn empty_file_is_not_an_image() {
        let (kind, message) = kind_and_message(inspect(b"", "x.png", &ImageLimits::default()));
        assert_eq!(kind, ErrorKind::NotAnImage);
        assert_eq!(message, "page 'x.png' is empty (0 bytes); re-scan or re-export it");
    }

    #[test]
    fn pdf_is_refused_with_the_import_hint() {
        let pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n";
        let (kind, message) = kind_and_message(inspect(pdf, "x.jpg", &ImageLimits::default()));
        assert_eq!(kind, ErrorKind::NotAnImage);
        assert_eq!(
            message,
            "page 'x.jpg' is a PDF, not an image; import it with `kdesk import x.jpg --slug …`"
        );
    }

    #[test]
    fn text_is_refused_quoting_its_start() {
        let text = b"/home/someone/secret.png\n/etc/another.png\n";
        let (kind, message) = kind_and_message(inspect(text, "x.png", &ImageLimits::default()));
        assert_eq!(kind, ErrorKind::NotAnImage);
        assert_eq!(
            message,
            "page 'x.png' is not an image (starts with \"/home/someone/secret.png…\"); \
             replace it with a PNG, JPEG, TIFF or WebP scan"
        );
    }

    #[test]
    fn binary_junk_is_refused_quoting_hex() {
        let junk = [0u8, 1, 2, 3, 0xfe, 0xff, 7, 8, 9, 10, 11, 12, 13];
        let (kind, message) = kind_and_message(inspect(&junk, "x.tif", &ImageLimits::default()));
        assert_eq!(kind, ErrorKind::NotAnImage);
        assert!(message.contains("(starts with bytes 00 01 02 03 fe ff 07 08)"), "{message}");
    }

    #[test]
    fn text_starting_with_bm_or_p1_is_not_an_image() {
        let limits = ImageLimits::default();
        let bmw = b"BMW service records for 2019, see folder";
        assert_eq!(kind_and_message(inspect(bmw, "a.bmp", &limits)).0, ErrorKind::NotAnImage);
        let p1 = b"P1 is the first page of the book, and P2 the next";
        assert_eq!(kind_and_message(inspect(p1, "a.pbm", &limits)).0, ErrorKind::Unreadable);
    }

    #[test]
    fn gif_is_refused_as_unsupported() {
        let gif = b"GIF89a\x10\0\x10\0\0\0\0";
        let (kind, message) = kind_and_message(inspect(gif, "x.gif", &ImageLimits::default()));
        assert_eq!(kind, ErrorKind::NotAnImage);
        assert!(message.contains("GIF image, which is not supported"), "{message}");
    }

    #[test]
    fn cut_header_is_unreadable() {
        let cut = &png_header(640, 480)[..14];
        let (kind, message) = kind_and_message(inspect(cut, "x.png", &ImageLimits::default()));
        assert_eq!(kind, ErrorKind::Unreadable);
        assert!(message.starts_with("page 'x.png' looks like a PNG image"), "{message}");
    }

    #[test]
    fn zero_width_is_unreadable() {
        let (kind, _) =
            kind_and_message(inspect(&png_header(0, 480), "x.png", &ImageLimits::default()));
        assert_eq!(kind, ErrorKind::Unreadable);
    }

    #[test]
    fn limits_name_the_size_and_the_limit() {
        let limits = ImageLimits::default();
        let (kind, message) =
            kind_and_message(inspect(&png_header(100_000, 20), "long.png", &limits));
        assert_eq!(kind, ErrorKind::TooLarge);
        assert_eq!(
            message,
            "page 'long.png' is 100000x20 pixels, a side longer than the limit of 32000 pixels; \
             downscale it (300 dpi is enough for OCR)"
        );

        let (kind, message) =
            kind_and_message(inspect(&png_header(20_000, 20_000), "big.png", &limits));
        assert_eq!(kind, ErrorKind::TooLarge);
        assert!(message.contains("more than the limit of 200000000 pixels"), "{message}");

        let small = ImageLimits { max_bytes: 10, ..limits };
        let (kind, message) = kind_and_message(inspect(&png_header(1, 1), "b.png", &small));
        assert_eq!(kind, ErrorKind::TooLarge);
        assert!(message.contains("33 bytes, more than the limit of 10 bytes"), "{message}");
    }

    #[test]
    fn counts_tiff_frames_along_the_chain() {
        assert_eq!(tiff_frames(&tiff_chain(1)), 1);
        assert_eq!(tiff_frames(&tiff_chain(8)), 8);
        assert_eq!(count_frames(&png_header(1, 1), "x.png").unwrap(), 1);
    }

    #[test]
    fn tiff_chain_stops_at_a_loop_and_outside_the_file() {
        let mut looped = tiff_chain(2);
        let last_next = looped.len() - 4;
        looped[last_next..].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(tiff_frames(&looped), 2);

        let mut cut = tiff_chain(1);
        cut[4..8].copy_from_slice(&9_999u32.to_le_bytes());
        assert_eq!(tiff_frames(&cut), 0);
        let err = count_frames(&cut, "cut.tif").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unreadable);
    }
}
