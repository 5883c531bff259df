//! One finished request as its fields: the values a line (or the tracing
//! sink) is made of.

use std::time::Duration;

use gateway_core::{End, Outcome};

use super::format::{Field, Segment};
use super::plan::Plan;
use super::record::Record;
use super::render::Value;

/// A finished request: its record, how it ended, and how long it took.
#[derive(Debug)]
pub(super) struct View<'a> {
    pub(super) plan: &'a Plan,
    pub(super) record: &'a Record,
    pub(super) outcome: &'a Outcome,
    /// From the request to the end of the response.
    pub(super) elapsed: Duration,
}

impl View<'_> {
    /// Write the line, without its newline.
    pub(super) fn line(&self, buf: &mut Vec<u8>, mark_aborted: bool) {
        let mark = (mark_aborted && !self.plan.has_aborted)
            .then(|| self.aborted())
            .flatten();
        let segments = &self.plan.format.segments;
        if self.plan.format.json {
            buf.push(b'{');
            let mut first = true;
            for segment in segments {
                if let Segment::Field { field, key, .. } = segment {
                    if !std::mem::take(&mut first) {
                        buf.push(b',');
                    }
                    buf.extend_from_slice(key.as_bytes());
                    buf.push(b':');
                    self.value(*field, true).json(buf);
                }
            }
            if let Some(how) = mark {
                buf.extend_from_slice(b",\"aborted\":\"");
                buf.extend_from_slice(how.as_bytes());
                buf.push(b'"');
            }
            buf.push(b'}');
        } else {
            for segment in segments {
                match segment {
                    Segment::Literal(text) => buf.extend_from_slice(text.as_bytes()),
                    Segment::Field { field, quoted, .. } => {
                        self.value(*field, false).text(buf, *quoted)
                    }
                }
            }
            if let Some(how) = mark {
                buf.extend_from_slice(b" aborted=");
                buf.extend_from_slice(how.as_bytes());
            }
        }
    }

    /// `failed` or `client_gone` when the body did not end.
    pub(super) fn aborted(&self) -> Option<&'static str> {
        match self.outcome.end {
            End::Complete => None,
            End::Failed => Some("failed"),
            End::ClientGone => Some("client_gone"),
        }
    }

    /// Time from the request to the final head.
    pub(super) fn head_us(&self) -> Option<u64> {
        let at = self.record.head_at?;
        Some(micros(at.saturating_duration_since(self.record.start)))
    }

    pub(super) fn duration_us(&self) -> u64 {
        micros(self.elapsed)
    }

    /// The value of `field`; `json` for the JSON spelling of byte counts.
    pub(super) fn value(&self, field: Field, json: bool) -> Value<'_> {
        let record = self.record;
        let plan = self.plan;
        let query = || {
            record
                .uri
                .as_ref()
                .and_then(|u| u.query())
                .filter(|q| !q.is_empty())
        };
        let redacted = Value::Static("[redacted]");
        match field {
            Field::RemoteAddr => Value::Addr(&record.remote),
            Field::Ident => Value::Missing,
            Field::User => record
                .user
                .as_deref()
                .map_or(Value::Missing, |u| Value::Bytes(u.as_bytes())),
            Field::Time => record.time.map_or(Value::Missing, Value::Time),
            Field::RequestLine => match &record.uri {
                Some(uri) => Value::RequestLine(&record.method, uri, record.protocol),
                None => Value::Missing,
            },
            Field::Method => Value::Bytes(record.method.as_str().as_bytes()),
            Field::Path => Value::Bytes(&record.path),
            Field::Query => query().map_or(Value::Missing, |q| Value::Bytes(q.as_bytes())),
            Field::QueryMark => Value::QueryMark(query()),
            Field::Protocol => Value::Static(record.protocol),
            Field::Status => Value::Num(self.outcome.status.as_u16().into()),
            Field::Bytes if self.outcome.bytes_sent == 0 && !json => Value::Missing,
            Field::Bytes | Field::BytesSent => Value::Num(self.outcome.bytes_sent),
            Field::RequestHeader(i) if plan.redacted_request[i] => redacted,
            Field::RequestHeader(i) => Value::Headers(&record.request, i),
            Field::ResponseHeader(i) if plan.redacted_response[i] => redacted,
            Field::ResponseHeader(i) => Value::Headers(&record.response, i),
            Field::Env(i) if plan.redacted_env[i] => redacted,
            Field::Env(i) => record.env[i]
                .as_deref()
                .map_or(Value::Missing, |v| Value::Bytes(v.as_bytes())),
            Field::RequestId(req, resp) => {
                if record.request.iter().any(|(at, _)| *at == req) {
                    Value::Headers(&record.request, req)
                } else {
                    Value::Headers(&record.response, resp)
                }
            }
            Field::HeadUs => self.head_us().map_or(Value::Missing, Value::Num),
            Field::HeadMs => self
                .head_us()
                .map_or(Value::Missing, |us| Value::Num(us / 1000)),
            Field::DurationUs => Value::Num(self.duration_us()),
            Field::DurationMs => Value::Num(self.duration_us() / 1000),
            Field::DurationS => Value::Num(self.elapsed.as_secs()),
            Field::Aborted => self.aborted().map_or(Value::Missing, Value::Static),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}
