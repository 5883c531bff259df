//! [`AccessLog`]: the middleware, how it is set up, and how it wraps an
//! app.

use std::io::Write;
use std::sync::Arc;

use gateway_core::{App, Middleware};
use http::HeaderName;
use time::{OffsetDateTime, UtcOffset};

use super::app::AccessLogApp;
use super::format::{Format, Plan};
use super::interceptor::Log;
use super::sink::{Buffer, FlushHandle, Sink};
use super::stamp::Clock;

/// The access log middleware: one line per request, in a [`Format`], to a
/// sink. Its behaviour, its sinks and its formats are described on the
/// [module page](super).
#[derive(Clone, Debug)]
pub struct AccessLog {
    format: Format,
    sink: Arc<Sink>,
    clock: Clock,
    mark_aborted: bool,
    capture_errors: bool,
    redact: Vec<HeaderName>,
}

impl AccessLog {
    /// Apache combined lines, in UTC, to the default sink: `tracing` events
    /// when a subscriber is installed, else standard output (so the log is
    /// never silent).
    pub fn new() -> Self {
        AccessLog {
            format: Format::combined(),
            sink: Arc::new(Sink::Default),
            clock: Clock::utc(),
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
    /// under a lock, as each response ends. For fewer writes, see
    /// [`to_buffered_writer`](AccessLog::to_buffered_writer).
    pub fn to_writer(mut self, writer: impl Write + Send + 'static) -> Self {
        self.sink = Arc::new(Sink::writer(writer));
        self
    }

    /// Write lines to `writer` through a buffer (nginx's `buffer=` and
    /// `flush=`): one `write_all` per [`Buffer::size`] of lines, and at
    /// least every [`Buffer::flush_interval`], from a background thread.
    /// What is buffered is written on [`flush`](AccessLog::flush) and when
    /// the log and every app it wrapped are dropped; at a shutdown that
    /// does not drop them (`std::process::exit`, a signal handler of your
    /// own), call [`flush_handle`](AccessLog::flush_handle)`().flush()`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use gateway_middleware::access_log::{AccessLog, Buffer};
    ///
    /// let log = AccessLog::new().to_buffered_writer(
    ///     std::io::stdout(),
    ///     Buffer::new().size(64 * 1024).flush_interval(Duration::from_secs(1)),
    /// );
    /// let flush = log.flush_handle();
    /// // ... serve; then, at shutdown:
    /// flush.flush();
    /// ```
    pub fn to_buffered_writer(
        mut self,
        writer: impl Write + Send + 'static,
        buffer: Buffer,
    ) -> Self {
        self.sink = Arc::new(Sink::buffered(writer, buffer));
        self
    }

    /// Send lines as `tracing` events at INFO on target `gateway::access`,
    /// whether or not a subscriber is installed.
    pub fn to_tracing(mut self) -> Self {
        self.sink = Arc::new(Sink::Tracing);
        self
    }

    /// Write what the sink has buffered, now, and flush its writer.
    pub fn flush(&self) {
        self.sink.flush();
    }

    /// A handle that flushes this log's sink (the one set last) from
    /// anywhere, without keeping it alive. Take it after choosing the sink.
    pub fn flush_handle(&self) -> FlushHandle {
        FlushHandle(Arc::downgrade(&self.sink))
    }

    /// Read the time from `clock` rather than the system clock. Durations
    /// are measured with [`Instant`](std::time::Instant) all the same.
    pub fn clock(mut self, clock: impl Fn() -> OffsetDateTime + Send + Sync + 'static) -> Self {
        self.clock.custom = Some(Arc::new(clock));
        self
    }

    /// Print times at `offset` from UTC (`UtcOffset::current_local_offset()`
    /// read once at startup, before any thread is spawned, gives local time).
    pub fn utc_offset(mut self, offset: UtcOffset) -> Self {
        self.clock.offset = offset;
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
    /// [`AccessLog::new`].
    fn default() -> Self {
        AccessLog::new()
    }
}

impl<A: App> Middleware<A> for AccessLog {
    type App = AccessLogApp<A>;

    fn wrap(&self, app: A) -> Self::App {
        let log = Log {
            plan: Plan::new(self.format.clone(), &self.redact, self.capture_errors),
            sink: self.sink.clone(),
            clock: self.clock.clone(),
            mark_aborted: self.mark_aborted,
            capture_errors: self.capture_errors,
        };
        AccessLogApp {
            app,
            log: Arc::new(log),
        }
    }
}
