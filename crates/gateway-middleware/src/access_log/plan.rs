//! What to capture per request, settled once when the log wraps an app: the
//! format's fields, which of them are redacted, and what the sink needs.

use http::HeaderName;
use http::header::{AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION, REFERER, SET_COOKIE, USER_AGENT};

use super::format::{Field, Format};

/// Headers never logged, whatever the format asks: their fields print
/// `[redacted]`.
pub(super) const REDACTED: [HeaderName; 4] =
    [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE, SET_COOKIE];

/// What a request must capture for the line (and the sink) to be written.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Needs {
    pub(super) time: bool,
    pub(super) remote: bool,
    pub(super) user: bool,
    pub(super) uri: bool,
    pub(super) path: bool,
    pub(super) head: bool,
    /// Variables inner middleware may set (`REMOTE_USER`, `env.*`).
    pub(super) notes: bool,
}

/// Indexes of the request headers the tracing sink records as fields.
#[derive(Debug, Clone, Copy)]
pub(super) struct Traced {
    pub(super) referer: usize,
    pub(super) user_agent: usize,
    /// `x-request-id` in the request and the response header lists.
    pub(super) request_id: (usize, usize),
}

/// A format, compiled for one log.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) format: Format,
    pub(super) redacted_request: Vec<bool>,
    pub(super) redacted_response: Vec<bool>,
    pub(super) redacted_env: Vec<bool>,
    pub(super) needs: Needs,
    /// The format has an `aborted` field of its own.
    pub(super) has_aborted: bool,
    /// Set for the tracing sink.
    pub(super) traced: Option<Traced>,
}

impl Plan {
    /// Compile `format`; `redact` adds to [`REDACTED`]; `traced` adds what
    /// the tracing sink's fields need.
    pub(super) fn new(mut format: Format, redact: &[HeaderName], traced: bool) -> Self {
        let traced = traced.then(|| Traced {
            referer: Format::index(&mut format.request_headers, REFERER),
            user_agent: Format::index(&mut format.request_headers, USER_AGENT),
            request_id: (
                Format::index(
                    &mut format.request_headers,
                    HeaderName::from_static("x-request-id"),
                ),
                Format::index(
                    &mut format.response_headers,
                    HeaderName::from_static("x-request-id"),
                ),
            ),
        });
        let secret = |name: &HeaderName| REDACTED.contains(name) || redact.contains(name);
        let secret_var = |var: &str| {
            var.strip_prefix("HTTP_").is_some_and(|h| {
                let header = h.replace('_', "-").to_ascii_lowercase();
                HeaderName::from_bytes(header.as_bytes()).is_ok_and(|n| secret(&n))
            })
        };
        let mut needs = Needs::default();
        let mut has_aborted = false;
        for field in format.fields() {
            match field {
                Field::RemoteAddr => needs.remote = true,
                Field::User => (needs.user, needs.notes) = (true, true),
                Field::Time => needs.time = true,
                Field::RequestLine | Field::Query | Field::QueryMark => needs.uri = true,
                Field::Path => needs.path = true,
                Field::Env(_) => needs.notes = true,
                Field::HeadUs | Field::HeadMs => needs.head = true,
                Field::Aborted => has_aborted = true,
                _ => {}
            }
        }
        if traced.is_some() {
            needs = Needs {
                time: needs.time,
                path: needs.path,
                ..Needs::all()
            };
        }
        Plan {
            redacted_request: format.request_headers.iter().map(secret).collect(),
            redacted_response: format.response_headers.iter().map(secret).collect(),
            redacted_env: format.env.iter().map(|v| secret_var(v)).collect(),
            format,
            needs,
            has_aborted,
            traced,
        }
    }
}

impl Needs {
    fn all() -> Self {
        Needs {
            time: true,
            remote: true,
            user: true,
            uri: true,
            path: true,
            head: true,
            notes: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_by_header_and_by_variable() {
        let format = Format::parse(
            "{header.authorization} %{Cookie}i {header.x-key} {header.accept} \
             {response_header.set-cookie} {env.HTTP_PROXY_AUTHORIZATION} {env.HTTP_X_KEY} {env.AUTH_TYPE}",
        )
        .unwrap();
        let plan = Plan::new(format, &[HeaderName::from_static("x-key")], false);
        assert_eq!(plan.redacted_request, [true, true, true, false]);
        assert_eq!(plan.redacted_response, [true]);
        assert_eq!(plan.redacted_env, [true, true, false]);
    }

    #[test]
    fn only_what_the_format_uses_is_captured() {
        let plan = Plan::new(Format::parse("%>s %b").unwrap(), &[], false);
        let n = plan.needs;
        assert!(!(n.time || n.remote || n.user || n.uri || n.path || n.head || n.notes));
        let plan = Plan::new(Format::common(), &[], false);
        assert!(plan.needs.time && plan.needs.user && plan.needs.uri && !plan.needs.path);
        let plan = Plan::new(Format::parse("%>s").unwrap(), &[], true);
        assert!(plan.needs.remote && plan.needs.head && !plan.needs.time);
        assert_eq!(plan.format.request_headers.len(), 3);
    }
}
