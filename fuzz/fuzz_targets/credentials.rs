//! Basic and Bearer credential parsing, through the auth middleware: any
//! `Authorization` value is answered 200, 400 or 401, and only the right
//! credentials get in.
#![no_main]

use gateway_core::testing::Client;
use gateway_core::{Body, Environ, Error, Middleware, StartResponse};
use gateway_middleware::auth::{BasicAuth, BearerAuth, Credentials, StaticTokens};
use libfuzzer_sys::fuzz_target;

fn ok(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", ())?;
    Ok(Body::from("in"))
}

fuzz_target!(|value: String| {
    if http::HeaderValue::from_str(&value).is_err() {
        return;
    }
    let basic = BasicAuth::new("t", Credentials::new([("demo", "demo")]).unwrap()).unwrap();
    let status = Client::new(basic.wrap(ok))
        .get("/")
        .header("Authorization", value.as_str())
        .send()
        .status
        .as_u16();
    assert!(status == 200 || status == 401, "{status}");
    if status == 200 {
        assert!(
            value
                .get(..6)
                .is_some_and(|s| s.eq_ignore_ascii_case("basic "))
        );
        assert_eq!(value[6..].trim_start_matches(' '), "ZGVtbzpkZW1v");
    }
    let bearer = BearerAuth::new("api", StaticTokens::new([("s3cr3t", "robot")]).unwrap()).unwrap();
    let status = Client::new(bearer.wrap(ok))
        .get("/")
        .header("Authorization", value.as_str())
        .send()
        .status
        .as_u16();
    assert!(matches!(status, 200 | 400 | 401), "{status}");
    if status == 200 {
        assert_eq!(value[7..].trim_start_matches(' '), "s3cr3t");
    }
});
