//! [`AccessLog`]: the middleware, and how it is set up.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};

use gateway_core::{App, Middleware};
use http::HeaderName;
use time::{OffsetDateTime, UtcOffset};

use super::app::{AccessLogApp, Shared};
use super::format::Format;
use super::plan::Plan;
use super::sink::Sink;

/// The access log middleware. See the module docs.
#[derive(Clone, Debug)]
pub struct AccessLog {
    format: Format,
    sink: Arc<Sink>,
    clock: Option<Clock>,
    offset: UtcOffset,
    mark_aborted: bool,
    capture_errors: bool,
    redact: Vec<HeaderName>,
}

impl AccessLog {
    /// Apache combined lines, to `tracing`, in UTC.
    pub fn new() -> Self {
        AccessLog {
            format: Format::combined(),
            sink: Arc::new(Sink::Tracing),
            clock: None,
            offset: UtcOffset::UTC,
            mark_aborted: true,
            capture_errors: true,
            redact: Vec::new(),
        }
    }

    /// Write lines in `format`.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Write lines to `writer` (stdout, a file, ...), one `write_all` each,
    /// under a lock. Wrap a file in a `LineWriter` rather than a
    /// `BufWriter` if lines must reach it at once.
    pub fn to_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.sink = Arc::new(Sink::Writer(Mutex::new(Box::new(writer))));
        self
    }

    /// Send lines as `tracing` events at INFO on target `gateway::access`
    /// (the default).
    pub fn to_tracing(mut self) -> Self {
        self.sink = Arc::new(Sink::Tracing);
        self
    }

    /// Read the time from `clock` rather than the system clock. Durations
    /// are measured with [`Instant`](std::time::Instant) all the same.
    pub fn clock(mut self, clock: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Clock(Arc::new(clock)));
        self
    }

    /// Print times at `offset` from UTC (`UtcOffset::current_local_offset()`
    /// read once at startup, before any thread is spawned, gives local time).
    pub fn utc_offset(mut self, offset: UtcOffset) -> Self {
        self.offset = offset;
        self
    }

    /// Mark responses that did not end (`aborted=client_gone`,
    /// `aborted=failed` at the end of a text line, an `"aborted"` member in
    /// JSON) when the format has no `aborted` field of its own. On by default.
    pub fn mark_aborted(mut self, on: bool) -> Self {
        self.mark_aborted = on;
        self
    }

    /// Send what the app writes to `wsgi.errors` to this log's sink, as error
    /// lines (`[time] [error] [client addr] message`, a JSON object with
    /// `"level":"error"`, or ERROR events on `gateway::errors`). On by default.
    pub fn capture_errors(mut self, on: bool) -> Self {
        self.capture_errors = on;
        self
    }

    /// Never log `name` either (request, response, and `HTTP_*` variable).
    pub fn redact_header(mut self, name: HeaderName) -> Self {
        self.redact.push(name);
        self
    }
}

impl Default for AccessLog {
    fn default() -> Self {
        AccessLog::new()
    }
}

impl<A: App> Middleware<A> for AccessLog {
    type App = AccessLogApp<A>;

    fn wrap(&self, app: A) -> Self::App {
        let mut plan = Plan::new(self.format.clone(), &self.redact, self.sink.is_tracing());
        plan.needs.remote |= self.capture_errors;
        let shared = Shared {
            plan,
            sink: self.sink.clone(),
            clock: self.clock.clone(),
            offset: self.offset,
            mark_aborted: self.mark_aborted,
            capture_errors: self.capture_errors,
        };
        AccessLogApp {
            app,
            shared: Arc::new(shared),
        }
    }
}

/// A replacement for the system clock.
#[derive(Clone)]
pub(super) struct Clock(pub(super) Arc<dyn Fn() -> OffsetDateTime + Send + Sync>);

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}
