//! Free loopback ports for servers that tests start.
//!
//! Rule: a port from [`free_port`] is only a good guess: another process may
//! take it before the caller binds it, so whoever binds must be ready to
//! retry on a fresh port.

use std::net::{Ipv4Addr, TcpListener};

/// A TCP port on 127.0.0.1 that was free a moment ago.
///
/// The kernel picks it (bind to port 0); the listener is dropped before
/// returning, so the port is free again for the caller to bind.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap_or_else(|e| {
        panic!("cannot bind any port on 127.0.0.1 ({e}); is the loopback interface up?")
    });
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("cannot read the port the kernel chose ({e})"));
    addr.port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_port_can_be_bound_again() {
        let port = free_port();
        assert_ne!(port, 0);
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port));
        assert!(listener.is_ok(), "port {port} was not free: {listener:?}");
    }
}
