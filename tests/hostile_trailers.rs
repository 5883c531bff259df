//! Trailers never change the environ: a chunked request's trailer fields
//! (`Host`, `Content-Length`, `Transfer-Encoding`, anything else) arrive
//! after the head the environ was built from, and reach no variable, in
//! either dispatch mode.

mod common;

use std::io::Read;

use common::{MODES, raw, start, status_of};
use gateway::tower::AppService;
use gateway::{Body, Environ, Error, StartResponse};

/// Reads the whole body, then answers with what the environ says.
fn report(mut environ: Environ, sr: StartResponse) -> Result<Body, Error> {
    let mut body = String::new();
    environ.input().read_to_string(&mut body)?;
    let var = |name: &str| environ.get(name).map_or("-".to_owned(), |v| v.into_owned());
    let text = format!(
        "{}|{}|{}|{}|{}|{body}",
        var("HTTP_HOST"),
        var("SERVER_NAME"),
        var("CONTENT_LENGTH"),
        var("HTTP_TRANSFER_ENCODING"),
        var("HTTP_X_TRAILER"),
    );
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from(text))
}

#[tokio::test]
async fn trailers_never_reach_the_environ() {
    for mode in MODES {
        let server = start(AppService::new(report).dispatch(mode)).await;
        let answer = raw(
            server.addr,
            b"POST /t HTTP/1.1\r\nHost: good.example\r\nTransfer-Encoding: chunked\r\n\
              Trailer: Host, Content-Length, X-Trailer\r\nConnection: close\r\n\r\n\
              3\r\nabc\r\n0\r\nHost: evil.example\r\nContent-Length: 99\r\n\
              Transfer-Encoding: gzip\r\nX-Trailer: forged\r\n\r\n",
        )
        .await;
        let text = String::from_utf8_lossy(&answer);
        assert_eq!(status_of(&answer), Some(200), "{mode:?}: {text}");
        assert!(
            text.ends_with("good.example|good.example|-|chunked|-|abc"),
            "{mode:?}: {text}"
        );
        server.stop().await.unwrap();
    }
}
