//! Reading a format string: Apache directives and named fields, each
//! mapped to a [`Field`]; headers and variables listed once, by index.

use http::HeaderName;

use super::escape::json_key;
use super::format::{Field, Format, FormatError, Segment};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_log::format::tests::names;

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
}
