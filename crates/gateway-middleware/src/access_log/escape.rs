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

/// Apache's `ap_escape_logitem`: printable ASCII but `"` and `\` as is,
/// C escapes for the usual controls, `\xhh` for every other byte (and for
/// a space, unless `quoted`).
pub(super) fn escape_text(buf: &mut Vec<u8>, s: &[u8], quoted: bool) {
    let mut from = 0;
    for (i, &b) in s.iter().enumerate() {
        let short: &[u8] = match b {
            b' ' if quoted => continue,
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0b => b"\\v",
            0x21..=0x7e => continue,
            _ => &[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ],
        };
        buf.extend_from_slice(&s[from..i]);
        buf.extend_from_slice(short);
        from = i + 1;
    }
    buf.extend_from_slice(&s[from..]);
}

/// The inside of a JSON string.
pub(super) fn escape_json(buf: &mut Vec<u8>, s: &[u8]) {
    for chunk in s.utf8_chunks() {
        let valid = chunk.valid();
        let mut from = 0;
        for (i, c) in valid.char_indices() {
            let short: &[u8] = match c {
                '"' => b"\\\"",
                '\\' => b"\\\\",
                '\n' => b"\\n",
                '\r' => b"\\r",
                '\t' => b"\\t",
                '\0'..='\x1f'
                | '\x7f'..='\u{9f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}' => &[],
                _ => continue,
            };
            buf.extend_from_slice(&valid.as_bytes()[from..i]);
            if short.is_empty() {
                let n = c as u32;
                buf.extend_from_slice(b"\\u");
                buf.extend((0..4).rev().map(|k| HEX[((n >> (4 * k)) & 15) as usize]));
            } else {
                buf.extend_from_slice(short);
            }
            from = i + c.len_utf8();
        }
        buf.extend_from_slice(&valid.as_bytes()[from..]);
        if !chunk.invalid().is_empty() {
            buf.extend_from_slice(b"\\ufffd");
        }
    }
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
