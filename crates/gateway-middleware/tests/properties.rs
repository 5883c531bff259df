//! Properties of what the middleware parse from a client or a user: for any
//! `Accept-Encoding`, `Authorization` or access-log format, nothing panics,
//! and what gets through keeps the rules.

mod common;

use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flate2::read::GzDecoder;
use gateway_core::testing::Client;
use gateway_core::{Body, Environ, Error, Middleware, StartResponse};
use gateway_middleware::access_log::{AccessLog, Format};
use gateway_middleware::auth::{BasicAuth, BearerAuth, Credentials, StaticTokens};
use gateway_middleware::gzip::Gzip;
use proptest::prelude::*;

use common::Lines;

const PAGE: &str = "<p>a page that is well worth compressing, said twice. </p>";

fn page(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", [("Content-Type", "text/html")])?;
    Ok(Body::from(PAGE.repeat(64)))
}

/// Header values a client could send: tokens, q-values, junk.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "((gzip|x-gzip|identity|br|\\*|GZIP)(;q=[0-9.]{0,5})?(, ?)?){0,4}",
        "[\\t -~]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any `Accept-Encoding`: an answer, and a gzip answer decodes to the page.
    #[test]
    fn any_accept_encoding_gets_a_correct_answer(value in header_value()) {
        let client = Client::new(Gzip::default().wrap(page));
        let response = client.get("/").header("Accept-Encoding", value.as_str()).send();
        prop_assert_eq!(response.status.as_u16(), 200);
        let body = if response.header("content-encoding") == Some("gzip") {
            let mut out = String::new();
            GzDecoder::new(&response.body[..]).read_to_string(&mut out).unwrap();
            out
        } else {
            response.text()
        };
        prop_assert_eq!(body, PAGE.repeat(64));
    }

    /// Any `Authorization`: only the right Basic pair gets in.
    #[test]
    fn only_the_right_basic_credentials_get_in(
        scheme in "(Basic|basic|BASIC|Bearer|[A-Za-z]{0,6})",
        sep in "( |  |\\t|)",
        creds in prop_oneof![
            "[ -~]{0,12}".prop_map(|s| STANDARD.encode(s)),
            "[ -~]{0,16}",
            Just(STANDARD.encode("demo:demo")),
        ],
    ) {
        let auth = BasicAuth::new("t", Credentials::new([("demo", "demo")]).unwrap()).unwrap();
        let client = Client::new(auth.wrap(page));
        let value = format!("{scheme}{sep}{creds}");
        let response = client.get("/").header("Authorization", value.as_str()).send();
        // RFC 9110 §11.4: the scheme, one or more spaces, the token68.
        let right = scheme.eq_ignore_ascii_case("basic")
            && !sep.is_empty()
            && sep.bytes().all(|b| b == b' ')
            && creds == STANDARD.encode("demo:demo");
        prop_assert_eq!(response.status.as_u16(), if right { 200 } else { 401 }, "{:?}", value);
    }

    /// Any `Authorization`: only the right Bearer token gets in; a malformed
    /// header is a 400, never a 500.
    #[test]
    fn only_the_right_bearer_token_gets_in(value in "(Bearer|bearer)? ?[ -~]{0,20}") {
        let tokens = StaticTokens::new([("s3cr3t-T0ken", "robot")]).unwrap();
        let client = Client::new(BearerAuth::new("api", tokens).unwrap().wrap(page));
        let response = client.get("/").header("Authorization", value.as_str()).send();
        let status = response.status.as_u16();
        prop_assert!(matches!(status, 200 | 400 | 401), "{status} for {value:?}");
        if status == 200 {
            prop_assert!(value.to_ascii_lowercase().starts_with("bearer "));
            prop_assert_eq!(value[7..].trim(), "s3cr3t-T0ken");
        }
    }

    /// Any format string: parsed or refused, never a panic; a log with a
    /// parsed one writes one whole line per request, whatever the request.
    #[test]
    fn any_format_parses_or_is_refused_and_logs_one_line(
        spec in "([ -~]|%[a-zA-Z>{}]|\\{[a-z_.]{0,12}\\}){0,12}",
        path in "/[ -~\\u{80}-\\u{ff}]{0,12}",
    ) {
        if let Ok(format) = Format::parse(&spec) {
            let lines = Lines::default();
            let log = AccessLog::new().format(format).to_writer(lines.clone());
            let client = Client::new(log.wrap(page));
            let mut encoded = String::new();
            gateway_core::quote_path(&mut encoded, path.as_bytes());
            client.get(&encoded).header("User-Agent", "a\"b c\\d").send();
            let text = lines.text();
            prop_assert!(text.ends_with('\n'), "{:?}", text);
            prop_assert_eq!(text.matches('\n').count(), 1, "{:?}", text);
        }
    }
}
