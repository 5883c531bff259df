//! `ConnectionInfo`: the addresses of the connection a request came on.
//!
//! [`Server`](crate::Server) puts one in the extensions of every request it
//! reads; [`AppService`](crate::AppService) turns it into `REMOTE_ADDR`,
//! `REMOTE_PORT` and (when there is no `Host` header) `SERVER_NAME` and
//! `SERVER_PORT`. Another server can insert it the same way.
//!
//! ```
//! use gateway_tower::ConnectionInfo;
//!
//! let mut request = http::Request::new(());
//! let info = ConnectionInfo {
//!     local: "127.0.0.1:8000".parse().unwrap(),
//!     remote: "127.0.0.1:50000".parse().unwrap(),
//! };
//! request.extensions_mut().insert(info);
//! assert_eq!(request.extensions().get::<ConnectionInfo>(), Some(&info));
//! ```

use std::net::SocketAddr;

/// Where a connection was accepted, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnectionInfo {
    /// The server's address (the listening socket's side).
    pub local: SocketAddr,
    /// The client's address: `REMOTE_ADDR` and `REMOTE_PORT`.
    pub remote: SocketAddr,
}
