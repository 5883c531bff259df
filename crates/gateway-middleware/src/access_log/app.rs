//! [`AccessLogApp`]: the app the middleware makes, which records each
//! request and registers the interceptor that writes its line.

use std::fmt;
use std::sync::Arc;

use gateway_core::{App, Body, Environ, Error, ErrorStream, Outcome, StartResponse};
use time::{OffsetDateTime, UtcOffset};

use super::line::View;
use super::middleware::Clock;
use super::plan::Plan;
use super::record::{LogIntercept, Record};
use super::render::with_buffer;
use super::sink::Sink;

/// The app an [`AccessLog`](super::AccessLog) makes around an inner app.
pub struct AccessLogApp<A> {
    pub(super) app: A,
    pub(super) shared: Arc<Shared>,
}

impl<A: App> App for AccessLogApp<A> {
    fn call(&self, mut environ: Environ, start_response: StartResponse) -> Result<Body, Error> {
        let shared = &self.shared;
        if shared.sink.is_tracing()
            && !tracing::enabled!(target: "gateway::access", tracing::Level::INFO)
        {
            return self.app.call(environ, start_response);
        }
        let time = shared.plan.needs.time.then(|| shared.now());
        let record = Record::capture(&shared.plan, &mut environ, time);
        if shared.capture_errors {
            let (shared, remote) = (shared.clone(), record.remote.clone());
            environ.set_errors(ErrorStream::to_fn(move |line| {
                shared.sink.error(&shared, &remote, line)
            }));
        }
        start_response.intercept(LogIntercept {
            shared: shared.clone(),
            record,
        });
        self.app.call(environ, start_response)
    }
}

impl<A> fmt::Debug for AccessLogApp<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessLogApp")
            .field("sink", &self.shared.sink)
            .finish_non_exhaustive()
    }
}

/// What every request of one wrapped app shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) plan: Plan,
    pub(super) sink: Arc<Sink>,
    pub(super) clock: Option<Clock>,
    pub(super) offset: UtcOffset,
    pub(super) mark_aborted: bool,
    pub(super) capture_errors: bool,
}

impl Shared {
    pub(super) fn now(&self) -> OffsetDateTime {
        let now = self
            .clock
            .as_ref()
            .map_or_else(OffsetDateTime::now_utc, |clock| (clock.0)());
        now.checked_to_offset(self.offset).unwrap_or(now)
    }

    /// The response is over: write its line.
    pub(super) fn log(&self, record: &mut Record, outcome: &Outcome) {
        let elapsed = record.start.elapsed();
        record.apply_user(&self.plan, outcome);
        let view = View {
            plan: &self.plan,
            record,
            outcome,
            elapsed,
        };
        with_buffer(|buf| {
            view.line(buf, self.mark_aborted);
            self.sink.access(&view, buf);
        });
    }
}
