//! Tests of the `kdesk` binary as a person or a script runs it: the built
//! program as a child process, a real `redis-server` per test, real
//! Tesseract on corpus pages copied into a temporary library.

mod batch;
mod faults;
mod junk;
mod util;
