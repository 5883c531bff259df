//! Unit tests of the head checks, on requests built in memory (the
//! socket tests are `tests/hostile_*.rs`).

use super::*;

fn req(method: &str, target: &str, headers: &[(&str, &str)]) -> http::Request<()> {
    let mut builder = http::Request::builder().method(method).uri(target);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap()
}

fn status(r: &http::Request<()>) -> Option<StatusCode> {
    check(r, &Limits::default()).err().map(|e| e.status)
}

#[test]
fn good_requests_pass() {
    let host = [("host", "a")];
    assert_eq!(status(&req("GET", "/x?y", &host)), None);
    assert_eq!(status(&req("OPTIONS", "*", &host)), None);
    assert_eq!(status(&req("CONNECT", "a:443", &[("host", "a:443")])), None);
    assert_eq!(status(&req("GET", "http://A:80/", &host)), None);
    let twice = [("host", "a"), ("content-type", "t"), ("content-type", "t")];
    assert_eq!(status(&req("POST", "/", &twice)), None);
}

#[test]
fn bad_targets_hosts_and_singletons_are_400() {
    let bad = StatusCode::BAD_REQUEST;
    let host = [("host", "a")];
    assert_eq!(status(&req("GET", "*", &host)), Some(bad));
    assert_eq!(status(&req("GET", "a:443", &host)), Some(bad));
    assert_eq!(status(&req("CONNECT", "/", &host)), Some(bad));
    assert_eq!(status(&req("GET", "/", &[])), Some(bad));
    assert_eq!(
        status(&req("GET", "/", &[("host", "a"), ("host", "a")])),
        Some(bad)
    );
    assert_eq!(status(&req("GET", "http://b/", &host)), Some(bad));
    let types = [("host", "a"), ("content-type", "t"), ("content-type", "u")];
    assert_eq!(status(&req("POST", "/", &types)), Some(bad));
}

#[test]
fn long_lines_and_many_fields_are_414_and_431() {
    let long = format!("/{}", "a".repeat(DEFAULT_MAX_REQUEST_LINE));
    assert_eq!(
        status(&req("GET", &long, &[("host", "a")])),
        Some(StatusCode::URI_TOO_LONG)
    );
    let value = "v".repeat(DEFAULT_MAX_HEADER_LINE);
    assert_eq!(
        status(&req("GET", "/", &[("host", "a"), ("x", &value)])),
        Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
    );
    let names: Vec<String> = (0..=DEFAULT_MAX_HEADERS)
        .map(|i| format!("x-{i}"))
        .collect();
    let many: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    assert_eq!(
        status(&req("GET", "/", &many)),
        Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
    );
}
