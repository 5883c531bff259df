//! The bounded queue of Blocking requests waiting for a place.
//!
//! When every one of [`max_blocking`](crate::AppService::max_blocking)
//! places is taken, a Blocking request waits, holding a [`QueueSlot`]; at
//! most [`max_queued`](crate::AppService::max_queued) wait at once. One more
//! is answered [`busy`]: `503 Service Unavailable` with `Retry-After`, so no
//! request is lost silently or waits without bound.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::StatusCode;
use http::header::{HeaderValue, RETRY_AFTER};

use super::bridge::plain;
use crate::GatewayBody;

/// The `Retry-After` of a `503` (seconds).
const RETRY_AFTER_SECONDS: &str = "1";

/// A place in the queue of waiting requests, given back when dropped.
#[derive(Debug)]
pub(crate) struct QueueSlot {
    waiting: Arc<AtomicUsize>,
}

impl QueueSlot {
    /// Join the queue `waiting` counts, unless `max` (if any) already wait.
    pub(crate) fn enter(waiting: &Arc<AtomicUsize>, max: Option<usize>) -> Option<QueueSlot> {
        let before = waiting.fetch_add(1, Ordering::AcqRel);
        if max.is_some_and(|max| before >= max) {
            waiting.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(QueueSlot {
            waiting: waiting.clone(),
        })
    }
}

impl Drop for QueueSlot {
    fn drop(&mut self) {
        self.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The answer when no place is free and the queue is full.
pub(crate) fn busy() -> http::Response<GatewayBody> {
    let mut res = plain(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n");
    res.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_is_bounded_and_slots_come_back() {
        let waiting = Arc::new(AtomicUsize::new(0));
        let a = QueueSlot::enter(&waiting, Some(2)).unwrap();
        let _b = QueueSlot::enter(&waiting, Some(2)).unwrap();
        assert!(QueueSlot::enter(&waiting, Some(2)).is_none());
        drop(a);
        assert!(QueueSlot::enter(&waiting, Some(2)).is_some());
        assert_eq!(waiting.load(Ordering::Acquire), 1);
        assert!(QueueSlot::enter(&waiting, None).is_some());
        assert_eq!(busy().headers()[RETRY_AFTER], "1");
    }
}
