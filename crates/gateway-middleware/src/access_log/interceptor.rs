//! The per-request part of the log: [`LogIntercept`] records a request
//! when it comes in (only what the format uses), its response head when it
//! is final, and how it ended; then it writes the line, once, in
//! [`finish`](Intercept::finish). [`Log`] is what every request of one
//! wrapped app shares: the compiled format, the clock and the sink.
//!
//! Everything the log reads from gateway-core's request and response types
//! is read here.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gateway_core::{BodyInfo, End, Environ, Error, Head, Intercept, Outcome, RemoteUser};
use http::{Uri, Version};

use super::escape::escape_text;
use super::format::{Plan, Record, Remote, with_buffer};
use super::sink::Sink;
use super::stamp::Clock;

/// One access log, compiled for the app it wraps.
#[derive(Debug)]
pub(super) struct Log {
    pub(super) plan: Plan,
    pub(super) sink: Arc<Sink>,
    pub(super) clock: Clock,
    pub(super) mark_aborted: bool,
    pub(super) capture_errors: bool,
}

impl Log {
    /// The response of `record` is over: write its line.
    fn access(&self, record: &Record) {
        with_buffer(|buf| {
            self.plan.line(record, buf, self.mark_aborted);
            self.sink.access(buf);
        });
    }

    /// Send a line that an app wrote to `wsgi.errors` for the client at
    /// `remote`: an error line in the format's kind, or, as an event, the
    /// message escaped.
    pub(super) fn error(&self, remote: &Remote, message: &str) {
        with_buffer(|buf| {
            if self.sink.events() {
                escape_text(buf, message.as_bytes(), true);
            } else {
                self.plan.error_line(buf, self.clock.now(), remote, message);
            }
            self.sink.error(buf, remote);
        });
    }
}

/// The access log's view of one response.
pub(super) struct LogIntercept {
    log: Arc<Log>,
    record: Record,
}

impl LogIntercept {
    /// Record what the format needs of the request in `environ`.
    pub(super) fn new(log: Arc<Log>, environ: &Environ) -> Self {
        let record = capture(&log, environ);
        LogIntercept { log, record }
    }

    /// The client's address, as recorded.
    pub(super) fn remote(&self) -> &Remote {
        &self.record.remote
    }

    /// The head is final.
    fn head(&mut self, head: &Head) {
        let plan = &self.log.plan;
        if plan.needs.head {
            self.record.head_at = Some(Instant::now());
        }
        for (i, name) in plan.format.response_headers.iter().enumerate() {
            if !plan.redacted_response[i] {
                self.record
                    .response
                    .extend(head.headers.get_all(name).iter().map(|v| (i, v.clone())));
            }
        }
    }
}

impl Intercept for LogIntercept {
    fn head(&mut self, head: &mut Head, _: BodyInfo) -> Result<(), Error> {
        LogIntercept::head(self, head);
        Ok(())
    }

    fn finish(&mut self, outcome: &Outcome) {
        let record = &mut self.record;
        record.elapsed = record.start.elapsed();
        record.status = outcome.status.as_u16();
        record.bytes_sent = outcome.bytes_sent;
        record.aborted = match outcome.end {
            End::Complete => None,
            End::Failed => Some("failed"),
            End::ClientGone => Some("client_gone"),
        };
        apply_user(&self.log.plan, record, outcome);
        self.log.access(record);
    }
}

/// Take in the user an inner middleware published (auth's [`RemoteUser`]),
/// for `%u` and for `{env.REMOTE_USER}` / `{env.AUTH_TYPE}`.
fn apply_user(plan: &Plan, record: &mut Record, outcome: &Outcome) {
    if !plan.needs.published {
        return;
    }
    let Some(user) = outcome.get::<RemoteUser>() else {
        return;
    };
    record.user = Some(user.name.clone());
    for (i, var) in plan.format.env.iter().enumerate() {
        if plan.redacted_env[i] {
            continue;
        }
        match &**var {
            "REMOTE_USER" => record.env[i] = Some(user.name.clone()),
            "AUTH_TYPE" => record.env[i] = Some(user.auth_type.clone().into_owned()),
            _ => {}
        }
    }
}

/// Capture what the plan of `log` needs from the request.
fn capture(log: &Log, environ: &Environ) -> Record {
    let plan = &log.plan;
    let needs = plan.needs;
    let time = needs.time.then(|| log.clock.now());
    // The socket's address (which a proxy-fixing middleware's REMOTE_ADDR
    // changes in place), else a REMOTE_ADDR given as a variable.
    let remote = match environ.remote_addr() {
        _ if !needs.remote => Remote::None,
        Some(addr) => Remote::Ip(addr.ip()),
        None => environ
            .get("REMOTE_ADDR")
            .map_or(Remote::None, |var| Remote::Var(var.into_owned())),
    };
    let mut path = Vec::new();
    if needs.path {
        path.extend_from_slice(environ.script_name());
        path.extend_from_slice(environ.path_info());
    }
    let mut request = Vec::new();
    for (i, name) in plan.format.request_headers.iter().enumerate() {
        if !plan.redacted_request[i] {
            request.extend(
                environ
                    .headers()
                    .get_all(name)
                    .iter()
                    .map(|v| (i, v.clone())),
            );
        }
    }
    let env = (plan.format.env.iter().zip(&plan.redacted_env))
        .map(|(name, &secret)| {
            if secret {
                None
            } else {
                environ.get(name).map(Cow::into_owned)
            }
        })
        .collect();
    Record {
        start: Instant::now(),
        head_at: None,
        time,
        remote,
        user: if needs.user {
            environ.get("REMOTE_USER").map(Cow::into_owned)
        } else {
            None
        },
        method: environ.method().clone(),
        protocol: environ.server_protocol(),
        uri: needs.uri.then(|| request_target(environ)),
        path,
        request,
        response: Vec::new(),
        env,
        status: 0,
        bytes_sent: 0,
        aborted: None,
        elapsed: Duration::ZERO,
    }
}

/// The request target as the client sent it: HTTP/2 and HTTP/3 send the
/// scheme and authority apart from the path (`:path`), which is what goes
/// in a request line, as Apache logs it.
fn request_target(environ: &Environ) -> Uri {
    let uri = environ.uri();
    match uri.path_and_query() {
        Some(path) if environ.version() >= Version::HTTP_2 && uri.scheme().is_some() => {
            Uri::from(path.clone())
        }
        _ => uri.clone(),
    }
}
