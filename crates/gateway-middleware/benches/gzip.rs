//! Gzip: the compressors alone, and the middleware through the Handler, on
//! the same 64 KiB HTML page as the demo's `/big`, at level 6.
//!
//! `cargo bench -p gateway-middleware --bench gzip -- --warm-up-time 1 --measurement-time 3`
//!
//! - `compressor/*`: libdeflate in one shot (what the middleware does with a
//!   body known whole) against flate2 on zlib-rs streaming it (what it does
//!   with a stream), both with a compressor made beforehand, and libdeflate
//!   with a compressor made per call (why the middleware keeps one per thread).
//! - `middleware/*`: `Handler::new().run(&Gzip::default().wrap(app), environ)`
//!   with `Accept-Encoding: gzip`, the body drained; `identity` is the same
//!   request without `Accept-Encoding` (the Handler and environ alone); the
//!   `stream_4x16k` pair is the page as four 16 KiB chunks, each flushed.

// `criterion_group!` makes an undocumented `pub fn`.
#![allow(missing_docs)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::{Compress, Compression, FlushCompress};
use gateway_core::{App, Body, Environ, Error, Handler, Middleware, StartResponse};
use gateway_middleware::gzip::Gzip;
use http::header::{ACCEPT_ENCODING, HeaderValue};
use libdeflater::{CompressionLvl, Compressor};

const BIG_LEN: usize = 64 * 1024;

/// The demo's `big_body()`: deterministic HTML, exactly 64 KiB.
fn big_body() -> Bytes {
    let mut html = String::from("<!doctype html>\n<html><head><title>big</title></head><body>\n");
    let mut i = 0u64;
    while html.len() < BIG_LEN - 32 {
        html.push_str(&format!(
            "<p id=\"p{i}\">Paragraph {i}: the quick brown fox jumps over the lazy dog {}.</p>\n",
            i * 7919 % 1000
        ));
        i += 1;
    }
    html.truncate(BIG_LEN - 15);
    html.push_str("\n</body></html>");
    while html.len() < BIG_LEN {
        html.push('\n');
    }
    Bytes::from(html)
}

fn flate2_stream(input: &[Bytes], out: &mut Vec<u8>, flush: FlushCompress) -> usize {
    let mut compress = Compress::new_gzip(Compression::new(6), 15);
    out.clear();
    for chunk in input {
        compress.compress_vec(chunk, out, flush).unwrap();
    }
    compress.compress_vec(&[], out, FlushCompress::Finish).unwrap();
    out.len()
}

fn compressors(c: &mut Criterion) {
    let body = big_body();
    let mut group = c.benchmark_group("compressor");
    group.throughput(Throughput::Bytes(body.len() as u64));
    let level = CompressionLvl::new(6).unwrap();
    let mut compressor = Compressor::new(level);
    let mut out = vec![0; compressor.gzip_compress_bound(body.len())];
    group.bench_function("libdeflate_oneshot_l6", |b| {
        b.iter(|| compressor.gzip_compress(black_box(&body), &mut out).unwrap())
    });
    group.bench_function("libdeflate_oneshot_l6_new_compressor", |b| {
        b.iter(|| Compressor::new(level).gzip_compress(black_box(&body), &mut out).unwrap())
    });
    let mut vec = Vec::with_capacity(2 * body.len());
    let whole = [body.clone()];
    group.bench_function("flate2_zlibrs_stream_l6", |b| {
        b.iter(|| flate2_stream(black_box(&whole), &mut vec, FlushCompress::None))
    });
    let chunks: Vec<Bytes> = body.chunks(16 * 1024).map(Bytes::copy_from_slice).collect();
    group.bench_function("flate2_zlibrs_stream_4x16k_sync_l6", |b| {
        b.iter(|| flate2_stream(black_box(&chunks), &mut vec, FlushCompress::Sync))
    });
    group.finish();
}

fn run(app: &impl App, accept: Option<&'static str>) -> usize {
    let mut environ = Environ::new(http::Method::GET, http::Uri::from_static("/big"));
    if let Some(accept) = accept {
        environ.headers_mut().insert(ACCEPT_ENCODING, HeaderValue::from_static(accept));
    }
    let response = Handler::new().run(app, environ);
    response.body.map(|chunk| chunk.unwrap().len()).sum()
}

fn middleware(c: &mut Criterion) {
    let body = big_body();
    let mut group = c.benchmark_group("middleware");
    group.throughput(Throughput::Bytes(body.len() as u64));
    let page = body.clone();
    let whole = Gzip::default().wrap(move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Type", "text/html; charset=utf-8")])?;
        Ok(Body::from(page.clone()))
    });
    assert!(run(&whole, Some("gzip")) < body.len() / 3);
    group.bench_function("whole_l6", |b| b.iter(|| run(&whole, Some("gzip"))));
    group.bench_function("identity", |b| b.iter(|| run(&whole, None)));
    let chunks: Vec<Bytes> = body.chunks(16 * 1024).map(Bytes::copy_from_slice).collect();
    let stream = Gzip::default().wrap(move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
        sr.start("200 OK", [("Content-Type", "text/html; charset=utf-8")])?;
        Ok(Body::iter(chunks.clone()))
    });
    assert!(run(&stream, Some("gzip")) < body.len() / 3);
    group.bench_function("stream_4x16k_l6", |b| b.iter(|| run(&stream, Some("gzip"))));
    group.finish();
}

criterion_group!(benches, compressors, middleware);
criterion_main!(benches);
