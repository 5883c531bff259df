//! The format: what an access log line holds ([`Format`], parsed once from
//! a format string), what a request must capture for it (a plan, settled
//! when the log wraps an app), and how the line is written, in text or JSON.
//! The syntax and the fields are documented on [`Format`].

use std::cell::Cell;
use std::fmt;
use std::io::Write as _;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::{Duration, Instant};

use http::header::{AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION, SET_COOKIE};
use http::{HeaderName, HeaderValue, Method, Uri};
use time::OffsetDateTime;

use super::escape::{escape_json, escape_text, json_key};
use super::stamp;

/// A parsed access log format: text (a format string) or JSON lines.
///
/// A format string mixes literal text with fields, written either the
/// Apache way (`%h %l %u %t "%r" %>s %b`, as `mod_log_config`) or by name
/// (`{remote_addr} {status} {header.user-agent}`), in any mix. The two
/// spellings name one set of fields: each Apache directive is read as the
/// named field it stands for. `%%`, `{{` and `}}` are a literal `%`, `{`
/// and `}`. An unknown field is an error at parse time, when the log is
/// built, never a surprise at request time.
///
/// | name | Apache | value |
/// |---|---|---|
/// | `remote_addr` | `%a`, `%h` | the client's IP address (`REMOTE_ADDR`) |
/// | `ident` | `%l` | always `-` |
/// | `user` | `%u` | `REMOTE_USER`, else `-` |
/// | `time` | `%t` | when the request came: `[10/Oct/2000:13:55:36 +0000]` |
/// | `request_line` | `%r` | `GET /path?q HTTP/1.1` (a URL password is redacted) |
/// | `method` | `%m` | the method |
/// | `path` | `%U` | `SCRIPT_NAME` + `PATH_INFO`, percent-decoded |
/// | `query` | `%q` | the query string (`%q`: with its `?`, empty when none) |
/// | `protocol` | `%H` | `HTTP/1.1` |
/// | `status` | `%s`, `%>s` | the final status sent |
/// | `bytes` | `%b` | body bytes sent to the client, after compression; `-` for none |
/// | `bytes_sent` | `%B` | the same, `0` for none |
/// | `referer`, `user_agent` | `%{Referer}i` | those request headers |
/// | `header.NAME` | `%{NAME}i` | any request header (repeats joined by `, `) |
/// | `response_header.NAME` | `%{NAME}o` | any response header, as sent |
/// | `env.NAME` | `%{NAME}e` | any environ variable by its CGI name |
/// | `request_id` | | the `x-request-id` request header, else the response's |
/// | `head_us`, `head_ms` | `%^FB` (µs) | time from the request to the final head |
/// | `duration_us`, `duration_ms`, `duration_s` | `%D`, `%{ms}T`, `%T` | time to the last byte |
/// | `aborted` | | `-`, or `failed` / `client_gone` when the body did not end |
///
/// A missing value prints `-` (`null` in JSON). Values from the client or
/// the app are escaped as Apache does (`\"`, `\n`, `\xhh`, ...), and a field
/// that does not stand between `"`s has its spaces escaped too (`\x20`), so
/// no value can pass for another field. `Authorization`,
/// `Proxy-Authorization`, `Cookie` and `Set-Cookie` are printed as
/// `[redacted]` whatever the format asks. A request line holds the target as
/// the client sent it (the path for HTTP/2), its URL password redacted.
///
/// ```
/// use gateway_middleware::access_log::Format;
///
/// let format = Format::parse("{remote_addr} \"%r\" %>s {duration_us}us").unwrap();
/// assert!(!format.is_json());
/// assert!(Format::parse("{no_such_field}").is_err());
/// assert!(Format::parse("%Z").is_err());
/// ```
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
    /// The format holds a control character (a newline, ...), which would
    /// split the one line each request gets; TAB is allowed.
    #[error(
        "the access log format holds the control character {found:?} at byte {at}: a format \
         writes one line per request (TAB is allowed)"
    )]
    ControlCharacter {
        /// The character.
        found: char,
        /// Its byte offset in the format string.
        at: usize,
    },
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

    /// A text format from a format string (the syntax is above).
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

// Parsing.

impl Format {
    /// Parse `spec` into a text or JSON format.
    pub(super) fn read(spec: &str, json: bool) -> Result<Self, FormatError> {
        let mut format = Format::empty(json);
        Parser {
            spec,
            format: &mut format,
        }
        .run()?;
        Ok(format)
    }

    fn literal(&mut self, text: &str) {
        if let Some(Segment::Literal(last)) = self.segments.last_mut() {
            *last = format!("{last}{text}").into();
        } else {
            self.segments.push(Segment::Literal(text.into()));
        }
    }

    /// The index of `name` in `list`, added if new.
    pub(super) fn index<T: PartialEq>(list: &mut Vec<T>, name: T) -> usize {
        list.iter().position(|n| *n == name).unwrap_or_else(|| {
            list.push(name);
            list.len() - 1
        })
    }

    fn header(&mut self, response: bool, name: &str) -> Result<usize, FormatError> {
        let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            FormatError::InvalidHeaderName {
                name: name.to_owned(),
            }
        })?;
        let list = if response {
            &mut self.response_headers
        } else {
            &mut self.request_headers
        };
        Ok(Format::index(list, header))
    }

    /// A field from its name (`status`, `header.user-agent`, ...).
    fn named(&mut self, name: &str, at: usize) -> Result<(Field, String), FormatError> {
        let unknown = || FormatError::UnknownField {
            name: name.to_owned(),
            at,
        };
        if let Some((kind, arg)) = name.split_once('.') {
            return match kind {
                "header" | "response_header" => {
                    let response = kind == "response_header";
                    let i = self.header(response, arg)?;
                    let lower = arg.to_ascii_lowercase();
                    let field = if response {
                        Field::ResponseHeader(i)
                    } else {
                        Field::RequestHeader(i)
                    };
                    Ok((field, format!("{kind}.{lower}")))
                }
                "env" if !arg.is_empty() => {
                    let i = Format::index(&mut self.env, arg.into());
                    Ok((Field::Env(i), name.to_owned()))
                }
                _ => Err(unknown()),
            };
        }
        let field = match name {
            "remote_addr" => Field::RemoteAddr,
            "ident" => Field::Ident,
            "user" => Field::User,
            "time" => Field::Time,
            "request_line" => Field::RequestLine,
            "method" => Field::Method,
            "path" => Field::Path,
            "query" => Field::Query,
            "protocol" => Field::Protocol,
            "status" => Field::Status,
            "bytes" => Field::Bytes,
            "bytes_sent" => Field::BytesSent,
            "referer" => Field::RequestHeader(self.header(false, "referer")?),
            "user_agent" => Field::RequestHeader(self.header(false, "user-agent")?),
            "request_id" => Field::RequestId(
                self.header(false, "x-request-id")?,
                self.header(true, "x-request-id")?,
            ),
            "head_us" => Field::HeadUs,
            "head_ms" => Field::HeadMs,
            "duration_us" => Field::DurationUs,
            "duration_ms" => Field::DurationMs,
            "duration_s" => Field::DurationS,
            "aborted" => Field::Aborted,
            _ => return Err(unknown()),
        };
        Ok((field, name.to_owned()))
    }

    /// A field from an Apache directive: `arg` is the `{...}` part, `letter`
    /// the directive (`>s` keeps its modifier).
    fn apache(
        &mut self,
        arg: Option<&str>,
        letter: &str,
        at: usize,
    ) -> Result<(Field, String), FormatError> {
        let unknown = || FormatError::UnknownDirective {
            directive: match arg {
                Some(a) => format!("{{{a}}}{letter}"),
                None => letter.to_owned(),
            },
            at,
        };
        let name = match (arg, letter) {
            (Some(h), "i") => return self.named(&format!("header.{h}"), at),
            (Some(h), "o") => return self.named(&format!("response_header.{h}"), at),
            (Some(v), "e") => return self.named(&format!("env.{v}"), at),
            (Some("ms"), "T") => "duration_ms",
            (Some("us"), "T") => "duration_us",
            (Some("s"), "T") => "duration_s",
            (Some(_), _) => return Err(unknown()),
            (None, "a" | "h") => "remote_addr",
            (None, "l") => "ident",
            (None, "u") => "user",
            (None, "t") => "time",
            (None, "r") => "request_line",
            (None, "m") => "method",
            (None, "U") => "path",
            (None, "q") => return Ok((Field::QueryMark, "query".to_owned())),
            (None, "H") => "protocol",
            (None, "s" | ">s" | "<s") => "status",
            (None, "b") => "bytes",
            (None, "B") => "bytes_sent",
            (None, "D") => "duration_us",
            (None, "T") => "duration_s",
            (None, "^FB") => "head_us",
            _ => return Err(unknown()),
        };
        self.named(name, at)
    }
}

/// Reads a format string into a [`Format`].
struct Parser<'a> {
    spec: &'a str,
    format: &'a mut Format,
}

impl Parser<'_> {
    fn run(mut self) -> Result<(), FormatError> {
        let spec = self.spec;
        if let Some((at, found)) = spec
            .char_indices()
            .find(|&(_, c)| c.is_control() && c != '\t')
        {
            return Err(FormatError::ControlCharacter { found, at });
        }
        let bytes = spec.as_bytes();
        let (mut i, mut literal_from) = (0, 0);
        while i < bytes.len() {
            let (b, next) = (bytes[i], bytes.get(i + 1).copied());
            let escaped = matches!(
                (b, next),
                (b'%', Some(b'%')) | (b'{', Some(b'{')) | (b'}', Some(b'}'))
            );
            if !matches!(b, b'%' | b'{' | b'}') {
                i += 1;
                continue;
            }
            self.format.literal_if(&spec[literal_from..i]);
            if escaped {
                self.format.literal(&spec[i..i + 1]);
                i += 2;
            } else if b == b'}' {
                return Err(FormatError::StrayBrace { at: i });
            } else {
                let (field, name, end) = if b == b'{' {
                    let close = spec[i..].find('}').ok_or(FormatError::Unclosed { at: i })? + i;
                    let (field, name) = self.format.named(&spec[i + 1..close], i)?;
                    (field, name, close + 1)
                } else {
                    self.directive(i)?
                };
                let key = json_key(&name);
                self.format.segments.push(Segment::Field {
                    field,
                    key,
                    quoted: false,
                });
                i = end;
            }
            literal_from = i;
        }
        self.format.literal_if(&spec[literal_from..]);
        self.format.mark_quoted();
        Ok(())
    }

    /// The directive at `at` (a `%`): its field, name, and where it ends.
    fn directive(&mut self, at: usize) -> Result<(Field, String, usize), FormatError> {
        let spec = self.spec;
        let mut i = at + 1;
        let mut arg = None;
        if spec[i..].starts_with('{') {
            let close = spec[i..].find('}').ok_or(FormatError::Unclosed { at: i })? + i;
            arg = Some(&spec[i + 1..close]);
            i = close + 1;
        }
        let rest = &spec[i..];
        let len = if rest.starts_with("^FB") {
            3
        } else if rest.starts_with(['>', '<']) {
            1 + rest[1..].chars().next().map_or(0, char::len_utf8)
        } else {
            rest.chars().next().map_or(0, char::len_utf8)
        };
        let (field, name) = self.format.apache(arg, &rest[..len], at)?;
        Ok((field, name, i + len))
    }
}

impl Format {
    /// Find the fields that stand between quotes (`"%r"`): only there may a
    /// value hold a bare space.
    fn mark_quoted(&mut self) {
        for i in 0..self.segments.len() {
            let ends = |at: Option<usize>, end: fn(&str) -> bool| matches!(at.and_then(|at| self.segments.get(at)), Some(Segment::Literal(l)) if end(l));
            let quoted = ends(i.checked_sub(1), |l| l.ends_with('"'))
                && ends(Some(i + 1), |l| l.starts_with('"'));
            if let Segment::Field { quoted: q, .. } = &mut self.segments[i] {
                *q = quoted;
            }
        }
    }

    fn literal_if(&mut self, text: &str) {
        if !text.is_empty() {
            self.literal(text);
        }
    }
}

// What to capture.

/// Headers never logged, whatever the format asks: their fields print
/// `[redacted]`.
pub(super) const REDACTED: [HeaderName; 4] =
    [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE, SET_COOKIE];

/// What a request must capture for its line to be written.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Needs {
    pub(super) time: bool,
    pub(super) remote: bool,
    pub(super) user: bool,
    pub(super) uri: bool,
    pub(super) path: bool,
    pub(super) head: bool,
    /// What inner middleware publish (the `RemoteUser`: `%u`, `env.REMOTE_USER`, `env.AUTH_TYPE`).
    pub(super) published: bool,
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
}

impl Plan {
    /// Compile `format`; `redact` adds to [`REDACTED`]; `remote` asks for
    /// the client's address whatever the format says (`wsgi.errors` lines
    /// carry it).
    pub(super) fn new(format: Format, redact: &[HeaderName], remote: bool) -> Self {
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
                Field::User => (needs.user, needs.published) = (true, true),
                Field::Time => needs.time = true,
                Field::RequestLine | Field::Query | Field::QueryMark => needs.uri = true,
                Field::Path => needs.path = true,
                Field::Env(_) => needs.published = true,
                Field::HeadUs | Field::HeadMs => needs.head = true,
                Field::Aborted => has_aborted = true,
                _ => {}
            }
        }
        needs.remote |= remote;
        Plan {
            redacted_request: format.request_headers.iter().map(secret).collect(),
            redacted_response: format.response_headers.iter().map(secret).collect(),
            redacted_env: format.env.iter().map(|v| secret_var(v)).collect(),
            format,
            needs,
            has_aborted,
        }
    }
}

// What a request captured.

/// The client's address.
#[derive(Debug, Clone)]
pub(super) enum Remote {
    None,
    Ip(IpAddr),
    /// `REMOTE_ADDR` as a variable set by the server.
    Var(String),
}

impl fmt::Display for Remote {
    /// The address, `-` when unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Remote::Ip(ip) => ip.fmt(f),
            Remote::Var(var) => f.write_str(var),
            Remote::None => f.write_str("-"),
        }
    }
}

/// One request, as the plan captured it when it came in and when its
/// response was over: what a line is written from.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) start: Instant,
    pub(super) head_at: Option<Instant>,
    pub(super) time: Option<OffsetDateTime>,
    pub(super) remote: Remote,
    pub(super) user: Option<String>,
    pub(super) method: Method,
    pub(super) protocol: &'static str,
    pub(super) uri: Option<Uri>,
    pub(super) path: Vec<u8>,
    /// Values of the plan's request headers, by index, in order.
    pub(super) request: Vec<(usize, HeaderValue)>,
    /// Values of the plan's response headers, by index, in order.
    pub(super) response: Vec<(usize, HeaderValue)>,
    /// Values of the plan's environ variables, by index.
    pub(super) env: Vec<Option<String>>,
    /// The final status sent.
    pub(super) status: u16,
    /// Body bytes sent to the client.
    pub(super) bytes_sent: u64,
    /// `failed` or `client_gone` when the body did not end.
    pub(super) aborted: Option<&'static str>,
    /// From the request to the end of the response.
    pub(super) elapsed: Duration,
}

impl Record {
    /// Time from the request to the final head.
    fn head_us(&self) -> Option<u64> {
        let at = self.head_at?;
        Some(micros(at.saturating_duration_since(self.start)))
    }

    fn duration_us(&self) -> u64 {
        micros(self.elapsed)
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

// Writing a line.

impl Plan {
    /// Write the line of `record`, without its newline; `mark_aborted`
    /// adds the `aborted` marker when the format has no field for it.
    pub(super) fn line(&self, record: &Record, buf: &mut Vec<u8>, mark_aborted: bool) {
        let mark = (mark_aborted && !self.has_aborted)
            .then_some(record.aborted)
            .flatten();
        let segments = &self.format.segments;
        if self.format.json {
            buf.push(b'{');
            let mut first = true;
            for segment in segments {
                if let Segment::Field { field, key, .. } = segment {
                    if !std::mem::take(&mut first) {
                        buf.push(b',');
                    }
                    buf.extend_from_slice(key.as_bytes());
                    buf.push(b':');
                    self.value(record, *field, true).json(buf);
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
                        self.value(record, *field, false).text(buf, *quoted)
                    }
                }
            }
            if let Some(how) = mark {
                buf.extend_from_slice(b" aborted=");
                buf.extend_from_slice(how.as_bytes());
            }
        }
    }

    /// Write a line the app wrote to `wsgi.errors`, as an error line in the
    /// format's kind: `[time] [error] [client addr] message`, or a JSON
    /// object with `"level":"error"`.
    pub(super) fn error_line(
        &self,
        buf: &mut Vec<u8>,
        time: OffsetDateTime,
        remote: &Remote,
        message: &str,
    ) {
        if self.format.json {
            buf.extend_from_slice(b"{\"time\":");
            Value::Time(time).json(buf);
            buf.extend_from_slice(b",\"level\":\"error\",\"remote_addr\":");
            Value::Addr(remote).json(buf);
            buf.extend_from_slice(b",\"message\":\"");
            escape_json(buf, message.as_bytes());
            buf.extend_from_slice(b"\"}");
        } else {
            Value::Time(time).text(buf, false);
            buf.extend_from_slice(b" [error] [client ");
            Value::Addr(remote).text(buf, false);
            buf.extend_from_slice(b"] ");
            escape_text(buf, message.as_bytes(), true);
        }
    }

    /// The value of `field`; `json` for the JSON spelling of byte counts.
    fn value<'a>(&self, record: &'a Record, field: Field, json: bool) -> Value<'a> {
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
            Field::Status => Value::Num(record.status.into()),
            Field::Bytes if record.bytes_sent == 0 && !json => Value::Missing,
            Field::Bytes | Field::BytesSent => Value::Num(record.bytes_sent),
            Field::RequestHeader(i) if self.redacted_request[i] => redacted,
            Field::RequestHeader(i) => Value::Headers(&record.request, i),
            Field::ResponseHeader(i) if self.redacted_response[i] => redacted,
            Field::ResponseHeader(i) => Value::Headers(&record.response, i),
            Field::Env(i) if self.redacted_env[i] => redacted,
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
            Field::HeadUs => record.head_us().map_or(Value::Missing, Value::Num),
            Field::HeadMs => record
                .head_us()
                .map_or(Value::Missing, |us| Value::Num(us / 1000)),
            Field::DurationUs => Value::Num(record.duration_us()),
            Field::DurationMs => Value::Num(record.duration_us() / 1000),
            Field::DurationS => Value::Num(record.elapsed.as_secs()),
            Field::Aborted => record.aborted.map_or(Value::Missing, Value::Static),
        }
    }
}

/// A field's value, before it is written in a text or JSON line.
#[derive(Debug)]
pub(super) enum Value<'a> {
    /// Nothing: `-` in text, `null` in JSON.
    Missing,
    Num(u64),
    /// Text of ours, written as is (in quotes in JSON).
    Static(&'static str),
    /// Text from the request or the app: escaped.
    Bytes(&'a [u8]),
    /// The values of one header (`index`), joined by `, `.
    Headers(&'a [(usize, HeaderValue)], usize),
    Addr(&'a Remote),
    Time(OffsetDateTime),
    /// Apache's `%q`: `?query`, or nothing at all.
    QueryMark(Option<&'a str>),
    RequestLine(&'a Method, &'a Uri, &'static str),
}

impl Value<'_> {
    /// Write the value in a text line; outside quotes (`quoted` false) a
    /// space from outside is escaped too, so that it cannot split the field.
    pub(super) fn text(&self, buf: &mut Vec<u8>, quoted: bool) {
        let start = buf.len();
        self.parts(&mut |s: &[u8], outside: bool| {
            if outside {
                escape_text(buf, s, quoted);
            } else {
                buf.extend_from_slice(s);
            }
        });
        let nothing = buf.len() == start;
        match self {
            Value::Missing => buf.push(b'-'),
            Value::Num(n) => buf.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Value::Static(s) => buf.extend_from_slice(s.as_bytes()),
            Value::Addr(Remote::Ip(ip)) => ip_into(*ip, buf),
            Value::Time(t) => {
                buf.push(b'[');
                if !stamp::clf(*t, buf) {
                    buf.truncate(start);
                    buf.push(b'-');
                } else {
                    buf.push(b']');
                }
            }
            Value::QueryMark(_) => {}
            _ if nothing => buf.push(b'-'),
            _ => {}
        }
    }

    /// Write the value in a JSON line.
    pub(super) fn json(&self, buf: &mut Vec<u8>) {
        match self {
            Value::Missing | Value::Addr(Remote::None) => buf.extend_from_slice(b"null"),
            Value::Num(n) => buf.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
            Value::Headers(values, i) if !values.iter().any(|(at, _)| at == i) => {
                buf.extend_from_slice(b"null");
            }
            Value::QueryMark(None) => buf.extend_from_slice(b"null"),
            Value::Time(t) => {
                let start = buf.len();
                buf.push(b'"');
                if !stamp::rfc3339(*t, buf) {
                    buf.truncate(start);
                    buf.extend_from_slice(b"null");
                } else {
                    buf.push(b'"');
                }
            }
            Value::Addr(Remote::Ip(ip)) => {
                buf.push(b'"');
                ip_into(*ip, buf);
                buf.push(b'"');
            }
            _ => {
                buf.push(b'"');
                match self {
                    Value::Static(s) => escape_json(buf, s.as_bytes()),
                    Value::QueryMark(Some(q)) => escape_json(buf, q.as_bytes()),
                    _ => self.parts(&mut |s: &[u8], _| escape_json(buf, s)),
                }
                buf.push(b'"');
            }
        }
    }

    /// The pieces of a text value: `put(piece, true)` for those that come
    /// from outside (to escape), `put(piece, false)` for ours.
    fn parts(&self, put: &mut dyn FnMut(&[u8], bool)) {
        match self {
            Value::Bytes(b) => put(b, true),
            Value::Addr(Remote::Var(s)) => put(s.as_bytes(), true),
            Value::Headers(values, i) => {
                for (n, (_, v)) in values.iter().filter(|(at, _)| at == i).enumerate() {
                    if n > 0 {
                        put(b", ", false);
                    }
                    put(v.as_bytes(), true);
                }
            }
            Value::QueryMark(Some(q)) => {
                put(b"?", false);
                put(q.as_bytes(), true);
            }
            Value::RequestLine(method, uri, protocol) => {
                put(method.as_str().as_bytes(), true);
                put(b" ", false);
                target(uri, put);
                put(b" ", false);
                put(protocol.as_bytes(), false);
            }
            _ => {}
        }
    }
}

/// An IP address, IPv4 without `fmt`.
fn ip_into(ip: IpAddr, buf: &mut Vec<u8>) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    buf.push(b'.');
                }
                buf.extend_from_slice(itoa::Buffer::new().format(octet).as_bytes());
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(buf, "{v6}");
        }
    }
}

/// The request target as received, but for the password of a URL in
/// absolute form (`http://user:pass@host/`), which becomes `[redacted]`.
/// Pieces from the client are put with `true`.
fn target(uri: &Uri, put: &mut dyn FnMut(&[u8], bool)) {
    if let Some(scheme) = uri.scheme_str() {
        put(scheme.as_bytes(), true);
        put(b"://", false);
    }
    if let Some(authority) = uri.authority() {
        match authority.as_str().rsplit_once('@') {
            Some((userinfo, host)) => {
                match userinfo.split_once(':') {
                    Some((user, _password)) => {
                        put(user.as_bytes(), true);
                        put(b":[redacted]", false);
                    }
                    None => put(userinfo.as_bytes(), true),
                }
                put(b"@", false);
                put(host.as_bytes(), true);
            }
            None => put(authority.as_str().as_bytes(), true),
        }
    }
    put(uri.path().as_bytes(), true);
    if let Some(query) = uri.query() {
        put(b"?", false);
        put(query.as_bytes(), true);
    }
}

/// Lines past this size do not keep their buffer.
const KEEP: usize = 16 * 1024;

thread_local! {
    static BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Run `f` with an empty buffer: this thread's, reused from line to line
/// (a fresh one if a line is being written on this thread already).
pub(super) fn with_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut buf = BUFFER.try_with(Cell::take).unwrap_or_default();
    buf.clear();
    buf.reserve(512);
    let out = f(&mut buf);
    if buf.capacity() <= KEEP {
        let _ = BUFFER.try_with(|cell| cell.set(buf));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The segments of a format, as text: `lit:` literals and field keys.
    fn names(f: &Format) -> Vec<String> {
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

    #[test]
    fn apache_and_named_fields_mix() {
        let f = Format::parse(r#"%h {user} "%r" %>s %{X-Foo}i {{%%}}"#).unwrap();
        assert_eq!(
            names(&f),
            [
                "remote_addr",
                "lit: ",
                "user",
                "lit: \"",
                "request_line",
                "lit:\" ",
                "status",
                "lit: ",
                "header.x-foo",
                "lit: {%}"
            ]
        );
        assert_eq!(f.request_headers, [HeaderName::from_static("x-foo")]);
    }

    #[test]
    fn fields_between_quotes_are_known() {
        let f = Format::combined();
        let quoted: Vec<bool> = f
            .segments
            .iter()
            .filter_map(|s| match s {
                Segment::Field { quoted, .. } => Some(*quoted),
                Segment::Literal(_) => None,
            })
            .collect();
        assert_eq!(
            quoted,
            [false, false, false, false, true, false, false, true, true]
        );
    }

    #[test]
    fn same_header_is_captured_once() {
        let f = Format::parse("{referer} %{Referer}i {header.REFERER}").unwrap();
        assert_eq!(f.request_headers.len(), 1);
    }

    #[test]
    fn bad_formats_are_errors() {
        let err = |s: &str| Format::parse(s).unwrap_err();
        assert_eq!(
            err("a {nope}"),
            FormatError::UnknownField {
                name: "nope".into(),
                at: 2
            }
        );
        assert_eq!(
            err("%Z"),
            FormatError::UnknownDirective {
                directive: "Z".into(),
                at: 0
            }
        );
        assert_eq!(
            err("%{x}Q"),
            FormatError::UnknownDirective {
                directive: "{x}Q".into(),
                at: 0
            }
        );
        assert_eq!(
            err("100%"),
            FormatError::UnknownDirective {
                directive: String::new(),
                at: 3
            }
        );
        assert_eq!(err("{status"), FormatError::Unclosed { at: 0 });
        assert_eq!(err("a } b"), FormatError::StrayBrace { at: 2 });
        assert!(matches!(
            err("{header.bad name}"),
            FormatError::InvalidHeaderName { .. }
        ));
        assert!(matches!(err("{env.}"), FormatError::UnknownField { .. }));
        assert_eq!(
            Format::json_fields("just text").unwrap_err(),
            FormatError::NoField
        );
    }

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
        assert!(!(n.time || n.remote || n.user || n.uri || n.path || n.head || n.published));
        let plan = Plan::new(Format::common(), &[], false);
        assert!(plan.needs.time && plan.needs.user && plan.needs.uri && !plan.needs.path);
        let plan = Plan::new(Format::parse("%>s").unwrap(), &[], true);
        assert!(plan.needs.remote && !plan.needs.head && !plan.needs.time);
        assert!(plan.format.request_headers.is_empty());
    }

    #[test]
    fn url_passwords_are_redacted() {
        let mut out = Vec::new();
        let uri: Uri = "http://alice:s3cret@example.com:8080/p?q=1"
            .parse()
            .unwrap();
        target(&uri, &mut |s, _| out.extend_from_slice(s));
        assert_eq!(out, b"http://alice:[redacted]@example.com:8080/p?q=1");
        out.clear();
        target(&Uri::from_static("/a/b?c"), &mut |s, _| {
            out.extend_from_slice(s)
        });
        assert_eq!(out, b"/a/b?c");
    }

    #[test]
    fn addresses_are_written() {
        let mut buf = Vec::new();
        for (ip, text) in [
            ("10.0.200.7", "10.0.200.7"),
            ("::1", "::1"),
            ("2001:db8::8a2e:370:7334", "2001:db8::8a2e:370:7334"),
        ] {
            buf.clear();
            Value::Addr(&Remote::Ip(ip.parse().unwrap())).text(&mut buf, false);
            assert_eq!(buf, text.as_bytes());
        }
        buf.clear();
        Value::Addr(&Remote::None).json(&mut buf);
        assert_eq!(buf, b"null");
    }

    #[test]
    fn times_are_formatted() {
        let t = time::macros::datetime!(2000-10-10 13:55:36 UTC);
        let mut buf = Vec::new();
        Value::Time(t).text(&mut buf, false);
        assert_eq!(buf, b"[10/Oct/2000:13:55:36 +0000]");
        buf.clear();
        Value::Time(t.to_offset(time::macros::offset!(-7))).json(&mut buf);
        assert_eq!(buf, b"\"2000-10-10T06:55:36.000000-07:00\"");
    }

    #[test]
    fn the_buffer_is_reused_and_reentrancy_is_safe() {
        let first = with_buffer(|b| {
            b.extend_from_slice(b"x");
            with_buffer(|inner| assert!(inner.is_empty()));
            b.as_ptr()
        });
        let again = with_buffer(|b| {
            assert!(b.is_empty() && b.capacity() >= 512);
            b.as_ptr()
        });
        assert_eq!(first, again, "the same allocation serves the next line");
    }

    #[test]
    fn a_control_character_in_the_format_is_refused() {
        for spec in ["%h\n%s", "\r", "{status}\u{85}", "%h\u{1b}[31m"] {
            assert!(
                matches!(
                    Format::parse(spec),
                    Err(FormatError::ControlCharacter { .. })
                ),
                "{spec:?}"
            );
        }
        assert!(Format::parse("%h\t%>s").is_ok());
    }
}
