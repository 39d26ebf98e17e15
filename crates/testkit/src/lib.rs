//! Test support shared by the workspace's integration tests and benchmarks.
//!
//! This crate owns the real parts tests run against: a private
//! `redis-server` per test ([`RedisServer`]), the shared scan corpus beside
//! the repository ([`corpus_dir`] and friends) and loopback ports
//! ([`free_port`]). It holds no product logic and is never shipped.
//!
//! Rule: every helper here panics with a message that says what was missing
//! and how to get it, because its callers are tests; nothing here returns an
//! error for a test to unwrap.

mod corpus;
mod port;
mod redis_server;

pub use corpus::{copy_corpus_project, corpus_dir, corpus_odd, corpus_project};
pub use port::free_port;
pub use redis_server::RedisServer;
