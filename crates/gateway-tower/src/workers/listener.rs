//! [`Listener`]: the listening socket the master binds and every worker
//! inherits, a TCP or a Unix stream socket.
//!
//! The master hands it to each worker as file descriptor 3 with the
//! `LISTEN_FDS` convention of systemd (`LISTEN_FDS=1`, `LISTEN_PID` empty:
//! the master cannot know a child's pid before it starts), and the worker
//! takes it back with `listenfd`, which checks that fd 3 is a stream socket
//! of the right family and marks it close-on-exec, so a process the app
//! starts does not hold the port open.

use std::fmt;
use std::io;
use std::net::{TcpListener, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

/// The listen queue of a [`Listener`] this module binds: tokio's.
const LISTEN_QUEUE: i32 = 1024;

/// The listening socket shared by the master and its workers.
///
/// The master binds it (with [`Listener::bind_tcp`], [`Listener::bind_unix`]
/// or any socket of its own) and never accepts on it; each worker serves on
/// it. Both kinds are `std` listeners, served by
/// [`Server::from_tcp`](crate::Server::from_tcp) and
/// [`Server::from_unix`](crate::Server::from_unix).
#[derive(Debug)]
pub enum Listener {
    /// A TCP listener.
    Tcp(TcpListener),
    /// A Unix stream socket listener.
    Unix(UnixListener),
}

impl Listener {
    /// Bind a TCP listener on `addr` (port 0 picks a free port).
    ///
    /// A failure keeps the error's kind and names the address:
    /// `cannot listen on 127.0.0.1:8000: Address already in use (os error 98)`.
    pub fn bind_tcp(addr: impl ToSocketAddrs + fmt::Debug) -> io::Result<Self> {
        let addrs = addr.to_socket_addrs().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot resolve the address to listen on ({addr:?}): {e}"),
            )
        })?;
        let mut last = None;
        for addr in addrs {
            match listen(Domain::for_address(addr), &addr.into()) {
                Ok(socket) => return Ok(Listener::Tcp(socket.into())),
                Err(e) => last = Some((addr, e)),
            }
        }
        Err(match last {
            Some((addr, e)) => io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")),
            None => io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("cannot listen on {addr:?}: it resolved to no address"),
            ),
        })
    }

    /// Bind a Unix stream socket at `path`; a failure names the path.
    pub fn bind_unix(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        UnixListener::bind(path).map(Listener::Unix).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot listen on {}: {e}", path.display()),
            )
        })
    }

    /// Where it listens, as a URL-ish text for a log line:
    /// `http://127.0.0.1:8000` or `unix:/run/app.sock`.
    pub fn describe(&self) -> String {
        match self {
            Listener::Tcp(listener) => match listener.local_addr() {
                Ok(addr) => format!("http://{addr}"),
                Err(e) => format!("a TCP socket ({e})"),
            },
            Listener::Unix(listener) => match listener.local_addr() {
                Ok(addr) => match addr.as_pathname() {
                    Some(path) => format!("unix:{}", path.display()),
                    None => "an unnamed Unix socket".to_owned(),
                },
                Err(e) => format!("a Unix socket ({e})"),
            },
        }
    }

    /// A new descriptor of the same socket, for one more worker.
    pub(super) fn duplicate(&self) -> io::Result<OwnedFd> {
        self.as_fd().try_clone_to_owned()
    }

    /// The listener at fd 3 by the `LISTEN_FDS` convention (in a worker).
    pub(super) fn inherited() -> io::Result<Self> {
        let mut fds = listenfd::ListenFd::from_env();
        if fds.len() == 0 {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "no listening socket was passed (LISTEN_FDS is not set)",
            ));
        }
        let tcp_error = match fds.take_tcp_listener(0) {
            Ok(Some(listener)) => return Ok(Listener::Tcp(listener)),
            Ok(None) => None,
            Err(e) => Some(e),
        };
        match fds.take_unix_listener(0) {
            Ok(Some(listener)) => Ok(Listener::Unix(listener)),
            Ok(None) | Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the inherited fd 3 is not a listening TCP or Unix stream socket{}",
                    tcp_error.map(|e| format!(" ({e})")).unwrap_or_default()
                ),
            )),
        }
    }

    /// Remove the socket's file, for a Unix socket with a path.
    pub(super) fn remove_socket_file(&self) -> io::Result<()> {
        if let Listener::Unix(listener) = self {
            if let Some(path) = listener.local_addr()?.as_pathname() {
                return std::fs::remove_file(path);
            }
        }
        Ok(())
    }
}

/// A stream socket bound to `addr` and listening, with a listen queue as
/// long as tokio's (1024; std's is 128) so that connections wait there, not
/// refused, while workers are replaced. Close-on-exec, `SO_REUSEADDR` for
/// TCP (as std and tokio do).
fn listen(domain: Domain, addr: &SockAddr) -> io::Result<Socket> {
    let socket = Socket::new(domain, Type::STREAM, None)?;
    if domain != Domain::UNIX {
        socket.set_reuse_address(true)?;
    }
    socket.bind(addr)?;
    socket.listen(LISTEN_QUEUE)?;
    Ok(socket)
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Listener::Tcp(listener) => listener.as_fd(),
            Listener::Unix(listener) => listener.as_fd(),
        }
    }
}

impl From<TcpListener> for Listener {
    fn from(listener: TcpListener) -> Self {
        Listener::Tcp(listener)
    }
}

impl From<UnixListener> for Listener {
    fn from(listener: UnixListener) -> Self {
        Listener::Unix(listener)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_in_use_is_an_error_that_names_the_address() {
        let first = Listener::bind_tcp("127.0.0.1:0").unwrap();
        let url = first.describe();
        let addr = url.strip_prefix("http://").expect(&url);
        let e = Listener::bind_tcp(addr).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AddrInUse);
        assert!(
            e.to_string()
                .starts_with(&format!("cannot listen on {addr}: ")),
            "{e}"
        );
    }

    #[test]
    fn a_unix_socket_is_described_by_its_path_and_its_file_removed() {
        let dir = std::env::temp_dir().join(format!("gateway-workers-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.sock");
        let listener = Listener::bind_unix(&path).unwrap();
        assert_eq!(listener.describe(), format!("unix:{}", path.display()));
        let again = Listener::bind_unix(&path).unwrap_err();
        assert!(
            again
                .to_string()
                .starts_with(&format!("cannot listen on {}: ", path.display()))
        );
        let copy = listener.duplicate().unwrap();
        assert_ne!(
            std::os::fd::AsRawFd::as_raw_fd(&copy),
            std::os::fd::AsRawFd::as_raw_fd(&listener.as_fd())
        );
        listener.remove_socket_file().unwrap();
        assert!(!path.exists());
        std::fs::remove_dir(&dir).unwrap();
    }
}
