//! The header-read timer of one HTTP/1 connection, cheap per request.
//!
//! hyper arms its header-read timeout afresh for every request head it
//! reads: with tokio's timer, each request registers an entry in tokio's
//! timer wheel and removes it again once the head is in, which costs more
//! than the rest of the bridge's per-request work in hyper. A
//! [`ConnectionTimer`] belongs to one connection and keeps one tokio timer
//! for it, moved lazily: each request's deadline is only recorded, and the
//! tokio timer is moved to it only when it fires before it (or would fire
//! after it). On a busy keep-alive connection the tokio timer is thus
//! re-armed about once per timeout period instead of once per request,
//! while a head that does not arrive in time is still cut off at its own
//! deadline.
//!
//! [`Server`](crate::Server) gives every connection its own when a
//! header-read timeout is set (the default):
//!
//! ```no_run
//! use std::time::Duration;
//! use gateway_tower::{IntoService, Server};
//! # fn app(_: gateway_core::Environ, sr: gateway_core::StartResponse) -> Result<gateway_core::Body, gateway_core::Error> { unimplemented!() }
//!
//! # async fn run() -> std::io::Result<()> {
//! let server = Server::bind("127.0.0.1:8000").await?
//!     .header_read_timeout(Duration::from_secs(10));
//! server.serve(app.into_service()).await
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};

/// One connection's timer (see this module's `//!` text). Not for HTTP/2, whose
/// several timers at once would share the one tokio timer's waker.
#[derive(Debug, Default, Clone)]
pub(crate) struct ConnectionTimer {
    shared: Arc<Mutex<Option<Pin<Box<tokio::time::Sleep>>>>>,
}

impl Timer for ConnectionTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        self.sleep_until(Instant::now() + duration)
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        Box::pin(LazySleep {
            deadline: deadline.into(),
            shared: self.shared.clone(),
        })
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<LazySleep>() {
            Some(mut lazy) => lazy.deadline = new_deadline.into(),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A deadline on the connection's shared tokio timer.
struct LazySleep {
    deadline: tokio::time::Instant,
    shared: Arc<Mutex<Option<Pin<Box<tokio::time::Sleep>>>>>,
}

impl Sleep for LazySleep {}

impl Future for LazySleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let mut shared = self
            .shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let timer = shared.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        // At most two rounds: after a reset the timer is at our deadline.
        for _ in 0..3 {
            let armed = timer.deadline();
            match timer.as_mut().poll(cx) {
                // Fired at or after our deadline: our time is up.
                Poll::Ready(()) if armed >= deadline => return Poll::Ready(()),
                // Fired for an earlier deadline: move it to ours.
                Poll::Ready(()) => timer.as_mut().reset(deadline),
                // Would fire too late for us: bring it forward.
                Poll::Pending if armed > deadline => timer.as_mut().reset(deadline),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    fn sleep_for(timer: &ConnectionTimer, ms: u64) -> Pin<Box<dyn Sleep>> {
        timer.sleep_until((tokio::time::Instant::now() + Duration::from_millis(ms)).into_std())
    }

    #[tokio::test(start_paused = true)]
    async fn each_deadline_fires_at_its_own_time() {
        let timer = ConnectionTimer::default();
        let start = tokio::time::Instant::now();
        // A first request's deadline arms the shared timer ...
        let mut first = sleep_for(&timer, 100);
        let waker = std::task::Waker::noop();
        assert!(
            first
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
        drop(first);
        // ... a later one must not fire at the earlier time.
        tokio::time::advance(Duration::from_millis(50)).await;
        let second = sleep_for(&timer, 100);
        second.await;
        assert_eq!(start.elapsed(), Duration::from_millis(150));
        // An earlier deadline than the armed one brings the timer forward.
        let mut late = sleep_for(&timer, 1000);
        assert!(
            late.as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
        drop(late);
        let early = sleep_for(&timer, 10);
        early.await;
        assert_eq!(start.elapsed(), Duration::from_millis(160));
    }

    #[tokio::test(start_paused = true)]
    async fn reset_moves_the_deadline() {
        let timer = ConnectionTimer::default();
        let start = tokio::time::Instant::now();
        let mut sleep = sleep_for(&timer, 100);
        let later = (tokio::time::Instant::now() + Duration::from_millis(300)).into_std();
        timer.reset(&mut sleep, later);
        poll_fn(|cx| sleep.as_mut().poll(cx)).await;
        assert_eq!(start.elapsed(), Duration::from_millis(300));
    }
}
