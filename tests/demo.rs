//! The demo app of the examples, route by route, through the test client.

#[path = "../examples/demo/mod.rs"]
mod demo;

use demo::{BIG_LEN, app, big_body};
use gateway::core::testing::Client;

#[test]
fn routes() {
    let c = Client::new(app);
    let hello = c.get("/").send();
    assert_eq!(
        hello.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(hello.header("content-length"), Some("13"));
    let env: serde_json::Value =
        serde_json::from_slice(&c.get("/environ?a=b").send().body).unwrap();
    assert_eq!(env["QUERY_STRING"], "a=b");
    assert_eq!(env["wsgi.version"], serde_json::json!([1, 0]));
    let echo = c
        .post("/echo")
        .header("Content-Type", "text/x-demo")
        .body("ping")
        .send();
    assert_eq!(
        (echo.text().as_str(), echo.header("content-type")),
        ("ping", Some("text/x-demo"))
    );
    let big = c.get("/big").send();
    assert_eq!(big.body.len(), BIG_LEN);
    assert_eq!(big.body, big_body());
    assert_eq!(
        c.get("/write").send().text(),
        "written through write(), in order\n"
    );
    assert_eq!(c.get("/stream?chunks=4&size=3").send().chunks.len(), 4);
    assert_eq!(c.get("/stream?chunks=x").send().status, 400);
    assert_eq!(c.get("/private/me").send().text(), r#"{"user":null}"#);
    let wrong = c.post("/").send();
    assert_eq!(
        (wrong.status.as_u16(), wrong.header("allow")),
        (405, Some("GET, HEAD"))
    );
    let head = c.head("/big").send();
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some("65536"));
}
