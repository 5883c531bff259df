//! Accept-Encoding negotiation, through the gzip middleware: any header
//! value gets a 200 whose body, decoded when gzip, is the page.
#![no_main]

use gateway_core::testing::Client;
use gateway_core::{Body, Environ, Error, Middleware, StartResponse};
use gateway_middleware::gzip::Gzip;
use libfuzzer_sys::fuzz_target;

fn page(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", [("Content-Type", "text/html")])?;
    Ok(Body::from(
        "<p>compress me, compress me, compress me</p>".repeat(40),
    ))
}

fuzz_target!(|value: &[u8]| {
    if http::HeaderValue::from_bytes(value).is_err() {
        return;
    }
    let value = String::from_utf8_lossy(value).into_owned();
    if http::HeaderValue::from_str(&value).is_err() {
        return;
    }
    let client = Client::new(Gzip::default().wrap(page));
    let response = client
        .get("/")
        .header("Accept-Encoding", value.as_str())
        .send();
    assert_eq!(response.status, 200);
    if response.header("content-encoding") != Some("gzip") {
        assert_eq!(response.body.len(), 44 * 40);
    }
});
