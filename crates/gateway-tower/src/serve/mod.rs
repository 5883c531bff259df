//! `Server`: serves any tower service over hyper, HTTP/1.1 and HTTP/2.
//!
//! Documented on [`Server`](crate::Server).

mod body;
mod errors;
mod limits;
mod listener;
mod service;
mod shutdown;
mod timer;

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
#[cfg(unix)]
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use gateway_core::{BoxError, ErrorStream};
use http::header::HeaderValue;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::Service;

use self::errors::{is_connection_error, log_connection_error};
pub use self::limits::{
    DEFAULT_MAX_HEAD, DEFAULT_MAX_HEADER_LINE, DEFAULT_MAX_HEADERS, DEFAULT_MAX_REQUEST_LINE,
};
use self::limits::{Limits, MIN_MAX_HEAD};
pub use self::listener::Endpoint;
use self::listener::{Accepted, Listener, Peer};
use self::service::Connected;
pub use self::shutdown::ConnectionsCut;
use self::shutdown::Trigger;
use self::timer::ConnectionTimer;
use crate::ConnectionInfo;

/// The default [`Server::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;

/// The default [`Server::header_read_timeout`]: 30 seconds.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The default [`Server::grace_period`]: 30 seconds (gunicorn's
/// `graceful_timeout`).
pub const DEFAULT_GRACE_PERIOD: Duration = Duration::from_secs(30);

/// How long to wait after an accept error that is not about one connection
/// (such as running out of file descriptors) before accepting again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// An HTTP server on a bound listener.
///
/// It listens on TCP ([`bind`](Server::bind), [`from_tcp`](Server::from_tcp),
/// [`from_listener`](Server::from_listener)) or on a Unix domain socket
/// ([`bind_unix`](Server::bind_unix), [`from_unix`](Server::from_unix));
/// [`local_endpoint`](Server::local_endpoint) says which. One connection
/// builder (hyper-util's `auto`) speaks HTTP/1.1 with keep-alive and
/// pipelining, and HTTP/2 by prior knowledge (h2c), on either. Every request
/// on TCP carries a [`ConnectionInfo`] extension (`REMOTE_ADDR` for an
/// [`AppService`](crate::AppService)); on a Unix socket, which has no peer
/// address, none: no `REMOTE_ADDR`, and `SERVER_NAME` from the `Host` field. hyper adds `Date`; the `Server`
/// header is yours to set. Sockets get `TCP_NODELAY`; a client that takes
/// too long to send its request head is cut off
/// ([`header_read_timeout`](Server::header_read_timeout)); connections past
/// [`max_connections`](Server::max_connections) wait in the listen queue. An
/// accept error (out of file descriptors, a connection reset before it was
/// accepted) is logged, and the server goes on.
///
/// A request head past a limit is answered by the server itself, logged to
/// the [`error_stream`](Server::error_stream), and its connection closed:
/// a request line longer than [`max_request_line`](Server::max_request_line)
/// gets `414`; a header line longer than
/// [`max_header_line`](Server::max_header_line), more fields than
/// [`max_headers`](Server::max_headers), or a whole head larger than
/// [`max_head`](Server::max_head) get `431`. The defaults are nginx's and
/// gunicorn's (8 KiB lines, a 32 KiB head, 100 fields). A head hyper cannot
/// parse (an obsolete line folding, a NUL, a space before the colon) gets
/// `400`, and so do a request target in a form its method does not take
/// (`*` but for `OPTIONS`, `host:port` but for `CONNECT`), a missing or
/// repeated `Host` or one that differs from the target's authority (RFC
/// 9112 §3.2), and `Content-Type` or `Content-Length` sent twice with
/// different values. The service never sees such a request. Over HTTP/2 the
/// same checks hold, and the decoded header list is capped at `max_head`
/// (`SETTINGS_MAX_HEADER_LIST_SIZE`); a refusal there ends one stream only.
///
/// It stops on SIGINT or SIGTERM, or when the future given to
/// [`with_graceful_shutdown`](Server::with_graceful_shutdown) ends: it stops
/// accepting, lets every request in flight finish (idle connections close at
/// once), and then [`serve`](Server::serve) returns `Ok(())`. Connections
/// still open once the [`grace_period`](Server::grace_period) (30 s by
/// default) has passed, or at a second signal, are closed, and `serve`
/// returns an error of kind [`TimedOut`](io::ErrorKind::TimedOut) holding
/// a [`ConnectionsCut`]: a process that returns it from `main` exits with a
/// non-zero status.
///
/// ```no_run
/// use gateway_core::{Body, Environ, Error, StartResponse};
/// use gateway_tower::{IntoService, Server};
///
/// fn hello(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
///     start_response.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::from("Hello, World!"))
/// }
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     let server = Server::bind("127.0.0.1:8000").await?
///         .max_connections(1024)
///         .header_read_timeout(std::time::Duration::from_secs(10))
///         .max_request_line(4 * 1024)
///         .server_header("gateway");
///     eprintln!("listening on http://{}", server.local_addr()?);
///     server.serve(hello.into_service()).await
/// }
/// ```
pub struct Server {
    listener: Listener,
    max_connections: usize,
    header_read_timeout: Option<Duration>,
    limits: Limits,
    errors: ErrorStream,
    keep_alive: bool,
    server_header: Result<Option<HeaderValue>, String>,
    signals: bool,
    shutdown: Option<Trigger>,
    grace_period: Option<Duration>,
}

impl Server {
    /// Bind a listener on `addr` (port 0 picks a free port: see [`Server::local_addr`]).
    ///
    /// A failure keeps the error's kind and names the address:
    /// `cannot listen on 127.0.0.1:8000: Address already in use (os error 98)`.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<Self> {
        let addrs = tokio::net::lookup_host(addr).await.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot resolve the address to listen on: {e}"),
            )
        })?;
        let mut last = None;
        for addr in addrs {
            match TcpListener::bind(addr).await {
                Ok(listener) => return Ok(Server::from_listener(listener)),
                Err(e) => last = Some((addr, e)),
            }
        }
        Err(match last {
            Some((addr, e)) => io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")),
            None => io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot listen: the address resolved to no address",
            ),
        })
    }

    /// Serve on a listener the caller bound.
    pub fn from_listener(listener: TcpListener) -> Self {
        Server::on(Listener::Tcp(listener))
    }

    /// Serve on a std TCP listener the caller bound (one inherited from a
    /// parent process, or shared by workers). It is made non-blocking and
    /// registered with the current tokio runtime, which must be there (and
    /// have its IO driver, as `#[tokio::main]` has).
    pub fn from_tcp(listener: std::net::TcpListener) -> io::Result<Self> {
        listener::in_runtime()?;
        listener.set_nonblocking(true)?;
        Ok(Server::from_listener(TcpListener::from_std(listener)?))
    }

    /// Bind a Unix domain socket at `path` and serve HTTP/1.1 and HTTP/2 on
    /// it, as on TCP. A stale socket file there (no server answers on it) is
    /// replaced; the file is removed once the `Server` is gone. Requests
    /// carry no [`ConnectionInfo`]: the environ has no `REMOTE_ADDR`, and
    /// `SERVER_NAME` and `SERVER_PORT` come from the `Host` field.
    ///
    /// A failure keeps the error's kind and names the path:
    /// `cannot listen on unix:/run/app.sock: Address already in use (os error 98) (a server answers there)`.
    #[cfg(unix)]
    pub fn bind_unix(path: impl AsRef<Path>) -> io::Result<Self> {
        listener::in_runtime()?;
        let (listener, file) = listener::bind_unix(path.as_ref())?;
        listener.set_nonblocking(true)?;
        Ok(Server::on(Listener::Unix {
            listener: tokio::net::UnixListener::from_std(listener)?,
            _file: Some(file),
        }))
    }

    /// Serve on a std Unix socket listener the caller bound (see
    /// [`bind_unix`](Server::bind_unix)); its file is left where it is.
    /// Like [`from_tcp`](Server::from_tcp), it needs a tokio runtime.
    #[cfg(unix)]
    pub fn from_unix(listener: std::os::unix::net::UnixListener) -> io::Result<Self> {
        listener::in_runtime()?;
        listener.set_nonblocking(true)?;
        Ok(Server::on(Listener::Unix {
            listener: tokio::net::UnixListener::from_std(listener)?,
            _file: None,
        }))
    }

    fn on(listener: Listener) -> Self {
        Server {
            listener,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
            limits: Limits::default(),
            errors: ErrorStream::default(),
            keep_alive: true,
            server_header: Ok(None),
            signals: true,
            shutdown: None,
            grace_period: Some(DEFAULT_GRACE_PERIOD),
        }
    }

    /// The address the server listens on. A server on a Unix socket has
    /// none: `Unsupported` (see [`local_endpoint`](Server::local_endpoint)).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self.listener.local_endpoint()? {
            Endpoint::Tcp(addr) => Ok(addr),
            #[cfg(unix)]
            endpoint @ Endpoint::Unix(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("the server listens on {endpoint}, not on an IP address"),
            )),
        }
    }

    /// Where the server listens: a TCP address or a Unix socket's path.
    pub fn local_endpoint(&self) -> io::Result<Endpoint> {
        self.listener.local_endpoint()
    }

    /// At most `n` connections at once (at least 1); more wait to be accepted.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// How long an HTTP/1 client may take to send a request head (`None`:
    /// forever). 30 seconds by default.
    pub fn header_read_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.header_read_timeout = timeout.into();
        self
    }

    /// The longest request line (`GET /target HTTP/1.1`; for HTTP/2 the
    /// method and `:path`) in bytes; a longer one gets `414 URI Too Long`.
    /// [`DEFAULT_MAX_REQUEST_LINE`] (8 KiB) by default.
    pub fn max_request_line(mut self, bytes: usize) -> Self {
        self.limits.request_line = bytes;
        self
    }

    /// The longest header line (`name: value`) in bytes; a longer one gets
    /// `431 Request Header Fields Too Large`. [`DEFAULT_MAX_HEADER_LINE`]
    /// (8 KiB) by default.
    pub fn max_header_line(mut self, bytes: usize) -> Self {
        self.limits.header_line = bytes;
        self
    }

    /// The largest whole request head in bytes (at least 8 KiB, hyper's
    /// smallest read buffer); a larger one gets `431`. For HTTP/1 it is
    /// hyper's `max_buf_size`, for HTTP/2 the `SETTINGS_MAX_HEADER_LIST_SIZE`
    /// it advertises. [`DEFAULT_MAX_HEAD`] (32 KiB) by default.
    pub fn max_head(mut self, bytes: usize) -> Self {
        self.limits.head = bytes.max(MIN_MAX_HEAD);
        self
    }

    /// The most header fields in a request; more get `431`.
    /// [`DEFAULT_MAX_HEADERS`] (100) by default.
    pub fn max_headers(mut self, n: usize) -> Self {
        self.limits.headers = n;
        self
    }

    /// Where the server's own log lines go: refused requests, accept
    /// errors. [`ErrorStream::default`] (`tracing` when a subscriber is
    /// installed, else stderr) unless told otherwise.
    pub fn error_stream(mut self, errors: ErrorStream) -> Self {
        self.errors = errors;
        self
    }

    /// HTTP/1.1 keep-alive (on by default).
    pub fn keep_alive(mut self, on: bool) -> Self {
        self.keep_alive = on;
        self
    }

    /// Send `Server: value` with every response that has none. An invalid
    /// value makes [`Server::serve`] fail with `InvalidInput`.
    pub fn server_header(mut self, value: &str) -> Self {
        self.server_header = HeaderValue::from_str(value)
            .map(Some)
            .map_err(|_| format!("invalid Server header value {value:?}"));
        self
    }

    /// Stop on SIGINT / SIGTERM (on by default).
    pub fn handle_signals(mut self, on: bool) -> Self {
        self.signals = on;
        self
    }

    /// How long the requests in flight get to finish once the server stops
    /// (`None`: as long as they take). Past it, or at a second signal, the
    /// connections left are closed and [`serve`](Server::serve) fails with
    /// [`ConnectionsCut`]. [`DEFAULT_GRACE_PERIOD`] (30 s) by default.
    pub fn grace_period(mut self, grace: impl Into<Option<Duration>>) -> Self {
        self.grace_period = grace.into();
        self
    }

    /// Also stop, gracefully, when `signal` ends.
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// Serve `service` until shut down; then wait for the requests in flight,
    /// at most the [`grace_period`](Server::grace_period).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an invalid [`server_header`](Server::server_header);
    /// `TimedOut`, holding a [`ConnectionsCut`], when connections had to be
    /// closed at the end of the grace period. Accept errors are logged, not
    /// returned.
    pub async fn serve<S, B>(self, service: S) -> io::Result<()>
    where
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let server = self
            .server_header
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let local = match self.listener.local_endpoint()? {
            Endpoint::Tcp(addr) => Some(addr),
            #[cfg(unix)]
            Endpoint::Unix(_) => None,
        };
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(self.limits.head.max(MIN_MAX_HEAD))
            .keep_alive(self.keep_alive);
        if self.limits.headers != DEFAULT_MAX_HEADERS {
            // hyper's default, kept on the stack; any other count costs an
            // allocation per request.
            builder.http1().max_headers(self.limits.headers);
        }
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(self.limits.head).unwrap_or(u32::MAX));
        let errors = Arc::new(self.errors);
        let shared = Shared {
            service,
            builder: Arc::new(builder),
            server,
            limits: self.limits,
            errors: errors.clone(),
            timed: self.header_read_timeout.is_some(),
            cut: CancellationToken::new(),
            cut_count: Arc::new(AtomicUsize::new(0)),
        };
        let places = Arc::new(Semaphore::new(self.max_connections));
        let graceful = GracefulShutdown::new();
        let stop = shutdown::wait(self.signals, self.shutdown);
        tokio::pin!(stop);
        loop {
            let permit = tokio::select! {
                biased;
                () = &mut stop => break,
                permit = places.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                biased;
                () = &mut stop => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        if !is_connection_error(&e) {
                            // Never silent: stderr when no subscriber is installed.
                            errors.log(&format!(
                                "gateway: accept error: {e}; retrying in {ACCEPT_ERROR_PAUSE:?}"
                            ));
                            tokio::select! {
                                () = &mut stop => break,
                                () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => {}
                            }
                        }
                        continue;
                    }
                },
            };
            match accepted {
                Accepted::Tcp(stream, remote) => {
                    let _ = stream.set_nodelay(true);
                    let info = stream
                        .local_addr()
                        .ok()
                        .or(local)
                        .map(|local| ConnectionInfo { local, remote });
                    shared.spawn(stream, info, graceful.watcher(), permit);
                }
                #[cfg(unix)]
                Accepted::Unix(stream) => shared.spawn(stream, None, graceful.watcher(), permit),
            }
        }
        drop(self.listener);
        let drained = graceful.shutdown();
        tokio::pin!(drained);
        let grace = async {
            match self.grace_period {
                Some(grace) => tokio::time::sleep(grace).await,
                None => std::future::pending().await,
            }
        };
        // A second signal means: stop waiting for the requests in flight.
        let again = shutdown::wait(self.signals, None);
        let why = tokio::select! {
            () = &mut drained => return Ok(()),
            () = grace => "the grace period ended",
            () = again => "a second signal came",
        };
        shared.cut.cancel();
        // Every connection's task ends at once now; the count is theirs.
        drained.await;
        let cut = ConnectionsCut {
            connections: shared.cut_count.load(Ordering::Acquire),
            grace_period: self.grace_period,
        };
        let message = format!("gateway: {why}: {cut}");
        errors.log(&message);
        Err(io::Error::new(io::ErrorKind::TimedOut, cut))
    }
}

/// What every connection of one server shares.
struct Shared<S> {
    service: S,
    builder: Arc<auto::Builder<TokioExecutor>>,
    server: Option<HeaderValue>,
    limits: Limits,
    errors: Arc<ErrorStream>,
    timed: bool,
    /// Cancelled when the grace period ends: every connection closes.
    cut: CancellationToken,
    /// How many connections were open then.
    cut_count: Arc<AtomicUsize>,
}

impl<S> Shared<S> {
    /// Serve one accepted connection on a task of its own; `permit` is its
    /// place among [`Server::max_connections`] until it ends.
    fn spawn<I, B>(
        &self,
        io: I,
        info: Option<ConnectionInfo>,
        watcher: Watcher,
        permit: OwnedSemaphorePermit,
    ) where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
        S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
    {
        let service = Connected {
            service: self.service.clone(),
            info,
            server: self.server.clone(),
            limits: self.limits,
            errors: self.errors.clone(),
        };
        let builder = self.builder.clone();
        let errors = self.errors.clone();
        let timed = self.timed;
        let cut = self.cut.clone();
        let cut_count = self.cut_count.clone();
        tokio::spawn(async move {
            // The header-read timeout gets a timer of the connection's
            // own, re-armed lazily rather than once per request.
            let mut own;
            let builder = if timed {
                own = (*builder).clone();
                own.http1().timer(ConnectionTimer::default());
                &own
            } else {
                &*builder
            };
            let conn = watcher.watch(builder.serve_connection(TokioIo::new(io), service));
            tokio::pin!(conn);
            tokio::select! {
                biased;
                ended = &mut conn => if let Err(e) = ended {
                    log_connection_error(&errors, Peer(info), &*e);
                },
                () = cut.cancelled() => {
                    // Counted before `conn` (and its watcher) is dropped,
                    // which is what the server waits for.
                    cut_count.fetch_add(1, Ordering::Release);
                    tracing::debug!(target: "gateway::serve", "connection from {}: closed at the end of the grace period", Peer(info));
                }
            }
            drop(permit);
            // `conn` (the socket, hyper's state, the watcher) ends here.
        });
    }
}

/// Serve `service` on `listener` with the default settings, until SIGINT or SIGTERM.
pub async fn serve<S, B>(listener: TcpListener, service: S) -> io::Result<()>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Server::from_listener(listener).serve(service).await
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_endpoint", &self.listener.local_endpoint().ok())
            .field("max_connections", &self.max_connections)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("limits", &self.limits)
            .field("errors", &self.errors)
            .field("keep_alive", &self.keep_alive)
            .field("server_header", &self.server_header)
            .field("signals", &self.signals)
            .field("grace_period", &self.grace_period)
            .finish_non_exhaustive()
    }
}
