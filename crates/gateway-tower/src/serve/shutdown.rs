//! When the server stops: SIGINT (Ctrl-C), SIGTERM, or a future the caller gives.

use std::future::Future;
use std::pin::Pin;

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
