//! Properties of the parsers a client or an app feeds: for any input, the
//! environ and the head checks never panic, and what they accept keeps the
//! rules (paths round-trip, no header value can split a response).

use gateway_core::testing::Client;
use gateway_core::{Body, Environ, Error, Head, StartResponse, latin1, quote_path};
use proptest::prelude::*;

/// Any request target a client could put on a request line, as bytes
/// `http::Uri` accepts or refuses.
fn target() -> impl Strategy<Value = String> {
    prop_oneof![
        "/[ -~]{0,40}",
        "/(%[0-9A-Fa-f]{2}|[a-z/.]){0,20}(\\?[ -~]{0,10})?",
        "http://[a-z.]{1,10}(:[0-9]{1,5})?/[ -~]{0,20}",
        "[ -~]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every variable of an environ built from any request can be read, and
    /// PATH_INFO's bytes round-trip through the native string and quoting.
    #[test]
    fn the_environ_of_any_request_reads_without_panic(
        target in target(),
        headers in proptest::collection::vec(("[A-Za-z_-]{1,12}", "[\\t -~\\u{80}-\\u{ff}]{0,20}"), 0..6),
    ) {
        let mut builder = http::Request::get(&*target);
        for (name, value) in &headers {
            builder = builder.header(&**name, value.as_bytes());
        }
        let Ok(request) = builder.body(()) else { return Ok(()) };
        let (parts, ()) = request.into_parts();
        let environ = Environ::from_parts(parts, Default::default());
        for (name, value) in environ.vars() {
            let again = environ.get(&name);
            prop_assert_eq!(again.as_deref(), Some(&*value), "{}", name);
            prop_assert!(!name.starts_with("HTTP_") || !name[5..].contains('-'));
        }
        let path = environ.path_info().to_vec();
        let native = latin1(&path).into_owned();
        let back: Vec<u8> = native.chars().map(|c| c as u32 as u8).collect();
        prop_assert_eq!(&back, &path);
        let mut quoted = String::new();
        quote_path(&mut quoted, &path);
        let decoded: Vec<u8> = percent_encoding::percent_decode_str(&quoted).collect();
        prop_assert_eq!(decoded, path);
    }

    /// `start_response` takes any status and headers without panicking, and
    /// a head it accepts never holds a byte that could split a response.
    #[test]
    fn a_head_accepted_by_start_response_cannot_split_a_response(
        status in "[ -~\\r\\n]{0,12}",
        headers in proptest::collection::vec(("[ -~]{0,12}", "[\\x00-\\x7f\\u{80}-\\u{10ffff}]{0,16}"), 0..5),
    ) {
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        if let Ok(head) = Head::parse(status.as_str(), pairs) {
            prop_assert!(!head.reason().contains(['\r', '\n']));
            for (name, value) in &head.headers {
                prop_assert!(!gateway_core::is_hop_by_hop(name));
                prop_assert!(value.as_bytes().iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f)));
            }
        }
    }

    /// Whatever an app passes to `start_response`, the client gets an
    /// answer: the app's head when valid, else a `500`.
    #[test]
    fn any_head_an_app_gives_is_answered(
        status in "[0-9]{3} [ -~]{0,8}|[ -~]{0,8}",
        name in "[ -~]{0,8}",
        value in "[\\x00-\\x7f]{0,8}",
    ) {
        let (s, n, v) = (status.clone(), name.clone(), value.clone());
        let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start(s.as_str(), [(n.as_str(), v.as_str())])?;
            Ok(Body::from("body"))
        };
        let response = Client::new(app).get("/").send();
        let valid = Head::parse(status.as_str(), [(name.as_str(), value.as_str())]).is_ok();
        if !valid {
            prop_assert_eq!(response.status.as_u16(), 500);
        }
    }
}
