//! How the `Server` tells a connection's errors apart: the ones to log
//! (a request head hyper refused), the ones only traced (a timeout, a
//! reset), and accept errors about one connection rather than the listener.

use std::io;

use gateway_core::ErrorStream;

use super::listener::Peer;

/// A connection's end in error: a head hyper refused (it answered `400`,
/// `414` or `431`) is logged; the rest (a timeout, a reset) only traced.
pub(crate) fn log_connection_error(
    errors: &ErrorStream,
    remote: Peer,
    e: &(dyn std::error::Error + 'static),
) {
    match e.downcast_ref::<hyper::Error>() {
        // hyper names the cause: "message head is too large" (431),
        // "invalid URI" or "invalid HTTP header parsed" (400), ...
        Some(e) if e.is_parse() => errors.log(&format!(
            "gateway: refused a request head from {remote}: {e}; answered and closed"
        )),
        // hyper arms the header-read timeout on idle keep-alive connections
        // too, so this is not an error, and it sends no `408` (nor does
        // nginx): only a debug line says why the connection closed.
        Some(e) if e.is_timeout() => tracing::debug!(
            target: "gateway::serve",
            "connection from {remote} closed: no whole request head within the \
             header-read timeout (an idle keep-alive connection or a slow client); no 408 sent"
        ),
        _ => tracing::debug!(target: "gateway::serve", "connection from {remote}: {e}"),
    }
}

/// Errors about one connection, not the listener: accept again at once.
pub(crate) fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
