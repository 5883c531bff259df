//! Where lines go: `tracing` events, or any `Write`, one `write_all` per
//! line under a lock so lines never interleave. A sink that fails (an I/O
//! error, even a panic in the writer) never fails the request: the line is
//! dropped.

use std::borrow::Cow;
use std::fmt;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use http::{HeaderValue, Uri};

use super::app::Shared;
use super::escape::{escape_json, escape_text};
use super::line::View;
use super::record::Remote;
use super::render::{Value, target, with_buffer};

/// The destination of an access log.
pub(super) enum Sink {
    /// INFO events on `gateway::access`; `wsgi.errors` lines as ERROR events
    /// on `gateway::errors`.
    Tracing,
    /// Lines, each ending in `\n`.
    Writer(Mutex<Box<dyn Write + Send>>),
}

impl Sink {
    pub(super) fn is_tracing(&self) -> bool {
        matches!(self, Sink::Tracing)
    }

    /// Send the access line of `view`.
    pub(super) fn access(&self, view: &View<'_>, line: &mut Vec<u8>) {
        match self {
            Sink::Writer(_) => self.write(line),
            Sink::Tracing => traced(view, line),
        }
    }

    /// Send a line that an app wrote to `wsgi.errors`.
    pub(super) fn error(&self, shared: &Shared, remote: &Remote, message: &str) {
        with_buffer(|buf| match self {
            Sink::Tracing => {
                escape_text(buf, message.as_bytes(), true);
                let message = String::from_utf8_lossy(buf);
                tracing::error!(target: "gateway::errors", remote_addr = %Addr(remote), "{message}");
            }
            Sink::Writer(_) if shared.plan.format.json => {
                buf.extend_from_slice(b"{\"time\":");
                Value::Time(shared.now()).json(buf);
                buf.extend_from_slice(b",\"level\":\"error\",\"remote_addr\":");
                Value::Addr(remote).json(buf);
                buf.extend_from_slice(b",\"message\":\"");
                escape_json(buf, message.as_bytes());
                buf.extend_from_slice(b"\"}");
                self.write(buf);
            }
            Sink::Writer(_) => {
                Value::Time(shared.now()).text(buf, false);
                buf.extend_from_slice(b" [error] [client ");
                Value::Addr(remote).text(buf, false);
                buf.extend_from_slice(b"] ");
                escape_text(buf, message.as_bytes(), true);
                self.write(buf);
            }
        });
    }

    /// One line, one `write_all`; failures are dropped.
    fn write(&self, line: &mut Vec<u8>) {
        let Sink::Writer(writer) = self else { return };
        line.push(b'\n');
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let mut writer = writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            writer.write_all(line)
        }));
    }
}

/// The access event: the line as its message, and the usual fields.
fn traced(view: &View<'_>, line: &[u8]) {
    let Some(t) = view.plan.traced else { return };
    let record = view.record;
    let message = String::from_utf8_lossy(line);
    let request_id = header(&record.request, t.request_id.0)
        .or_else(|| header(&record.response, t.request_id.1));
    tracing::info!(
        target: "gateway::access",
        remote_addr = %Addr(&record.remote),
        user = record.user.as_deref(),
        method = record.method.as_str(),
        uri = record.uri.as_ref().map(|u| tracing::field::display(Target(u))),
        protocol = record.protocol,
        status = view.outcome.status.as_u16(),
        bytes = view.outcome.bytes_sent,
        referer = header(&record.request, t.referer).as_deref(),
        user_agent = header(&record.request, t.user_agent).as_deref(),
        request_id = request_id.as_deref(),
        head_us = view.head_us(),
        duration_us = view.duration_us(),
        aborted = view.aborted(),
        "{message}"
    );
}

/// The values of header `i`, joined by `, `, as text (lossy).
fn header(values: &[(usize, HeaderValue)], i: usize) -> Option<Cow<'_, str>> {
    let mut found = values
        .iter()
        .filter(|(at, _)| *at == i)
        .map(|(_, v)| v.as_bytes());
    let first = String::from_utf8_lossy(found.next()?);
    Some(found.fold(first, |mut all, v| {
        let all_mut = all.to_mut();
        all_mut.push_str(", ");
        all_mut.push_str(&String::from_utf8_lossy(v));
        all
    }))
}

/// The client's address, `-` when unknown.
struct Addr<'a>(&'a Remote);

impl fmt::Display for Addr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Remote::Ip(ip) => ip.fmt(f),
            Remote::Var(var) => f.write_str(var),
            Remote::None => f.write_str("-"),
        }
    }
}

/// The request target, its URL password redacted.
struct Target<'a>(&'a Uri);

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut result = Ok(());
        target(self.0, &mut |piece, _| {
            // Every piece of a `Uri` is a `str`.
            result = result.and_then(|()| f.write_str(&String::from_utf8_lossy(piece)));
        });
        result
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_tracing() {
            "Tracing"
        } else {
            "Writer"
        })
    }
}
