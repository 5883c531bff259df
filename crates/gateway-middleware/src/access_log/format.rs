//! What an access log line holds: [`Format`], parsed once from a format string.
//!
//! A format string mixes literal text with fields, written either the
//! Apache way (`%h %l %u %t "%r" %>s %b`, as `mod_log_config`) or by name
//! (`{remote_addr} {status} {header.user-agent}`), in any mix. `%%`, `{{`
//! and `}}` are a literal `%`, `{` and `}`. An unknown field is an error
//! here, at construction, never a surprise at request time.
//!
//! | name | Apache | value |
//! |---|---|---|
//! | `remote_addr` | `%a`, `%h` | the client's IP address (`REMOTE_ADDR`) |
//! | `ident` | `%l` | always `-` |
//! | `user` | `%u` | `REMOTE_USER`, else `-` |
//! | `time` | `%t` | when the request came: `[10/Oct/2000:13:55:36 +0000]` |
//! | `request_line` | `%r` | `GET /path?q HTTP/1.1` (a URL password is redacted) |
//! | `method` | `%m` | the method |
//! | `path` | `%U` | `SCRIPT_NAME` + `PATH_INFO`, percent-decoded |
//! | `query` | `%q` | the query string (`%q`: with its `?`, empty when none) |
//! | `protocol` | `%H` | `HTTP/1.1` |
//! | `status` | `%s`, `%>s` | the final status sent |
//! | `bytes` | `%b` | body bytes sent to the client, after compression; `-` for none |
//! | `bytes_sent` | `%B` | the same, `0` for none |
//! | `referer`, `user_agent` | `%{Referer}i` | those request headers |
//! | `header.NAME` | `%{NAME}i` | any request header (repeats joined by `, `) |
//! | `response_header.NAME` | `%{NAME}o` | any response header, as sent |
//! | `env.NAME` | `%{NAME}e` | any environ variable by its CGI name |
//! | `request_id` | | the `x-request-id` request header, else the response's |
//! | `head_us`, `head_ms` | `%^FB` (µs) | time from the request to the final head |
//! | `duration_us`, `duration_ms`, `duration_s` | `%D`, `%{ms}T`, `%T` | time to the last byte |
//! | `aborted` | | `-`, or `failed` / `client_gone` when the body did not end |
//!
//! A missing value prints `-` (`null` in JSON). Values from the client or
//! the app are escaped as Apache does (`\"`, `\n`, `\xhh`, ...), and a field
//! that does not stand between `"`s has its spaces escaped too (`\x20`), so
//! no value can pass for another field. `Authorization`,
//! `Proxy-Authorization`, `Cookie` and `Set-Cookie` are printed as
//! `[redacted]` whatever the format asks. A request line holds the target as
//! the client sent it (the path for HTTP/2), its URL password redacted.
//!
//! ```
//! use gateway_middleware::access_log::Format;
//!
//! let format = Format::parse("{remote_addr} \"%r\" %>s {duration_us}us").unwrap();
//! assert!(!format.is_json());
//! assert!(Format::parse("{no_such_field}").is_err());
//! assert!(Format::parse("%Z").is_err());
//! ```

use std::fmt;
use std::str::FromStr;

use http::HeaderName;

/// A parsed access log format: text (a format string) or JSON lines.
#[derive(Clone, PartialEq, Eq)]
pub struct Format {
    pub(super) json: bool,
    pub(super) segments: Vec<Segment>,
    /// Request headers the fields read, by index.
    pub(super) request_headers: Vec<HeaderName>,
    /// Response headers the fields read, by index.
    pub(super) response_headers: Vec<HeaderName>,
    /// Environ variables the fields read, by index.
    pub(super) env: Vec<Box<str>>,
}

/// One piece of a format: literal text or a field with its JSON key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    Literal(Box<str>),
    /// `key` is the field's name, already a quoted JSON string; `quoted`
    /// when the field stands between `"`s in a text format.
    Field {
        field: Field,
        key: Box<str>,
        quoted: bool,
    },
}

/// A value a line can hold; header and variable fields index the lists of
/// their [`Format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    RemoteAddr,
    Ident,
    User,
    Time,
    RequestLine,
    Method,
    Path,
    Query,
    /// Apache's `%q`: `?query`, or nothing.
    QueryMark,
    Protocol,
    Status,
    Bytes,
    BytesSent,
    RequestHeader(usize),
    ResponseHeader(usize),
    Env(usize),
    /// Indexes of `x-request-id` in the request and response header lists.
    RequestId(usize, usize),
    HeadUs,
    HeadMs,
    DurationUs,
    DurationMs,
    DurationS,
    Aborted,
}

/// Why a format string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// `{name}` names no field.
    #[error("unknown access log field `{{{name}}}` at byte {at}")]
    UnknownField {
        /// The name given.
        name: String,
        /// Its byte offset in the format string.
        at: usize,
    },
    /// `%x` is not a directive this log knows.
    #[error(
        "unknown access log directive `%{directive}` at byte {at} (write `%%` for a literal `%`)"
    )]
    UnknownDirective {
        /// The directive, without its `%`.
        directive: String,
        /// Its byte offset in the format string.
        at: usize,
    },
    /// A `{` with no `}`.
    #[error("`{{` at byte {at} is never closed (write `{{{{` for a literal `{{`)")]
    Unclosed {
        /// The byte offset of the `{`.
        at: usize,
    },
    /// A `}` that closes nothing.
    #[error("lone `}}` at byte {at} (write `}}}}` for a literal `}}`)")]
    StrayBrace {
        /// The byte offset of the `}`.
        at: usize,
    },
    /// A header field whose name is not a valid header name.
    #[error("`{name}` is not a valid header name")]
    InvalidHeaderName {
        /// The name given.
        name: String,
    },
    /// A JSON format with no field.
    #[error("a JSON access log format needs at least one field")]
    NoField,
}

impl Format {
    /// Apache's common log format: `%h %l %u %t "%r" %>s %b`.
    pub fn common() -> Self {
        Format::parse(r#"%h %l %u %t "%r" %>s %b"#).expect("the common format parses")
    }

    /// Apache's combined log format (the default): common, then
    /// `"%{Referer}i" "%{User-agent}i"`.
    pub fn combined() -> Self {
        Format::parse(r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i""#)
            .expect("the combined format parses")
    }

    /// JSON lines with the usual fields: `time` (RFC 3339), `remote_addr`,
    /// `user`, `method`, `path`, `query`, `protocol`, `status`, `bytes`,
    /// `referer`, `user_agent`, `request_id`, `head_us`, `duration_us`,
    /// `aborted`. A missing value is `null`.
    pub fn json() -> Self {
        Format::json_fields(
            "{time} {remote_addr} {user} {method} {path} {query} {protocol} {status} {bytes} \
             {referer} {user_agent} {request_id} {head_us} {duration_us} {aborted}",
        )
        .expect("the JSON format parses")
    }

    /// A text format from a format string (see the module docs).
    pub fn parse(spec: &str) -> Result<Self, FormatError> {
        Format::read(spec, false)
    }

    /// JSON lines holding the fields of a format string, keyed by their
    /// names (`{status} %{Host}i` gives `{"status":200,"header.host":"..."}`);
    /// literal text is ignored and a repeated field kept once.
    pub fn json_fields(spec: &str) -> Result<Self, FormatError> {
        let mut format = Format::read(spec, true)?;
        let mut seen = Vec::new();
        format.segments.retain(|s| match s {
            Segment::Field { key, .. } if !seen.contains(key) => {
                seen.push(key.clone());
                true
            }
            _ => false,
        });
        if format.segments.is_empty() {
            return Err(FormatError::NoField);
        }
        Ok(format)
    }

    /// `true` for a JSON-lines format.
    pub fn is_json(&self) -> bool {
        self.json
    }

    pub(super) fn empty(json: bool) -> Self {
        Format {
            json,
            segments: Vec::new(),
            request_headers: Vec::new(),
            response_headers: Vec::new(),
            env: Vec::new(),
        }
    }

    pub(super) fn fields(&self) -> impl Iterator<Item = Field> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Field { field, .. } => Some(*field),
            Segment::Literal(_) => None,
        })
    }
}

impl Default for Format {
    /// [`Format::combined`].
    fn default() -> Self {
        Format::combined()
    }
}

impl FromStr for Format {
    type Err = FormatError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        Format::parse(spec)
    }
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Format")
            .field("json", &self.json)
            .field("segments", &self.segments.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The segments of a format, as text: `lit:` literals and field keys.
    pub(in crate::access_log) fn names(f: &Format) -> Vec<String> {
        f.segments
            .iter()
            .map(|s| match s {
                Segment::Literal(l) => format!("lit:{l}"),
                Segment::Field { key, .. } => key.trim_matches('"').to_owned(),
            })
            .collect()
    }

    #[test]
    fn presets_parse() {
        assert_eq!(Format::common().fields().count(), 7);
        assert_eq!(Format::combined().fields().count(), 9);
        assert_eq!(Format::json().fields().count(), 15);
    }

    #[test]
    fn json_keeps_fields_once() {
        let f = Format::json_fields("{status} - {status} %>s {method}").unwrap();
        assert_eq!(names(&f), ["status", "method"]);
    }
}
