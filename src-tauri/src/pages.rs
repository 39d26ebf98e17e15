//! Page images for the webview, through the app's own URI scheme
//! `kdesk-page://localhost/<slug>%2F<page id>?w=<width>`.
//!
//! Scans are often TIFFs, which the webview cannot show, and large; each is
//! decoded here, scaled to the width asked for and sent as PNG. Results are
//! cached in the app's cache folder under the file's size and time, so a
//! changed scan is rendered again. Rule: only pages of projects in the
//! current library are served; nothing else on disk is reachable this way.
//!
//! Currently the first frame of a multi-page TIFF is shown for each of its
//! pages; the text beside it is the right page's.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use image::imageops::FilterType;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Manager, Runtime, UriSchemeContext, UriSchemeResponder};
use tracing::{debug, warn};

use kdesk_library::{Page, Slug};

use crate::state::AppState;

/// The scheme's name, also given to the UI through the bindings.
pub const SCHEME: &str = "kdesk-page";

/// Width when the request names none.
const DEFAULT_WIDTH: u32 = 240;

/// The widest image served: enough to read a page on a large screen.
const MAX_WIDTH: u32 = 2400;

/// Answers one request on its own thread: decoding a scan takes a while.
pub fn handle<R: Runtime>(
    context: UriSchemeContext<'_, R>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = context.app_handle().clone();
    tauri::async_runtime::spawn_blocking(move || {
        responder.respond(serve(&app, &request));
    });
}

fn serve<R: Runtime>(app: &AppHandle<R>, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let uri = request.uri();
    let Some((slug, page_id)) = parse_path(uri.path()) else {
        return text(StatusCode::BAD_REQUEST, format!("'{}' does not name a page", uri.path()));
    };
    let width = uri
        .query()
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("w=")))
        .and_then(|w| w.parse::<u32>().ok())
        .unwrap_or(DEFAULT_WIDTH)
        .clamp(16, MAX_WIDTH);

    let state = app.state::<AppState>();
    let page = state.desk().map_err(|e| e.message).and_then(|desk| {
        let slug = Slug::parse(&slug).map_err(|e| e.to_string())?;
        let project = desk.library().project(&slug).map_err(|e| e.to_string())?;
        let pages = project.pages().map_err(|e| e.to_string())?;
        pages
            .into_iter()
            .find(|p| p.id == page_id)
            .ok_or_else(|| format!("project '{slug}' has no page '{page_id}'"))
    });
    let page = match page {
        Ok(page) => page,
        Err(message) => return text(StatusCode::NOT_FOUND, message),
    };
    let cache = state.paths.cache_dir.join("pages").join(&slug);
    match render(&page, width, &cache) {
        Ok(png) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "image/png")
            .header(header::CACHE_CONTROL, "no-cache")
            .body(png)
            .unwrap_or_else(|_| Response::new(Vec::new())),
        Err(message) => {
            warn!(page = %page_id, %message, "page image not shown");
            text(StatusCode::UNPROCESSABLE_ENTITY, message)
        }
    }
}

/// `/<slug>/<page id>`, each part percent-decoded.
fn parse_path(path: &str) -> Option<(String, String)> {
    let decoded = percent_decode(path.trim_start_matches('/'))?;
    let (slug, page_id) = decoded.split_once('/')?;
    if slug.is_empty() || page_id.is_empty() || page_id.contains('/') {
        return None;
    }
    Some((slug.to_string(), page_id.to_string()))
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The page scaled to `width` as PNG, from the cache when it is fresh.
fn render(page: &Page, width: u32, cache: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::metadata(&page.path)
        .map_err(|e| format!("cannot read '{}': {e}", page.path.display()))?;
    let modified = file
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let cached: PathBuf = cache.join(format!("{}-{width}-{modified}-{}.png", page.id, file.len()));
    if let Ok(png) = std::fs::read(&cached) {
        return Ok(png);
    }

    let image = image::ImageReader::open(&page.path)
        .and_then(|reader| reader.with_guessed_format())
        .map_err(|e| format!("cannot open '{}': {e}", page.path.display()))?
        .decode()
        .map_err(|e| format!("'{}' could not be decoded: {e}", page.path.display()))?;
    let image = if image.width() > width {
        let height =
            (u64::from(image.height()) * u64::from(width) / u64::from(image.width())).max(1) as u32;
        image.resize_exact(width, height, FilterType::Triangle)
    } else {
        image
    };
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| format!("could not encode page '{}': {e}", page.id))?;

    if let Err(error) = std::fs::create_dir_all(cache).and_then(|()| std::fs::write(&cached, &png))
    {
        debug!(%error, "page image not cached");
    }
    Ok(png)
}

fn text(status: StatusCode, message: String) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(message.into_bytes())
        .unwrap_or_else(|_| Response::new(Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_a_project_and_a_page() {
        assert_eq!(parse_path("/tulasi%2F001"), Some(("tulasi".into(), "001".into())));
        assert_eq!(parse_path("/tulasi/book-p003"), Some(("tulasi".into(), "book-p003".into())));
        assert_eq!(parse_path("/tulasi"), None);
        assert_eq!(parse_path("/a/b/c"), None);
        assert_eq!(parse_path("/%zz"), None);
    }

    #[test]
    fn a_bilevel_tiff_scan_becomes_a_scaled_png() {
        let corpus = kdesk_testkit::corpus_project("san-tulasi-scan");
        let dir = tempfile::tempdir().unwrap();
        let source = corpus.join("pages").join("001.tif");
        let page = Page {
            id: "001".into(),
            path: source,
            frame: None,
            format: kdesk_library::PageFormat::Tiff,
        };
        let png = render(&page, 200, dir.path()).unwrap();
        let decoded = image::load_from_memory(&png).unwrap();
        assert_eq!(decoded.width(), 200);
        assert!(decoded.height() > 50, "{}", decoded.height());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "cached once");
        assert_eq!(render(&page, 200, dir.path()).unwrap(), png);
    }
}
