//! `Accept-Encoding` negotiation (RFC 9110 §12.5.3): may the response be gzip?

use http::HeaderMap;
use http::header::ACCEPT_ENCODING;

/// A q-value in thousandths: `1000` is `q=1`, `0` is "not acceptable".
type Q = u16;

/// `true` when the request's `Accept-Encoding` makes gzip the coding to send.
///
/// - No `Accept-Encoding` at all: identity (most clients that can decode gzip
///   say so; RFC 9110 allows any coding here, but a client that sends no
///   header is usually one that cannot).
/// - Codings are matched case-insensitively; `x-gzip` is `gzip`; `*` stands
///   for every coding not listed.
/// - `q=0` refuses a coding; a member with an invalid q-value is ignored.
/// - Gzip wins when its weight is above zero and not below identity's.
///   Identity not listed (and no `*`) stays acceptable, with the lowest
///   preference. When the client refuses both, identity is sent all the same
///   (a `406` would help nobody).
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut identity, mut star) = (None::<Q>, None::<Q>, None::<Q>);
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for member in text.split(',') {
            let mut params = member.split(';');
            let coding = params.next().unwrap_or("").trim();
            let Some(q) = weight(params) else { continue };
            let slot =
                if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                    &mut gzip
                } else if coding.eq_ignore_ascii_case("identity") {
                    &mut identity
                } else if coding == "*" {
                    &mut star
                } else {
                    continue;
                };
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        }
    }
    let gzip = gzip.or(star).unwrap_or(0);
    gzip > 0 && identity.or(star).is_none_or(|identity| gzip >= identity)
}

/// The `q` parameter of one member (`1` when absent), `None` when invalid.
fn weight<'a>(params: impl Iterator<Item = &'a str>) -> Option<Q> {
    let mut q = 1000;
    for param in params.map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            q = qvalue(value.trim())?;
        }
    }
    Some(q)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`.
fn qvalue(text: &str) -> Option<Q> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |acc, digit| acc * 10 + Q::from(digit - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qvalues() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("0.5"), Some(500));
        assert_eq!(qvalue("0.05"), Some(50));
        assert_eq!(qvalue("0.001"), Some(1));
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("0."), Some(0));
        for bad in ["", "1.5", "2", "0.0001", ".5", "-1", "0.5x", "q"] {
            assert_eq!(qvalue(bad), None, "{bad:?}");
        }
    }
}
