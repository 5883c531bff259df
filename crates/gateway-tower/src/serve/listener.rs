//! What a [`Server`](crate::Server) listens on: a TCP socket, or (on Unix)
//! a Unix domain socket, and the [`Endpoint`] that names it.
//!
//! A TCP connection gives each request a [`ConnectionInfo`] (so
//! `REMOTE_ADDR`, `REMOTE_PORT`); a Unix socket has no peer address, and
//! its requests carry none: the environ has no `REMOTE_ADDR` (PEP 3333 does
//! not require it; gunicorn gives an empty one), and `SERVER_NAME` and
//! `SERVER_PORT` come from the `Host` field, as behind any proxy.
//! [`Server::bind_unix`](crate::Server::bind_unix) replaces a stale socket
//! file that no server answers on, refuses one that a server does answer
//! on, and removes its file once the server is gone.
//!
//! ```no_run
//! use gateway_tower::{Endpoint, Server};
//!
//! # async fn run() -> std::io::Result<()> {
//! let server = Server::bind_unix("/run/app.sock")?;
//! assert!(matches!(server.local_endpoint()?, Endpoint::Unix(_)));
//! eprintln!("listening on {}", server.local_endpoint()?); // unix:/run/app.sock
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::net::SocketAddr;
#[cfg(unix)]
use std::path::{Path, PathBuf};

use tokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use tokio::net::{UnixListener, UnixStream};

use crate::ConnectionInfo;

/// Where a [`Server`](crate::Server) listens: its
/// [`local_endpoint`](crate::Server::local_endpoint).
///
/// It displays as `127.0.0.1:8000` or `unix:/run/app.sock` (gunicorn's and
/// nginx's spelling of a socket path).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// A TCP address.
    Tcp(SocketAddr),
    /// The path of a Unix domain socket (empty for an unnamed or abstract
    /// socket).
    #[cfg(unix)]
    Unix(PathBuf),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp(addr) => addr.fmt(f),
            #[cfg(unix)]
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// A bound listener, ready to accept.
#[derive(Debug)]
pub(crate) enum Listener {
    Tcp(TcpListener),
    #[cfg(unix)]
    Unix {
        listener: UnixListener,
        /// The socket file this server created, removed when it is dropped.
        _file: Option<SocketFile>,
    },
}

/// An accepted connection.
pub(crate) enum Accepted {
    Tcp(TcpStream, SocketAddr),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Listener {
    pub(crate) fn local_endpoint(&self) -> io::Result<Endpoint> {
        match self {
            Listener::Tcp(listener) => listener.local_addr().map(Endpoint::Tcp),
            #[cfg(unix)]
            Listener::Unix { listener, .. } => {
                let addr = listener.local_addr()?;
                Ok(Endpoint::Unix(
                    addr.as_pathname()
                        .map(Path::to_path_buf)
                        .unwrap_or_default(),
                ))
            }
        }
    }

    pub(crate) async fn accept(&self) -> io::Result<Accepted> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, remote) = listener.accept().await?;
                Ok(Accepted::Tcp(stream, remote))
            }
            #[cfg(unix)]
            Listener::Unix { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                Ok(Accepted::Unix(stream))
            }
        }
    }
}

/// Whether a tokio runtime is there to register a listener with: tokio's
/// `from_std` would panic without one.
pub(crate) fn in_runtime() -> io::Result<()> {
    tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|_| io::Error::other("a Server must be made inside a tokio runtime"))
}

/// A Unix socket file a server created, removed when the server is dropped.
#[cfg(unix)]
#[derive(Debug)]
pub(crate) struct SocketFile(PathBuf);

#[cfg(unix)]
impl Drop for SocketFile {
    fn drop(&mut self) {
        match std::fs::remove_file(&self.0) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                tracing::warn!(target: "gateway::serve", "cannot remove {}: {e}", self.0.display());
            }
            _ => {}
        }
    }
}

/// Bind a Unix socket at `path`, first removing a stale socket file there
/// (one that no server answers on). Any other file there is left alone.
#[cfg(unix)]
pub(crate) fn bind_unix(path: &Path) -> io::Result<(std::os::unix::net::UnixListener, SocketFile)> {
    use std::os::unix::fs::FileTypeExt;
    use std::os::unix::net::{UnixListener, UnixStream};

    let named = |e: io::Error, why: &str| {
        io::Error::new(
            e.kind(),
            format!("cannot listen on unix:{}: {e}{why}", path.display()),
        )
    };
    match UnixListener::bind(path) {
        Ok(listener) => return Ok((listener, SocketFile(path.to_path_buf()))),
        Err(e) if e.kind() != io::ErrorKind::AddrInUse => return Err(named(e, "")),
        Err(_) => {}
    }
    let is_socket = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket());
    if !is_socket {
        return Err(named(
            io::ErrorKind::AddrInUse.into(),
            " (a file that is not a socket is there)",
        ));
    }
    match UnixStream::connect(path) {
        Ok(_) => Err(named(
            io::ErrorKind::AddrInUse.into(),
            " (a server answers there)",
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            // A socket file left behind by a server that is gone.
            std::fs::remove_file(path).map_err(|e| named(e, " (removing a stale socket)"))?;
            let listener = UnixListener::bind(path).map_err(|e| named(e, ""))?;
            Ok((listener, SocketFile(path.to_path_buf())))
        }
        Err(e) => Err(named(e, " (the socket there cannot be checked)")),
    }
}

/// Who a connection came from, for the server's log lines: the client's
/// address, or a Unix socket's client, which has none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub(crate) Option<ConnectionInfo>);

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(info) => info.remote.fmt(f),
            None => f.write_str("a unix socket client"),
        }
    }
}
