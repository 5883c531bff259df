//! Gzip: the compressors alone, and the middleware through the Handler, on
//! the same 64 KiB HTML page as the demo's `/big`, at level 6.
//!
//! `cargo bench -p gateway-middleware --bench gzip -- --warm-up-time 1 --measurement-time 3`
//!
//! - `compressor/*`: libdeflate in one shot with a reused compressor (what
//!   the middleware does with a body known whole at levels 2 to 8, from its
//!   pool), flate2 on zlib-rs in one shot, reused or made per call, and
//!   streaming the page as four 16 KiB chunks, each flushed (what it does
//!   with a stream). This page is unusually repetitive (10:1): zlib-rs wins
//!   on it, and loses on real files (see `corpus`).
//! - `middleware/*`: `Handler::new().run(&Gzip::default().wrap(app), environ)`
//!   with `Accept-Encoding: gzip`, the body drained; `identity` is the same
//!   request without `Accept-Encoding` (the Handler and environ alone); the
//!   `stream_4x16k` pair is the page as four 16 KiB chunks, each flushed.
//! - `paired_overhead` prints the middleware against the compressor alone,
//!   run in alternation so that both see the same load on a shared machine.
//! - `corpus`, when `GZIP_CORPUS` names a file that lists files (one path a
//!   line), prints libdeflate against zlib-rs in one shot on those files at
//!   every level: the measurement that chose which compressor the one-shot
//!   path uses. `GZIP_CORPUS=/tmp/files cargo bench -p gateway-middleware
//!   --bench gzip -- corpus`.

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
    compress
        .compress_vec(&[], out, FlushCompress::Finish)
        .unwrap();
    out.len()
}

/// One gzip member of `input` with a reused compressor, as the middleware's
/// one-shot path does.
fn oneshot(compress: &mut Compress, input: &[u8], out: &mut Vec<u8>) -> usize {
    compress.reset();
    out.clear();
    out.reserve(input.len() + input.len() / 16 + 64);
    compress
        .compress_vec(input, out, FlushCompress::Finish)
        .unwrap();
    out.len()
}

/// One gzip member of `input` with a reused libdeflate compressor, as the
/// middleware's one-shot path does at levels 2 to 8.
fn libdeflate(compressor: &mut Compressor, input: &[u8], out: &mut Vec<u8>) -> usize {
    let bound = compressor.gzip_compress_bound(input.len());
    if out.len() < bound {
        out.resize(bound, 0);
    }
    compressor.gzip_compress(input, out).unwrap()
}

fn libdeflate_at(level: u32) -> Compressor {
    Compressor::new(CompressionLvl::new(level as i32).unwrap())
}

fn compressors(c: &mut Criterion) {
    let body = big_body();
    let mut group = c.benchmark_group("compressor");
    group.throughput(Throughput::Bytes(body.len() as u64));
    let mut vec = Vec::with_capacity(2 * body.len());
    let mut deflater = libdeflate_at(6);
    let mut deflate_out = Vec::new();
    group.bench_function("libdeflate_oneshot_l6_reused", |b| {
        b.iter(|| libdeflate(&mut deflater, black_box(&body), &mut deflate_out))
    });
    let whole = [body.clone()];
    group.bench_function("flate2_zlibrs_oneshot_l6_new_compressor", |b| {
        b.iter(|| flate2_stream(black_box(&whole), &mut vec, FlushCompress::None))
    });
    let mut one = Compress::new_gzip(Compression::new(6), 15);
    group.bench_function("flate2_zlibrs_oneshot_l6_reused", |b| {
        b.iter(|| oneshot(&mut one, black_box(&body), &mut vec))
    });
    let chunks: Vec<Bytes> = body.chunks(16 * 1024).map(Bytes::copy_from_slice).collect();
    group.bench_function("flate2_zlibrs_stream_4x16k_sync_l6", |b| {
        b.iter(|| flate2_stream(black_box(&chunks), &mut vec, FlushCompress::Sync))
    });
    let mut compress = Compress::new_gzip(Compression::new(6), 15);
    group.bench_function("flate2_zlibrs_stream_4x16k_sync_l6_reused", |b| {
        b.iter(|| {
            compress.reset();
            vec.clear();
            for chunk in &chunks {
                compress
                    .compress_vec(black_box(chunk), &mut vec, FlushCompress::Sync)
                    .unwrap();
            }
            compress
                .compress_vec(&[], &mut vec, FlushCompress::Finish)
                .unwrap();
            vec.len()
        })
    });
    group.finish();
}

fn run(app: &impl App, accept: Option<&'static str>) -> usize {
    let mut environ = Environ::new(http::Method::GET, http::Uri::from_static("/big"));
    if let Some(accept) = accept {
        environ
            .headers_mut()
            .insert(ACCEPT_ENCODING, HeaderValue::from_static(accept));
    }
    let response = Handler::new().run(app, environ);
    response.body.map(|chunk| chunk.unwrap().len()).sum()
}

fn middleware(c: &mut Criterion) {
    let body = big_body();
    let mut group = c.benchmark_group("middleware");
    group.throughput(Throughput::Bytes(body.len() as u64));
    let page = body.clone();
    let whole = Gzip::default().wrap(
        move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", [("Content-Type", "text/html; charset=utf-8")])?;
            Ok(Body::from(page.clone()))
        },
    );
    assert!(run(&whole, Some("gzip")) < body.len() / 3);
    group.bench_function("whole_l6", |b| b.iter(|| run(&whole, Some("gzip"))));
    group.bench_function("identity", |b| b.iter(|| run(&whole, None)));
    let chunks: Vec<Bytes> = body.chunks(16 * 1024).map(Bytes::copy_from_slice).collect();
    let stream = Gzip::default().wrap(
        move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", [("Content-Type", "text/html; charset=utf-8")])?;
            Ok(Body::iter(chunks.clone()))
        },
    );
    assert!(run(&stream, Some("gzip")) < body.len() / 3);
    group.bench_function("stream_4x16k_l6", |b| b.iter(|| run(&stream, Some("gzip"))));
    group.finish();
}

/// The middleware's own cost, measured where criterion cannot on a shared
/// machine: each iteration runs the compressor alone and the middleware back
/// to back, so both see the same load; medians of the pairs are printed.
fn paired_overhead(_: &mut Criterion) {
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let body = big_body();
    let mut one = libdeflate_at(6);
    let mut out = Vec::new();
    let page = body.clone();
    let whole = Gzip::default().wrap(
        move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", [("Content-Type", "text/html; charset=utf-8")])?;
            Ok(Body::from(page.clone()))
        },
    );
    let chunks: Vec<Bytes> = body.chunks(16 * 1024).map(Bytes::copy_from_slice).collect();
    let app_chunks = chunks.clone();
    let stream = Gzip::default().wrap(
        move |_: Environ, sr: StartResponse| -> Result<Body, Error> {
            sr.start("200 OK", [("Content-Type", "text/html; charset=utf-8")])?;
            Ok(Body::iter(app_chunks.clone()))
        },
    );
    let mut compress = Compress::new_gzip(Compression::new(6), 15);
    let mut vec = Vec::with_capacity(2 * body.len());
    let mut times: [Vec<f64>; 4] = Default::default();
    let time = |f: &mut dyn FnMut() -> usize| {
        let start = std::time::Instant::now();
        black_box(f());
        start.elapsed().as_secs_f64() * 1e6
    };
    for _ in 0..1000 {
        times[0].push(time(&mut || {
            libdeflate(&mut one, black_box(&body), &mut out)
        }));
        times[1].push(time(&mut || run(&whole, Some("gzip"))));
    }
    for _ in 0..1000 {
        times[2].push(time(&mut || {
            compress.reset();
            vec.clear();
            for chunk in &chunks {
                compress
                    .compress_vec(black_box(chunk), &mut vec, FlushCompress::Sync)
                    .unwrap();
            }
            compress
                .compress_vec(&[], &mut vec, FlushCompress::Finish)
                .unwrap();
            vec.len()
        }));
        times[3].push(time(&mut || run(&stream, Some("gzip"))));
    }
    let [a, b, c, d] = times.map(|mut t| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    });
    let pct = |x: f64, y: f64| (y / x - 1.0) * 100.0;
    println!(
        "paired medians of 1000 (µs): libdeflate one-shot alone {a:.1}, middleware whole {b:.1} ({:+.1}%)",
        pct(a, b)
    );
    println!(
        "paired medians of 1000 (µs): flate2 4x16k alone {c:.1}, middleware stream {d:.1} ({:+.1}%)",
        pct(c, d)
    );
}

/// libdeflate against zlib-rs in one shot, level by level, on the files
/// `GZIP_CORPUS` lists: totals of the fastest of several runs per file, and
/// on how many files libdeflate was the faster.
fn corpus(_: &mut Criterion) {
    let Ok(list) = std::env::var("GZIP_CORPUS") else {
        return;
    };
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let list = std::fs::read_to_string(&list).expect("GZIP_CORPUS: a file listing files");
    let files: Vec<Vec<u8>> = list
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|path| std::fs::read(path.trim()).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect();
    let total: usize = files.iter().map(Vec::len).sum();
    println!("{} files, {total} bytes", files.len());
    let best = |f: &mut dyn FnMut() -> usize, runs: usize| {
        (0..runs)
            .map(|_| {
                let start = std::time::Instant::now();
                let len = black_box(f());
                (start.elapsed().as_secs_f64(), len)
            })
            .fold((f64::MAX, 0), |(t, _), (u, len)| (t.min(u), len))
    };
    let mut out = Vec::new();
    for level in 1..=9 {
        let (mut zlib, mut deflate, mut faster) = ((0.0, 0), (0.0, 0), 0);
        let mut compress = Compress::new_gzip(Compression::new(level), 15);
        let mut deflater = libdeflate_at(level);
        for file in &files {
            let runs = (4_000_000 / file.len().max(1)).clamp(3, 100);
            let z = best(&mut || oneshot(&mut compress, file, &mut out), runs);
            let d = best(&mut || libdeflate(&mut deflater, file, &mut out), runs);
            faster += usize::from(d.0 < z.0);
            zlib = (zlib.0 + z.0, zlib.1 + z.1);
            deflate = (deflate.0 + d.0, deflate.1 + d.1);
        }
        println!(
            "level {level}: zlib-rs {:.1} ms {} B | libdeflate {:.1} ms {} B | libdeflate {:.2}x as fast, faster on {faster} of {}",
            zlib.0 * 1e3,
            zlib.1,
            deflate.0 * 1e3,
            deflate.1,
            zlib.0 / deflate.0,
            files.len()
        );
    }
}

criterion_group!(benches, compressors, middleware, paired_overhead, corpus);
criterion_main!(benches);
