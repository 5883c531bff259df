//! [`Workers`](crate::Workers): serve with several worker processes on one
//! listening socket, as gunicorn's arbiter does.
//!
//! Documented on [`Workers`](crate::Workers).

mod listener;
mod master;
mod worker;

use std::ffi::OsString;
use std::fmt;
use std::io;
use std::process::ExitCode;
use std::time::Duration;

use gateway_core::ErrorStream;

pub use self::listener::Listener;
use self::master::Master;

/// The exit status that tells the master a worker could not boot (the app
/// failed to load): the master stops and exits with it too, instead of
/// restarting the worker forever. gunicorn's `WORKER_BOOT_ERROR`.
pub const WORKER_BOOT_ERROR: u8 = 3;

/// The environment variable that makes a process a worker: its index, from
/// 0. The master sets it (with the listener as fd 3) for each worker it
/// starts.
pub const WORKER_ENV: &str = "GATEWAY_WORKER";

/// Worker processes on one listening socket, as gunicorn's arbiter does.
///
/// The program runs twice over. Run by the user, it is the **master**: it
/// binds the listener, starts `count` **workers** by running its own command
/// again (by default [`std::env::current_exe`] with the same arguments;
/// [`Workers::command`] says otherwise, as a Python extension must: there the
/// program is the interpreter), each inheriting the listening socket as fd 3,
/// and then supervises them:
///
/// - a worker that dies is logged and started again, after 100 ms, a delay
///   that doubles (up to 10 s) while it keeps dying within 10 s of its start,
///   so a crash loop does not spin;
/// - a worker that exits with [`WORKER_BOOT_ERROR`] (3, gunicorn's code:
///   the app could not be loaded) is not restarted: the master stops the
///   other workers and exits with that code, saying so;
/// - on `SIGTERM` or `SIGINT` the master sends `SIGTERM` to every worker
///   (each worker's [`Server`](crate::Server) stops accepting and finishes
///   the requests in flight), waits up to the
///   [graceful timeout](Workers::graceful_timeout), kills the rest with
///   `SIGKILL`, and exits `0` if every worker exited with status 0 (or was
///   killed by that `SIGTERM` before it began to serve), else `1`.
///   A second signal kills the workers at once;
/// - on `SIGHUP` it replaces every worker: it starts a new one for each,
///   and stops the old ones as above (new code or configuration on disk is
///   picked up; connections that come meanwhile wait in the listen queue,
///   shared by all). A replaced worker's exit does not count in the
///   master's exit status.
///
/// The master never accepts a connection; the kernel hands each one to
/// whichever worker accepts first. Workers run in their own process group,
/// so a Ctrl-C at the terminal stops them once, through the master; a
/// worker whose master dies (even by `SIGKILL`) gets `SIGTERM` (Linux's
/// parent-death signal) and drains. A worker knows it is one by
/// [`WORKER_ENV`] (its index, from 0); [`Workers::start`] checks that first,
/// so the same `main` is both master and worker. The master of a Unix
/// socket removes the socket's file when it exits.
///
/// With a count of 1 there is no master: [`Workers::start`] binds and hands
/// the listener straight back, and the process serves in-process, as it
/// would without `Workers` (nothing restarts it if it dies).
///
/// ```no_run
/// use std::process::ExitCode;
///
/// use gateway_core::{Body, Environ, Error, StartResponse};
/// use gateway_tower::{IntoService, Listener, Server, Workers};
///
/// fn hello(_: Environ, start_response: StartResponse) -> Result<Body, Error> {
///     start_response.start("200 OK", [("Content-Type", "text/plain")])?;
///     Ok(Body::from(format!("Hello from worker {}\n", std::process::id())))
/// }
///
/// fn main() -> ExitCode {
///     Workers::new(4).run(
///         // In the master only.
///         || {
///             let listener = Listener::bind_tcp("127.0.0.1:8000")?;
///             eprintln!("listening on {}", listener.describe());
///             Ok(listener)
///         },
///         // In each worker: serve until SIGTERM, then drain.
///         |listener| {
///             let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
///             let served = runtime.block_on(async {
///                 let server = match listener {
///                     Listener::Tcp(listener) => Server::from_tcp(listener)?,
///                     Listener::Unix(listener) => Server::from_unix(listener)?,
///                 };
///                 server.serve(hello.into_service()).await
///             });
///             match served {
///                 Ok(()) => ExitCode::SUCCESS,
///                 Err(e) => {
///                     eprintln!("{e}");
///                     ExitCode::FAILURE
///                 }
///             }
///         },
///     )
/// }
/// ```
pub struct Workers {
    count: usize,
    graceful_timeout: Duration,
    command: Option<(OsString, Vec<OsString>)>,
    errors: ErrorStream,
}

/// What this process is, as [`Workers::start`] finds it.
#[derive(Debug)]
pub enum Role {
    /// The master, whose workers have all exited: exit with `status`
    /// (0: stopped by a signal and every worker exited cleanly;
    /// [`WORKER_BOOT_ERROR`]: a worker failed to boot; 1: anything else).
    Master {
        /// The master's exit status.
        status: u8,
    },
    /// A worker (or the only process, with a count of 1): serve on
    /// `listener` until `SIGTERM`, then exit.
    Worker {
        /// The worker's index, from 0.
        index: usize,
        /// The inherited listening socket.
        listener: Listener,
    },
}

impl Workers {
    /// How long the workers have to finish once told to stop, unless
    /// [`Workers::graceful_timeout`] says otherwise: 30 seconds, as gunicorn.
    pub const DEFAULT_GRACEFUL_TIMEOUT: Duration = Duration::from_secs(30);

    /// `count` worker processes (0 counts as 1: serve in-process).
    pub fn new(count: usize) -> Self {
        Workers {
            count: count.max(1),
            graceful_timeout: Self::DEFAULT_GRACEFUL_TIMEOUT,
            command: None,
            errors: ErrorStream::default(),
        }
    }

    /// How long the workers have, after `SIGTERM`, before the master kills
    /// them with `SIGKILL`.
    pub fn graceful_timeout(mut self, timeout: Duration) -> Self {
        self.graceful_timeout = timeout;
        self
    }

    /// Start each worker as `program` with `args` (the program's own name
    /// not included). By default, [`std::env::current_exe`] with the
    /// arguments this process got; a Python extension passes
    /// `sys.executable` and `sys.orig_argv[1:]`.
    pub fn command<A>(mut self, program: impl Into<OsString>, args: A) -> Self
    where
        A: IntoIterator,
        A::Item: Into<OsString>,
    {
        self.command = Some((program.into(), args.into_iter().map(Into::into).collect()));
        self
    }

    /// Where the master's log lines go (a worker that died, one that failed
    /// to boot, workers killed after the graceful timeout).
    /// [`ErrorStream::default`] (`tracing` when a subscriber is installed,
    /// else stderr) unless told otherwise.
    pub fn error_stream(mut self, errors: ErrorStream) -> Self {
        self.errors = errors;
        self
    }

    /// This process's worker index, when a master started it.
    pub fn worker_index() -> Option<usize> {
        worker::index()
    }

    /// Be the master or a worker, whichever this process is.
    ///
    /// In a worker (see [`WORKER_ENV`]), `bind` is not called: this returns
    /// [`Role::Worker`] with the inherited listener. Otherwise it calls
    /// `bind`, and with a count of 1 returns [`Role::Worker`] with index 0
    /// and that listener; with more, it starts the workers, supervises them
    /// on a tokio runtime of its own until they have all exited, and
    /// returns [`Role::Master`] with the master's exit status. It must be
    /// called outside a tokio runtime when there is a master.
    ///
    /// Errors: `bind`'s; in a worker, a missing or wrong inherited socket;
    /// in the master, a runtime or signal handler that cannot be set up.
    /// A worker that cannot be started is logged, and the master stops with
    /// status 1.
    ///
    /// The master handles `SIGTERM`, `SIGINT` and `SIGHUP` (tokio's
    /// handlers, which stay installed for the life of the process: a Python
    /// master gets no `KeyboardInterrupt` after this returns).
    ///
    /// `LISTEN_FDS` and `LISTEN_PID` are removed from a worker's
    /// environment when it takes its listener: do it before starting
    /// threads that read the environment.
    pub fn start(self, bind: impl FnOnce() -> io::Result<Listener>) -> io::Result<Role> {
        if let Some(index) = worker::index() {
            let listener = worker::take_listener(index)?;
            return Ok(Role::Worker { index, listener });
        }
        if self.count > 1 && tokio::runtime::Handle::try_current().is_ok() {
            return Err(io::Error::other(
                "Workers::start was called inside a tokio runtime: the master runs one of its \
                 own; call it from a plain `fn main`",
            ));
        }
        let listener = bind()?;
        if self.count == 1 {
            return Ok(Role::Worker { index: 0, listener });
        }
        let (program, args) = match self.command {
            Some(command) => command,
            None => {
                let exe = std::env::current_exe().map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot find this program's path: {e}"))
                })?;
                (exe.into_os_string(), std::env::args_os().skip(1).collect())
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let master = Master {
            count: self.count,
            graceful_timeout: self.graceful_timeout,
            program,
            args,
            errors: &self.errors,
            listener: &listener,
        };
        let status = runtime.block_on(master.supervise());
        drop(runtime);
        if let Err(e) = listener.remove_socket_file() {
            self.errors.log(&format!(
                "gateway: cannot remove the socket file of {}: {e}",
                listener.describe()
            ));
        }
        Ok(Role::Master { status: status? })
    }

    /// [`Workers::start`], then `serve` the listener in a worker; the exit
    /// code to return from `main`.
    ///
    /// In the master, its exit status. In a worker, what `serve` returns
    /// (return [`WORKER_BOOT_ERROR`] when the app cannot be loaded). An
    /// error from `start` is logged to the [error
    /// stream](Workers::error_stream); it is 1 in the master, and
    /// [`WORKER_BOOT_ERROR`] in a worker (a worker without its listener
    /// cannot boot).
    pub fn run(
        self,
        bind: impl FnOnce() -> io::Result<Listener>,
        serve: impl FnOnce(Listener) -> ExitCode,
    ) -> ExitCode {
        let errors = self.errors.clone();
        let in_worker = worker::index().is_some();
        match self.start(bind) {
            Ok(Role::Master { status }) => ExitCode::from(status),
            Ok(Role::Worker { listener, .. }) => serve(listener),
            Err(e) => {
                errors.log(&format!("gateway: {e}"));
                ExitCode::from(if in_worker { WORKER_BOOT_ERROR } else { 1 })
            }
        }
    }
}

impl fmt::Debug for Workers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workers")
            .field("count", &self.count)
            .field("graceful_timeout", &self.graceful_timeout)
            .field("command", &self.command)
            .field("errors", &self.errors)
            .finish()
    }
}
