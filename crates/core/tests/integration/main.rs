//! Integration tests of kdesk-core against a real `redis-server` per test
//! and real Tesseract on corpus pages copied into a temporary library.

mod claim;
mod record;
mod status_cost;
mod util;
