//! Escaping, so that no client input can forge a field or a line.
//!
//! Text formats escape as Apache's `mod_log_config` does: `"` and `\` get a
//! backslash, `\n` `\r` `\t` `\b` `\v` their C escapes, and every other
//! control byte or byte above `0x7e` becomes `\xhh` — a text line is plain
//! printable ASCII. Outside quotes a space becomes `\x20` too, so a value
//! cannot split its field. JSON lines escape by JSON's rules, plus the C1
//! controls, the line separators and the bidirectional overrides; bytes that
//! are not UTF-8 become `\ufffd`.

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Per byte, for text: `0` goes as is, `1` (a space) goes as is between
/// quotes, `2` is escaped.
const TEXT: [u8; 256] = {
    let mut class = [2; 256];
    let mut b = 0x21;
    while b < 0x7f {
        class[b] = 0;
        b += 1;
    }
    class[b'"' as usize] = 2;
    class[b'\\' as usize] = 2;
    class[b' ' as usize] = 1;
    class
};

/// Apache's `ap_escape_logitem`: printable ASCII but `"` and `\` as is,
/// C escapes for the usual controls, `\xhh` for every other byte (and for
/// a space, unless `quoted`).
pub(super) fn escape_text(buf: &mut Vec<u8>, s: &[u8], quoted: bool) {
    let plain = u8::from(quoted);
    let mut from = 0;
    while let Some(at) = s[from..].iter().position(|&b| TEXT[usize::from(b)] > plain) {
        let i = from + at;
        buf.extend_from_slice(&s[from..i]);
        let b = s[i];
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0b => b"\\v",
            _ => &[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ],
        };
        buf.extend_from_slice(short);
        from = i + 1;
    }
    buf.extend_from_slice(&s[from..]);
}

/// The inside of a JSON string. ASCII runs are copied as they are; the
/// rest goes through [`escape_json_chars`].
pub(super) fn escape_json(buf: &mut Vec<u8>, s: &[u8]) {
    let mut from = 0;
    while let Some(at) = s[from..]
        .iter()
        .position(|&b| !matches!(b, 0x20..=0x7e) || b == b'"' || b == b'\\')
    {
        let i = from + at;
        buf.extend_from_slice(&s[from..i]);
        if s[i] >= 0x80 {
            return escape_json_chars(buf, &s[i..]);
        }
        escape_json_char(buf, char::from(s[i]));
        from = i + 1;
    }
    buf.extend_from_slice(&s[from..]);
}

/// The inside of a JSON string, char by char: bytes that are not UTF-8
/// become `\ufffd`.
fn escape_json_chars(buf: &mut Vec<u8>, s: &[u8]) {
    for chunk in s.utf8_chunks() {
        let valid = chunk.valid();
        let mut from = 0;
        for (i, c) in valid.char_indices() {
            if !json_unsafe(c) {
                continue;
            }
            buf.extend_from_slice(&valid.as_bytes()[from..i]);
            escape_json_char(buf, c);
            from = i + c.len_utf8();
        }
        buf.extend_from_slice(&valid.as_bytes()[from..]);
        if !chunk.invalid().is_empty() {
            buf.extend_from_slice(b"\\ufffd");
        }
    }
}

/// JSON's own escapes, the C1 controls, the line separators, the
/// bidirectional overrides and the byte-order mark.
fn json_unsafe(c: char) -> bool {
    matches!(
        c,
        '"' | '\\'
            | '\0'..='\x1f'
            | '\x7f'..='\u{9f}'
            | '\u{2028}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}'
    )
}

/// One char that JSON (or a reader of the log) needs escaped.
fn escape_json_char(buf: &mut Vec<u8>, c: char) {
    let short: &[u8] = match c {
        '"' => b"\\\"",
        '\\' => b"\\\\",
        '\n' => b"\\n",
        '\r' => b"\\r",
        '\t' => b"\\t",
        _ => {
            let n = u32::from(c);
            buf.extend_from_slice(b"\\u");
            buf.extend((0..4).rev().map(|k| HEX[((n >> (4 * k)) & 15) as usize]));
            return;
        }
    };
    buf.extend_from_slice(short);
}

/// A field name as a quoted JSON key.
pub(super) fn json_key(name: &str) -> Box<str> {
    let mut buf = Vec::with_capacity(name.len() + 2);
    buf.push(b'"');
    escape_json(&mut buf, name.as_bytes());
    buf.push(b'"');
    String::from_utf8_lossy(&buf).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &[u8]) -> String {
        let mut buf = Vec::new();
        escape_text(&mut buf, s, true);
        String::from_utf8(buf).unwrap()
    }

    fn json(s: &[u8]) -> String {
        let mut buf = Vec::new();
        escape_json(&mut buf, s);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn text_escaping_is_apaches() {
        assert_eq!(text(b"plain text/1.0 (x; y)"), "plain text/1.0 (x; y)");
        assert_eq!(
            text(b"a\"b\\c\nd\re\tf\x08g\x0bh"),
            r#"a\"b\\c\nd\re\tf\bg\vh"#
        );
        assert_eq!(
            text(b"\x1b[31m\x00\x7f\xff\xc3\xa9"),
            r"\x1b[31m\x00\x7f\xff\xc3\xa9"
        );
        let mut bare = Vec::new();
        escape_text(&mut bare, b"john doe", false);
        assert_eq!(bare, br"john\x20doe");
    }

    #[test]
    fn json_escaping_keeps_utf8_and_escapes_the_rest() {
        assert_eq!(json("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(json(b"a\"b\\c\nd\x1b\x7f"), r#"a\"b\\c\nd\u001b\u007f"#);
        assert_eq!(
            json("\u{2028}\u{202e}\u{85}".as_bytes()),
            r"\u2028\u202e\u0085"
        );
        assert_eq!(json(b"x\xffy\xc3"), r"x\ufffdy\ufffd");
        let parsed: String =
            serde_json::from_str(&format!("\"{}\"", json(b"\"\n\x01\xff"))).unwrap();
        assert_eq!(parsed, "\"\n\u{1}\u{fffd}");
    }
}
