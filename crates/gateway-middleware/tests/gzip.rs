//! The gzip middleware, request by request through the test client.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use flate2::write::GzDecoder;
use gateway_core::testing::{Client, TestResponse};
use gateway_core::{Body, Environ, Error, Head, Middleware, StartResponse};
use gateway_middleware::gzip::{Flush, Gzip};
use http::StatusCode;

const HTML: &str = "text/html; charset=utf-8";

/// Text that compresses, but not to nothing: `n` bytes, the same for the same `seed`.
fn text(n: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 64);
    let mut i = seed;
    while out.len() < n {
        writeln!(
            out,
            "<p id=\"p{i}\">the quick brown fox {} jumps over the lazy dog</p>",
            i * 7919 % 1000
        )
        .unwrap();
        i += 1;
    }
    out.truncate(n);
    out
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// An app answering `status` with `headers` and a whole body of `body`.
fn fixed(
    status: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
) -> impl Fn(Environ, StartResponse) -> Result<Body, Error> + Send + Sync + 'static {
    let body = Bytes::from(body);
    move |_, sr| {
        sr.start(status, headers.clone())?;
        Ok(Body::from(body.clone()))
    }
}

fn html_page() -> impl Fn(Environ, StartResponse) -> Result<Body, Error> + Send + Sync + 'static {
    fixed("200 OK", vec![("Content-Type", HTML)], text(4096, 0))
}

fn get(app: impl gateway_core::App, accept: Option<&str>) -> TestResponse {
    let client = Client::new(Gzip::default().wrap(app));
    let request = client.get("/");
    match accept {
        Some(a) => request.header("Accept-Encoding", a).send(),
        None => request.send(),
    }
}

fn is_gzip(response: &TestResponse) -> bool {
    response.header("content-encoding") == Some("gzip")
}

/// The `Vary` tokens, across every `Vary` field.
fn vary(response: &TestResponse) -> Vec<String> {
    response
        .headers
        .get_all("vary")
        .iter()
        .flat_map(|v| v.to_str().unwrap().split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect()
}

#[test]
fn negotiation_table() {
    let table: &[(&[&str], bool)] = &[
        (&[], false),
        (&[""], false),
        (&["gzip"], true),
        (&["GZIP"], true),
        (&["x-gzip"], true),
        (&["X-GZip"], true),
        (&["*"], true),
        (&["gzip;q=0.5"], true),
        (&["gzip; q=1.0"], true),
        (&["gzip;Q=0.3"], true),
        (&["gzip;q=0.001"], true),
        (&["deflate, gzip"], true),
        (&["br;q=1, gzip;q=0.8"], true),
        (&["identity;q=0, gzip"], true),
        (&["*;q=0.1"], true),
        (&["gzip;q=0.5, identity;q=0.5"], true),
        (&["deflate", "gzip"], true),
        (&[" gzip , deflate "], true),
        (&["gzip;", ", gzip"], true),
        (&["gzip;level=9"], true),
        (&["gzip;bad"], false),
        (&["identity"], false),
        (&["deflate"], false),
        (&["br"], false),
        (&["gzip;q=0"], false),
        (&["gzip;q=0.000"], false),
        (&["x-gzip;q=0"], false),
        (&["*;q=0"], false),
        (&["gzip;q=0, *"], false),
        (&["gzip;q=0.5, identity;q=0.8"], false),
        (&["gzip;q=0.5, *;q=1"], false),
        (&["gzip;q=2"], false),
        (&["gzip;q=abc"], false),
        (&["gzip;q=0.0001"], false),
        (&["gzipx"], false),
        (&["gzip2, x-gzip2"], false),
        (&["identity;q=0"], false),
        (&["identity;q=0, *;q=0"], false),
    ];
    let client = Client::new(Gzip::default().wrap(html_page()));
    for (values, want) in table {
        let mut request = client.get("/");
        for v in *values {
            request = request.header("Accept-Encoding", v);
        }
        let response = request.send();
        assert_eq!(is_gzip(&response), *want, "Accept-Encoding: {values:?}");
        assert_eq!(response.status, 200);
        assert_eq!(vary(&response), ["accept-encoding"], "{values:?}");
        let body = if *want {
            gunzip(&response.body)
        } else {
            response.body.to_vec()
        };
        assert_eq!(body, text(4096, 0), "{values:?}");
    }
}

#[test]
fn responses_that_are_never_compressed() {
    let big = || text(4096, 1);
    type Headers = Vec<(&'static str, &'static str)>;
    let cases: Vec<(&str, &'static str, Headers)> = vec![
        ("204", "204 No Content", vec![("Content-Type", HTML)]),
        (
            "206",
            "206 Partial Content",
            vec![
                ("Content-Type", HTML),
                ("Content-Range", "bytes 0-4095/9999"),
            ],
        ),
        (
            "Content-Range",
            "200 OK",
            vec![
                ("Content-Type", HTML),
                ("Content-Range", "bytes 0-4095/4096"),
            ],
        ),
        (
            "Content-Encoding",
            "200 OK",
            vec![("Content-Type", HTML), ("Content-Encoding", "br")],
        ),
        (
            "no-transform",
            "200 OK",
            vec![("Content-Type", HTML), ("Cache-Control", "no-transform")],
        ),
        (
            "No-Transform in a list",
            "200 OK",
            vec![
                ("Content-Type", HTML),
                ("Cache-Control", "public, No-Transform"),
            ],
        ),
        (
            "Content-Digest",
            "200 OK",
            vec![("Content-Type", HTML), ("Content-Digest", "sha-256=:AAAA:")],
        ),
        ("image/png", "200 OK", vec![("Content-Type", "image/png")]),
        ("image/jpeg", "200 OK", vec![("Content-Type", "image/jpeg")]),
        ("audio", "200 OK", vec![("Content-Type", "audio/mpeg")]),
        ("video", "200 OK", vec![("Content-Type", "video/mp4")]),
        ("zip", "200 OK", vec![("Content-Type", "application/zip")]),
        ("gzip", "200 OK", vec![("Content-Type", "application/gzip")]),
        (
            "7z",
            "200 OK",
            vec![("Content-Type", "application/x-7z-compressed")],
        ),
        (
            "rar",
            "200 OK",
            vec![("Content-Type", "application/vnd.rar")],
        ),
        (
            "bzip2",
            "200 OK",
            vec![("Content-Type", "application/x-bzip2")],
        ),
        ("xz", "200 OK", vec![("Content-Type", "application/x-xz")]),
        ("zstd", "200 OK", vec![("Content-Type", "application/zstd")]),
        ("woff2", "200 OK", vec![("Content-Type", "font/woff2")]),
        (
            "octet-stream",
            "200 OK",
            vec![("Content-Type", "application/octet-stream")],
        ),
        ("no Content-Type", "200 OK", vec![]),
    ];
    for (name, status, headers) in cases {
        let response = get(fixed(status, headers.clone(), big()), Some("gzip"));
        assert!(!is_gzip(&response) || name == "Content-Encoding", "{name}");
        assert_eq!(
            response.headers.get_all("content-encoding").iter().count(),
            usize::from(name == "Content-Encoding"),
            "{name}"
        );
        assert!(
            vary(&response).is_empty(),
            "{name}: no Vary, whatever the client takes"
        );
        if status != "204 No Content" {
            assert_eq!(response.body.as_ref(), big().as_slice(), "{name}");
        }
    }
    // And the same types compress when they may.
    let svg = get(
        fixed("200 OK", vec![("Content-Type", "image/svg+xml")], big()),
        Some("gzip"),
    );
    assert!(is_gzip(&svg));
    let no_store = get(
        fixed(
            "200 OK",
            vec![("Content-Type", HTML), ("Cache-Control", "no-store")],
            big(),
        ),
        Some("gzip"),
    );
    assert!(is_gzip(&no_store));
}

#[test]
fn head_gets_the_header_fields_of_get() {
    let client = Client::new(Gzip::default().wrap(html_page()));
    let get = client.get("/").header("Accept-Encoding", "gzip").send();
    let head = client.head("/").header("Accept-Encoding", "gzip").send();
    assert_eq!(head.status, 200);
    assert!(is_gzip(&get) && is_gzip(&head));
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    assert!(head.body.is_empty());
    assert_eq!(vary(&head), ["accept-encoding"]);

    // A stream: gzip, and no length, as its GET (which is chunked).
    let stream = || {
        Gzip::default().wrap(|_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", [("Content-Type", HTML)])?;
            Ok(Body::iter((0..4).map(|_| text(2048, 0))))
        })
    };
    let get = Client::new(stream())
        .get("/")
        .header("Accept-Encoding", "gzip")
        .send();
    let head = Client::new(stream())
        .head("/")
        .header("Accept-Encoding", "gzip")
        .send();
    assert!(is_gzip(&get) && is_gzip(&head));
    assert_eq!(get.header("content-length"), None);
    assert_eq!(head.header("content-length"), None);
    assert!(head.body.is_empty());
}

#[test]
fn informational_status_is_left_alone() {
    let response = get(
        fixed(
            "103 Early Hints",
            vec![("Content-Type", HTML)],
            text(4096, 0),
        ),
        Some("gzip"),
    );
    assert_eq!(response.status, 103);
    assert!(!is_gzip(&response));
    assert!(vary(&response).is_empty());
}

#[test]
fn not_modified_carries_the_gzip_validators() {
    let app = || {
        fixed(
            "304 Not Modified",
            vec![("Content-Type", HTML), ("ETag", "\"v1\"")],
            vec![],
        )
    };
    let gzip = get(app(), Some("gzip"));
    assert_eq!(gzip.status, 304);
    assert!(!is_gzip(&gzip) && gzip.body.is_empty());
    assert_eq!(gzip.header("etag"), Some("W/\"v1\""));
    assert_eq!(vary(&gzip), ["accept-encoding"]);
    let identity = get(app(), None);
    assert_eq!(identity.header("etag"), Some("\"v1\""));
    assert_eq!(vary(&identity), ["accept-encoding"]);
}

#[test]
fn minimum_size() {
    let page = |n| fixed("200 OK", vec![("Content-Type", HTML)], text(n, 2));
    assert!(!is_gzip(&get(page(1023), Some("gzip"))));
    assert!(vary(&get(page(1023), Some("gzip"))).is_empty());
    assert!(is_gzip(&get(page(1024), Some("gzip"))));
    let client = Client::new(Gzip::new().min_size(100).wrap(page(200)));
    assert!(is_gzip(
        &client.get("/").header("Accept-Encoding", "gzip").send()
    ));
    let client = Client::new(Gzip::new().min_size(0).wrap(page(0)));
    let empty = client.get("/").header("Accept-Encoding", "gzip").send();
    assert!(
        !is_gzip(&empty) && empty.body.is_empty(),
        "an empty body is never gzip"
    );
    // A streamed body with a small declared length is left alone too.
    let declared = |sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Type", HTML), ("Content-Length", "10")])?;
        Ok(Body::iter(["01234", "56789"]))
    };
    let small = get(move |_: Environ, sr| declared(sr), Some("gzip"));
    assert!(!is_gzip(&small));
    assert_eq!(small.text(), "0123456789");
}

#[test]
fn custom_predicate_replaces_the_content_type_rules() {
    let only_json = Gzip::new().predicate(|head: &Head| {
        head.headers
            .get("content-type")
            .is_some_and(|v| v == "application/json")
    });
    let json = fixed(
        "200 OK",
        vec![("Content-Type", "application/json")],
        text(4096, 3),
    );
    let html = fixed("200 OK", vec![("Content-Type", HTML)], text(4096, 3));
    let png = fixed("200 OK", vec![("Content-Type", "image/png")], text(4096, 3));
    let send = |app| {
        Client::new(app)
            .get("/")
            .header("Accept-Encoding", "gzip")
            .send()
    };
    assert!(is_gzip(&send(only_json.clone().wrap(json))));
    assert!(!is_gzip(&send(only_json.clone().wrap(html))));
    let everything = Gzip::new().predicate(|_: &Head| true);
    assert!(is_gzip(&send(everything.clone().wrap(png))));
    // The fixed rules still hold.
    let ranged = fixed(
        "206 Partial Content",
        vec![("Content-Range", "bytes 0-4095/9000")],
        text(4096, 3),
    );
    assert!(!is_gzip(&send(everything.wrap(ranged))));
}

#[test]
fn vary_exactly_once() {
    let with = |vary_value: &'static str| {
        fixed(
            "200 OK",
            vec![("Content-Type", HTML), ("Vary", vary_value)],
            text(4096, 4),
        )
    };
    for accept in [Some("gzip"), None] {
        let already = get(with("Accept-Encoding"), accept);
        assert_eq!(vary(&already), ["accept-encoding"], "{accept:?}");
        let lower = get(with("origin, accept-encoding"), accept);
        assert_eq!(vary(&lower), ["origin", "accept-encoding"], "{accept:?}");
        let cookie = get(with("Cookie"), accept);
        assert_eq!(vary(&cookie), ["cookie", "accept-encoding"], "{accept:?}");
        let star = get(with("*"), accept);
        assert_eq!(vary(&star), ["*"], "{accept:?}");
    }
}

#[test]
fn strong_etag_becomes_weak_and_weak_stays() {
    let tagged = |etag: &'static str| {
        fixed(
            "200 OK",
            vec![("Content-Type", HTML), ("ETag", etag)],
            text(4096, 5),
        )
    };
    let strong = get(tagged("\"abc\""), Some("gzip"));
    assert!(is_gzip(&strong));
    assert_eq!(strong.header("etag"), Some("W/\"abc\""));
    let weak = get(tagged("W/\"abc\""), Some("gzip"));
    assert_eq!(weak.header("etag"), Some("W/\"abc\""));
    let identity = get(tagged("\"abc\""), Some("identity"));
    assert_eq!(
        identity.header("etag"),
        Some("\"abc\""),
        "the identity bytes keep their strong tag"
    );
}

#[test]
fn accept_ranges_is_dropped_when_compressing() {
    let app = || {
        fixed(
            "200 OK",
            vec![("Content-Type", HTML), ("Accept-Ranges", "bytes")],
            text(4096, 5),
        )
    };
    assert_eq!(get(app(), Some("gzip")).header("accept-ranges"), None);
    assert_eq!(get(app(), None).header("accept-ranges"), Some("bytes"));
}

#[test]
fn whole_body_gets_the_compressed_length() {
    let body = text(50_000, 6);
    // The app's Content-Length is replaced with the compressed one...
    let declared = get(
        fixed(
            "200 OK",
            vec![("Content-Type", HTML), ("Content-Length", "50000")],
            body.clone(),
        ),
        Some("gzip"),
    );
    assert!(is_gzip(&declared));
    assert!(declared.aborted.is_none());
    assert!(declared.body.len() < 50_000 / 2);
    assert_eq!(
        declared.header("content-length"),
        Some(declared.body.len().to_string().as_str())
    );
    assert_eq!(gunzip(&declared.body), body);
    // ...and without one, the response is framed with the compressed length.
    let client = Client::new(Gzip::default().wrap(fixed(
        "200 OK",
        vec![("Content-Type", HTML)],
        body.clone(),
    )));
    let response = client.get("/").header("Accept-Encoding", "gzip").run();
    assert_eq!(
        response.head.headers.get("content-encoding").unwrap(),
        "gzip"
    );
    let framed = response.body.content_length();
    let sent: Vec<u8> = response.body.flat_map(Result::unwrap).collect();
    assert_eq!(framed, Some(sent.len() as u64));
    assert_eq!(gunzip(&sent), body);
}

/// Chunks of text, counting how many were produced.
fn counted_chunks(
    n: usize,
    size: usize,
    produced: Arc<AtomicUsize>,
) -> impl Iterator<Item = Bytes> + Send + 'static {
    (0..n).map(move |i| {
        produced.fetch_add(1, Ordering::SeqCst);
        Bytes::from(text(size, i as u64 * 1000))
    })
}

#[test]
fn streamed_body_loses_its_length_and_decodes() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start(
            "200 OK",
            [("Content-Type", HTML), ("Content-Length", "30000")],
        )?;
        Ok(Body::iter(counted_chunks(3, 10_000, Arc::default())).with_len(30_000))
    };
    let client = Client::new(Gzip::default().wrap(app));
    let response = client.get("/").header("Accept-Encoding", "gzip").run();
    assert!(response.head.headers.get("content-length").is_none());
    assert_eq!(response.body.content_length(), None);
    let sent: Vec<u8> = response.body.flat_map(Result::unwrap).collect();
    let want: Vec<u8> = counted_chunks(3, 10_000, Arc::default())
        .flatten()
        .collect();
    assert_eq!(gunzip(&sent), want);
}

/// Pull the response one chunk at a time, decoding as it comes; returns, for
/// each chunk pulled, (chunks the app had produced, bytes decoded so far).
fn pull_and_decode(gzip: Gzip, n: usize, size: usize) -> Vec<(usize, Vec<u8>)> {
    let produced = Arc::new(AtomicUsize::new(0));
    let counter = produced.clone();
    let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Type", "text/event-stream")])?;
        Ok(Body::iter(counted_chunks(n, size, counter.clone())))
    };
    let client = Client::new(gzip.wrap(app));
    let response = client
        .get("/events")
        .header("Accept-Encoding", "gzip")
        .run();
    assert_eq!(
        response.head.headers.get("content-encoding").unwrap(),
        "gzip"
    );
    let mut decoder = GzDecoder::new(Vec::new());
    let mut seen = Vec::new();
    for chunk in response.body.take(n + 2) {
        decoder.write_all(&chunk.unwrap()).unwrap();
        decoder.flush().unwrap();
        seen.push((produced.load(Ordering::SeqCst), decoder.get_ref().clone()));
    }
    seen
}

#[test]
fn each_chunk_is_decodable_while_the_app_is_still_producing() {
    let (n, size) = (8, 3000);
    let seen = pull_and_decode(Gzip::default(), n, size);
    assert_eq!(
        seen.len(),
        n + 1,
        "one chunk per app chunk, then the trailer"
    );
    let mut want = Vec::new();
    for (k, (produced, decoded)) in seen.iter().take(n).enumerate() {
        want.extend_from_slice(&text(size, k as u64 * 1000));
        assert_eq!(
            *produced,
            k + 1,
            "chunk {k} came out before the app made the next"
        );
        assert_eq!(
            *decoded,
            want,
            "after chunk {k}, exactly the first {} chunks decode",
            k + 1
        );
    }
    assert_eq!(seen[n].1, want);
}

#[test]
fn flush_never_holds_data_back() {
    let (n, size) = (8, 300);
    let seen = pull_and_decode(Gzip::new().flush(Flush::Never), n, size);
    let all: Vec<u8> = (0..n).flat_map(|k| text(size, k as u64 * 1000)).collect();
    let (last_produced, last_decoded) = seen.last().unwrap();
    assert_eq!(*last_produced, n);
    assert_eq!(*last_decoded, all);
    for (produced, decoded) in &seen[..seen.len() - 1] {
        assert!(
            decoded.is_empty(),
            "nothing decodable before the end (app at chunk {produced})"
        );
    }
}

#[test]
fn write_data_and_body_are_compressed_in_order() {
    let app = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        let write = sr.start("200 OK", [("Content-Type", "text/plain")])?;
        write.write("written first, ")?;
        write.write("written second, ")?;
        Ok(Body::iter(["body one, ", "body two"]))
    };
    let response = get(app, Some("gzip"));
    assert!(is_gzip(&response));
    assert_eq!(
        gunzip(&response.body),
        b"written first, written second, body one, body two"
    );
    // write() only, as the demo's /write.
    let only_write = |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        let write = sr.start("200 OK", [("Content-Type", "text/plain")])?;
        write.write("through write(), ")?;
        write.write("in order\n")?;
        Ok(Body::empty())
    };
    let response = get(only_write, Some("gzip"));
    assert!(is_gzip(&response));
    assert_eq!(gunzip(&response.body), b"through write(), in order\n");
}

/// A chunk that counts the chunks alive at once.
struct Tracked {
    data: Vec<u8>,
    alive: Arc<AtomicUsize>,
}

impl AsRef<[u8]> for Tracked {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn a_large_stream_is_compressed_in_bounded_memory() {
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 1024; // 64 MiB
    let alive = Arc::new(AtomicUsize::new(0));
    let most_alive = Arc::new(AtomicUsize::new(0));
    let block = Arc::new(text(CHUNK, 7));
    let (a, m, b) = (alive.clone(), most_alive.clone(), block.clone());
    let app = move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Type", "text/plain")])?;
        let (a, m, b) = (a.clone(), m.clone(), b.clone());
        Ok(Body::iter((0..CHUNKS).map(move |i| {
            let mut data = b.as_ref().clone();
            data[..8].copy_from_slice(&(i as u64).to_le_bytes());
            let now = a.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            Bytes::from_owner(Tracked {
                data,
                alive: a.clone(),
            })
        })))
    };
    let client = Client::new(Gzip::new().level(1).unwrap().wrap(app));
    let response = client.get("/").header("Accept-Encoding", "gzip").run();
    let mut decoder = GzDecoder::new(Counter::default());
    let mut largest = 0;
    for chunk in response.body {
        let chunk = chunk.unwrap();
        largest = largest.max(chunk.len());
        decoder.write_all(&chunk).unwrap();
    }
    let decoded = decoder.finish().unwrap();
    assert_eq!(decoded.bytes, (CHUNK * CHUNKS) as u64);
    assert_eq!(
        decoded.chunk_marks, CHUNKS as u64,
        "every chunk arrived once, in order"
    );
    assert!(
        largest <= CHUNK + 1024,
        "an output chunk of {largest} bytes"
    );
    assert!(
        most_alive.load(Ordering::SeqCst) <= 2,
        "the app's chunks were held, not streamed"
    );
    assert_eq!(alive.load(Ordering::SeqCst), 0);
}

/// Counts the bytes decoded, and checks each chunk's 8-byte index in order.
#[derive(Default)]
struct Counter {
    bytes: u64,
    chunk_marks: u64,
    pending: Vec<u8>,
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let at = (self.bytes % (64 * 1024)) as usize;
            let take = if at < 8 { 8 - at } else { 64 * 1024 - at }.min(rest.len());
            if at < 8 {
                self.pending.extend_from_slice(&rest[..take]);
                if self.pending.len() == 8 {
                    let mark = u64::from_le_bytes(self.pending[..].try_into().unwrap());
                    assert_eq!(mark, self.chunk_marks, "chunks out of order");
                    self.chunk_marks += 1;
                    self.pending.clear();
                }
            }
            self.bytes += take as u64;
            rest = &rest[take..];
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn level_is_checked_and_used() {
    assert_eq!(Gzip::new().level(10).unwrap_err().level(), 10);
    assert!(
        Gzip::new()
            .level(u32::MAX)
            .unwrap_err()
            .to_string()
            .contains("0 (stored) to 9")
    );
    let body = text(100_000, 8);
    let size = |level| {
        let gzip = Gzip::new().level(level).unwrap();
        let response = get(
            gzip.wrap(fixed("200 OK", vec![("Content-Type", HTML)], body.clone())),
            Some("gzip"),
        );
        assert_eq!(gunzip(&response.body), body);
        response.body.len()
    };
    let (stored, fast, best) = (size(0), size(1), size(9));
    assert!(stored > body.len(), "level 0 stores");
    assert!(
        best < fast,
        "level 9 ({best}) is smaller than level 1 ({fast})"
    );
}

#[test]
fn everything_is_debug() {
    let gzip = Gzip::new()
        .min_size(5)
        .flush(Flush::Never)
        .predicate(|_: &Head| true)
        .decompress_requests(9);
    let text = format!("{gzip:?}");
    for part in ["level: 6", "min_size: 5", "Never", "custom", "Some(9)"] {
        assert!(text.contains(part), "{text}");
    }
    assert!(format!("{:?}", gzip.wrap(html_page())).contains("GzipApp"));
}

// ----- request decompression -----

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// Echoes the request body with what the app saw of its headers.
fn echo(mut environ: Environ, sr: StartResponse) -> Result<Body, Error> {
    let mut body = Vec::new();
    environ.input().read_to_end(&mut body)?;
    let encoding = environ
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    let length = environ.get("CONTENT_LENGTH").map(|v| v.into_owned());
    sr.start(
        "200 OK",
        [
            ("Content-Type", "application/octet-stream".to_owned()),
            ("X-Encoding", encoding.unwrap_or_else(|| "-".into())),
            ("X-Length", length.unwrap_or_else(|| "-".into())),
        ],
    )?;
    Ok(Body::from(body))
}

#[test]
fn gzip_request_bodies_are_inflated() {
    let data = text(100_000, 9);
    let client = Client::new(Gzip::new().decompress_requests(1 << 20).wrap(echo));
    for coding in ["gzip", "x-gzip", "GZip"] {
        let response = client
            .post("/")
            .header("Content-Encoding", coding)
            .body(gzip_bytes(&data))
            .send();
        assert_eq!(response.status, 200, "{coding}");
        assert_eq!(response.body.as_ref(), data.as_slice(), "{coding}");
        assert_eq!(response.header("x-encoding"), Some("-"));
        assert_eq!(response.header("x-length"), Some("-"));
    }
    // Two gzip members back to back are one body.
    let mut two = gzip_bytes(b"first ");
    two.extend(gzip_bytes(b"second"));
    let response = client
        .post("/")
        .header("Content-Encoding", "gzip")
        .body(two)
        .chunked()
        .send();
    assert_eq!(response.text(), "first second");
}

#[test]
fn inflating_past_the_limit_is_413() {
    let limit = 64 * 1024;
    let client = Client::new(Gzip::new().decompress_requests(limit).wrap(echo));
    // A bomb: 16 MiB of zeros in about 16 KiB.
    let bomb = gzip_bytes(&vec![0; 16 << 20]);
    assert!(bomb.len() < 64 * 1024);
    let response = client
        .post("/")
        .header("Content-Encoding", "gzip")
        .body(bomb)
        .send();
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(response.text().contains(&limit.to_string()));
    assert_eq!(
        response.header("content-length"),
        Some(response.body.len().to_string().as_str())
    );
    // Exactly the limit is fine; one byte more is not.
    let at = client
        .post("/")
        .header("Content-Encoding", "gzip")
        .body(gzip_bytes(&text(limit as usize, 1)))
        .send();
    assert_eq!(at.status, 200);
    assert_eq!(at.body.len() as u64, limit);
    let over = client
        .post("/")
        .header("Content-Encoding", "gzip")
        .body(gzip_bytes(&text(limit as usize + 1, 1)))
        .send();
    assert_eq!(over.status, 413);
}

#[test]
fn the_limit_error_is_typed_and_an_apps_own_4xx_stands() {
    let app = |mut environ: Environ, sr: StartResponse| -> Result<Body, Error> {
        let mut body = Vec::new();
        let err = environ.input().read_to_end(&mut body).unwrap_err();
        let inner = err.get_ref().and_then(|e| e.downcast_ref::<Error>());
        assert!(
            matches!(inner, Some(Error::PayloadTooLarge { limit: 10 })),
            "{err:?}"
        );
        sr.start(
            "422 Unprocessable Content",
            [("Content-Type", "text/plain")],
        )?;
        Ok(Body::from("mine"))
    };
    let client = Client::new(Gzip::new().decompress_requests(10).wrap(app));
    let response = client
        .post("/")
        .header("Content-Encoding", "gzip")
        .body(gzip_bytes(&[b'x'; 100]))
        .send();
    assert_eq!(response.status, 422);
    assert_eq!(response.text(), "mine");
}

#[test]
fn a_corrupt_gzip_request_is_400() {
    let client = Client::new(Gzip::new().decompress_requests(1 << 20).wrap(echo));
    let response = client
        .post("/")
        .header("Content-Encoding", "gzip")
        .body("this is not gzip")
        .send();
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    let mut truncated = gzip_bytes(&text(10_000, 2));
    truncated.truncate(truncated.len() / 2);
    let response = client
        .post("/")
        .header("Content-Encoding", "gzip")
        .body(truncated)
        .send();
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
}

#[test]
fn other_request_codings_and_the_default_pass_through() {
    let raw = gzip_bytes(b"still compressed");
    let on = Client::new(Gzip::new().decompress_requests(1 << 20).wrap(echo));
    for coding in ["br", "gzip, br", "deflate"] {
        let response = on
            .post("/")
            .header("Content-Encoding", coding)
            .body(raw.clone())
            .send();
        assert_eq!(response.status, 200);
        assert_eq!(response.body.as_ref(), raw.as_slice(), "{coding}");
        assert_eq!(response.header("x-encoding"), Some(coding));
        assert_eq!(
            response.header("x-length"),
            Some(raw.len().to_string().as_str())
        );
    }
    let off = Client::new(Gzip::new().wrap(echo));
    let response = off
        .post("/")
        .header("Content-Encoding", "gzip")
        .body(raw.clone())
        .send();
    assert_eq!(response.body.as_ref(), raw.as_slice());
    assert_eq!(response.header("x-encoding"), Some("gzip"));
}

#[test]
fn skipped_requests_and_no_transform_responses_are_never_compressed() {
    // BREACH: a route whose pages carry a secret is left alone.
    let gzip =
        Gzip::default().skip_requests(|environ| environ.path_info().starts_with(b"/account/"));
    let client = Client::new(gzip.wrap(html_page()));
    let account = client
        .get("/account/settings")
        .header("Accept-Encoding", "gzip")
        .send();
    assert!(!is_gzip(&account));
    assert_eq!(account.header("content-length"), Some("4096"));
    let other = client.get("/news").header("Accept-Encoding", "gzip").send();
    assert!(is_gzip(&other));

    // One response opts out by itself.
    let secret = fixed(
        "200 OK",
        vec![
            ("Content-Type", HTML),
            ("Cache-Control", "private, no-transform"),
        ],
        text(4096, 0),
    );
    assert!(!is_gzip(&get(secret, Some("gzip"))));
}
