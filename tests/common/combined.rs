//! A strict reader of Apache combined log lines,
//! `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`, as
//! `mod_log_config` escapes them: the line is printable ASCII; inside quotes
//! `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\v` and `\xhh` are the only escapes
//! and a bare `"` ends the field; outside quotes a field has no space. It
//! gives the fields unescaped, so a test can compare them with what was
//! sent: a line that was forged (a field too many, a quote not escaped, a
//! raw control byte) does not parse.
#![allow(dead_code, unreachable_pub)]

/// One combined line, its fields unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub host: Vec<u8>,
    pub ident: Vec<u8>,
    pub user: Vec<u8>,
    /// Between the brackets: `10/Oct/2000:13:55:36 +0000`.
    pub time: String,
    pub request: Vec<u8>,
    pub status: u16,
    /// `None` for `-`.
    pub bytes: Option<u64>,
    pub referer: Vec<u8>,
    pub user_agent: Vec<u8>,
}

/// Read one line (without its `\n`).
pub fn parse(line: &[u8]) -> Result<Line, String> {
    if let Some(b) = line.iter().find(|b| !(0x20..=0x7e).contains(*b)) {
        return Err(format!("byte {b:#04x} is not printable ASCII"));
    }
    let mut r = Reader { rest: line };
    let host = r.token()?;
    r.space()?;
    let ident = r.token()?;
    r.space()?;
    let user = r.token()?;
    r.space()?;
    let time = r.time()?;
    r.space()?;
    let request = r.quoted()?;
    r.space()?;
    let status = r.token()?;
    let status = match status.as_slice() {
        [a @ b'1'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(format!("status {:?}", String::from_utf8_lossy(&status))),
    };
    r.space()?;
    let bytes = match r.token()?.as_slice() {
        b"-" => None,
        digits if digits.iter().all(u8::is_ascii_digit) => Some(
            std::str::from_utf8(digits)
                .unwrap()
                .parse()
                .map_err(|e| format!("bytes: {e}"))?,
        ),
        other => return Err(format!("bytes {:?}", String::from_utf8_lossy(other))),
    };
    r.space()?;
    let referer = r.quoted()?;
    r.space()?;
    let user_agent = r.quoted()?;
    if !r.rest.is_empty() {
        return Err(format!(
            "more after the user agent: {:?}",
            String::from_utf8_lossy(r.rest)
        ));
    }
    Ok(Line {
        host,
        ident,
        user,
        time,
        request,
        status,
        bytes,
        referer,
        user_agent,
    })
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn space(&mut self) -> Result<(), String> {
        match self.rest.split_first() {
            Some((b' ', rest)) => {
                self.rest = rest;
                Ok(())
            }
            _ => Err(format!(
                "a space expected at {:?}",
                String::from_utf8_lossy(self.rest)
            )),
        }
    }

    /// A field outside quotes: no space, no quote, escapes read.
    fn token(&mut self) -> Result<Vec<u8>, String> {
        let end = self
            .rest
            .iter()
            .position(|&b| b == b' ')
            .unwrap_or(self.rest.len());
        let (raw, rest) = self.rest.split_at(end);
        if raw.is_empty() || raw.contains(&b'"') {
            return Err(format!(
                "a field expected at {:?}",
                String::from_utf8_lossy(self.rest)
            ));
        }
        self.rest = rest;
        unescape(raw)
    }

    /// `[dd/Mon/yyyy:HH:MM:SS +zzzz]`.
    fn time(&mut self) -> Result<String, String> {
        let shape = b"[00/Aaa/0000:00:00:00 +0000]";
        let Some(raw) = self.rest.get(..shape.len()) else {
            return Err("a time expected".into());
        };
        let month = &raw[4..7];
        let fits = raw
            .iter()
            .zip(shape)
            .enumerate()
            .all(|(i, (&b, &s))| match s {
                b'0' => b.is_ascii_digit(),
                b'A' | b'a' => b.is_ascii_alphabetic(),
                b'+' => i == 22 && (b == b'+' || b == b'-'),
                _ => b == s,
            });
        let months = [
            b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
            b"Dec",
        ];
        if !fits || !months.iter().any(|m| m.as_slice() == month) {
            return Err(format!(
                "a time expected at {:?}",
                String::from_utf8_lossy(raw)
            ));
        }
        self.rest = &self.rest[shape.len()..];
        Ok(String::from_utf8(raw[1..raw.len() - 1].to_vec()).unwrap())
    }

    /// `"..."`: ends at the first quote that is not escaped.
    fn quoted(&mut self) -> Result<Vec<u8>, String> {
        let Some((b'"', body)) = self.rest.split_first() else {
            return Err(format!(
                "a quote expected at {:?}",
                String::from_utf8_lossy(self.rest)
            ));
        };
        let mut i = 0;
        while i < body.len() {
            match body[i] {
                b'\\' => i += 2,
                b'"' => {
                    self.rest = &body[i + 1..];
                    return unescape(&body[..i]);
                }
                _ => i += 1,
            }
        }
        Err("a quoted field that does not end".into())
    }
}

/// Undo `mod_log_config`'s escapes; anything else after `\` is an error.
pub fn unescape(raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        let (byte, len) = match raw.get(i + 1) {
            Some(b'"') => (b'"', 2),
            Some(b'\\') => (b'\\', 2),
            Some(b'n') => (b'\n', 2),
            Some(b'r') => (b'\r', 2),
            Some(b't') => (b'\t', 2),
            Some(b'b') => (0x08, 2),
            Some(b'v') => (0x0b, 2),
            Some(b'x') => {
                let hex = raw
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                (byte.ok_or("a bad \\x escape")?, 4)
            }
            _ => {
                return Err(format!(
                    "a bad escape in {:?}",
                    String::from_utf8_lossy(raw)
                ));
            }
        };
        out.push(byte);
        i += len;
    }
    Ok(out)
}
