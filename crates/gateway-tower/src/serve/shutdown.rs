//! When the server stops: SIGINT (Ctrl-C), SIGTERM, or a future the caller gives.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A future that ends when the server should stop taking connections.
pub(crate) type Trigger = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Ends on the first of: SIGINT / SIGTERM (when `signals`), or `trigger`.
pub(crate) async fn wait(signals: bool, trigger: Option<Trigger>) {
    let trigger = async {
        match trigger {
            Some(trigger) => trigger.await,
            None => std::future::pending().await,
        }
    };
    let signals = async {
        if signals {
            wait_for_signal().await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = trigger => {}
        () = signals => {}
    }
}

/// SIGINT or SIGTERM. A signal that cannot be listened for is ignored.
async fn wait_for_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!(target: "gateway::serve", "SIGINT: shutting down"),
        () = terminate => tracing::info!(target: "gateway::serve", "SIGTERM: shutting down"),
    }
}

/// Why [`Server::serve`](crate::Server::serve) failed with
/// [`TimedOut`](std::io::ErrorKind::TimedOut): connections were still open
/// when the grace period ended (or a second signal came), and were closed.
/// A request cut that way got no complete answer.
///
/// ```no_run
/// use gateway_tower::{ConnectionsCut, IntoService, Server};
/// # fn app(_: gateway_core::Environ, sr: gateway_core::StartResponse) -> Result<gateway_core::Body, gateway_core::Error> { unimplemented!() }
///
/// # async fn run() -> std::io::Result<()> {
/// let server = Server::bind("127.0.0.1:8000").await?
///     .grace_period(std::time::Duration::from_secs(10));
/// if let Err(e) = server.serve(app.into_service()).await {
///     match e.get_ref().and_then(|e| e.downcast_ref::<ConnectionsCut>()) {
///         Some(cut) => eprintln!("{} connections cut", cut.connections),
///         None => return Err(e),
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionsCut {
    /// How many connections were closed.
    pub connections: usize,
    /// The grace period that ended (`None` if it had none and a second
    /// signal ended the wait).
    pub grace_period: Option<Duration>,
}

impl fmt::Display for ConnectionsCut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.connections;
        let s = if n == 1 { "" } else { "s" };
        match self.grace_period {
            Some(grace) => write!(
                f,
                "closed {n} connection{s} still open after the grace period of {grace:?}"
            ),
            None => write!(f, "closed {n} connection{s} still open"),
        }
    }
}

impl std::error::Error for ConnectionsCut {}
