//! The gzip encoder: flate2 on zlib-rs, streaming for bodies that come in
//! chunks; a body known whole is compressed in one shot, by libdeflate at
//! levels 2 to 8 (1.1x to 2x faster than zlib-rs there on every file of a
//! corpus of real HTML, CSS, JS and JSON, for output as small) and by zlib-rs
//! at levels 0, 1 and 9, where libdeflate is slower. Compressors are pooled,
//! since a new one costs hundreds of KiB of fresh memory. The measurements
//! are in docs/benchmarks.md ("Which compressor").

use std::cell::RefCell;
use std::fmt;
use std::ops::RangeInclusive;
use std::sync::Mutex;

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress, Status};
use gateway_core::Error;
use libdeflater::{CompressionLvl, Compressor};

use super::Flush;

/// The window of the streaming encoder: 32 KiB, as gzip's own.
const WINDOW_BITS: u8 = 15;

/// A one-shot scratch buffer larger than this is not kept between requests.
const KEEP_SCRATCH: usize = 1 << 20;

/// Idle compressors at most kept for the next responses, of each kind.
const MAX_IDLE: usize = 16;

/// The levels at which libdeflate compresses a whole body: where it is
/// faster than zlib-rs at the same ratio. At level 1 zlib-rs is faster (and
/// compresses less); at 9 libdeflate can be 5x slower on repetitive pages.
const LIBDEFLATE_LEVELS: RangeInclusive<u32> = 2..=8;

/// Streaming compressors whose response is over, reset, by level. A new one
/// is about 300 KiB of fresh memory, which the allocator hands back to the
/// system when it is freed: made per response, its page faults cost 10-20%
/// of compressing a 64 KiB page.
static IDLE: Mutex<Vec<(u32, Compress)>> = Mutex::new(Vec::new());

/// Idle libdeflate compressors, by level (they are reset by design: each
/// call compresses one whole buffer).
static IDLE_WHOLE: Mutex<Vec<(u32, Compressor)>> = Mutex::new(Vec::new());

/// An idle compressor of `level` from `pool`, if one is kept.
fn take_idle<T>(pool: &Mutex<Vec<(u32, T)>>, level: u32) -> Option<T> {
    let mut idle = pool.lock().ok()?;
    let at = idle.iter().rposition(|(l, _)| *l == level)?;
    Some(idle.swap_remove(at).1)
}

/// Keep a compressor of `level` in `pool` for the next response (while it
/// holds fewer than [`MAX_IDLE`]).
fn keep_idle<T>(pool: &Mutex<Vec<(u32, T)>>, level: u32, compressor: T) {
    if let Ok(mut idle) = pool.lock() {
        if idle.len() < MAX_IDLE {
            idle.push((level, compressor));
        }
    }
}

/// A gzip stream being written: each chunk in, its compressed bytes out.
/// Holds the compressor's state (about 300 KiB) and a scratch buffer the
/// size of the largest chunk, never the body.
pub(crate) struct Encoder {
    level: u32,
    /// `None` only once dropped.
    compress: Option<Compress>,
    flush: FlushCompress,
    scratch: Vec<u8>,
}

impl Encoder {
    pub(crate) fn new(level: u32, flush: Flush) -> Self {
        let flush = match flush {
            Flush::EveryChunk => FlushCompress::Sync,
            Flush::Never => FlushCompress::None,
        };
        let idle = take_idle(&IDLE, level);
        let compress =
            idle.unwrap_or_else(|| Compress::new_gzip(Compression::new(level), WINDOW_BITS));
        Encoder {
            level,
            compress: Some(compress),
            flush,
            scratch: Vec::new(),
        }
    }

    /// Compress one chunk; with [`Flush::EveryChunk`] all of it comes out now.
    pub(crate) fn data(&mut self, chunk: &[u8]) -> Result<Bytes, Error> {
        self.run(chunk, self.flush)
    }

    /// The end of the body: what is left, and the gzip trailer.
    pub(crate) fn finish(&mut self) -> Result<Bytes, Error> {
        self.run(&[], FlushCompress::Finish)
    }

    fn run(&mut self, input: &[u8], flush: FlushCompress) -> Result<Bytes, Error> {
        let Some(compress) = self.compress.as_mut() else {
            return Ok(Bytes::new());
        };
        self.scratch.clear();
        let mut consumed = 0;
        loop {
            let left = input.len() - consumed;
            self.scratch.reserve(left + left / 16 + 64);
            let (in_before, out_before) = (compress.total_in(), compress.total_out());
            let status = compress
                .compress_vec(&input[consumed..], &mut self.scratch, flush)
                .map_err(Error::app)?;
            consumed += (compress.total_in() - in_before) as usize;
            let room = self.scratch.len() < self.scratch.capacity();
            let done = match flush {
                FlushCompress::Finish => status == Status::StreamEnd,
                FlushCompress::None => consumed == input.len(),
                _ => consumed == input.len() && room,
            };
            if done {
                break;
            }
            let moved = compress.total_in() != in_before || compress.total_out() != out_before;
            if !moved && room {
                return Err(Error::msg("gzip: the compressor made no progress"));
            }
        }
        Ok(Bytes::copy_from_slice(&self.scratch))
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        let Some(mut compress) = self.compress.take() else {
            return;
        };
        compress.reset();
        keep_idle(&IDLE, self.level, compress);
    }
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Encoder");
        s.field("level", &self.level);
        if let Some(compress) = &self.compress {
            s.field("total_in", &compress.total_in())
                .field("total_out", &compress.total_out());
        }
        s.finish_non_exhaustive()
    }
}

thread_local! {
    /// The output buffer of one-shot compression, kept between responses.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Compress a whole body into one gzip member, with a pooled compressor.
pub(crate) fn gzip_whole(level: u32, input: &[u8]) -> Result<Bytes, Error> {
    if LIBDEFLATE_LEVELS.contains(&level) {
        return libdeflate_whole(level, input);
    }
    let mut encoder = Encoder::new(level, Flush::Never);
    let kept = with_scratch(|scratch| {
        std::mem::swap(&mut encoder.scratch, scratch);
        let out = encoder.run(input, FlushCompress::Finish);
        std::mem::swap(&mut encoder.scratch, scratch);
        out
    });
    match kept {
        Some(out) => out,
        None => encoder.run(input, FlushCompress::Finish),
    }
}

/// Run `f` with this thread's one-shot scratch buffer (`None` when it is
/// taken or gone), and drop the buffer afterwards if it grew too large.
fn with_scratch<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> Option<T> {
    SCRATCH
        .try_with(|cell| {
            let mut scratch = cell.try_borrow_mut().ok()?;
            let out = f(&mut scratch);
            if scratch.capacity() > KEEP_SCRATCH {
                *scratch = Vec::new();
            }
            Some(out)
        })
        .ok()
        .flatten()
}

/// A whole body through a pooled libdeflate compressor at `level` (one of
/// [`LIBDEFLATE_LEVELS`]).
fn libdeflate_whole(level: u32, input: &[u8]) -> Result<Bytes, Error> {
    let idle = take_idle(&IDLE_WHOLE, level);
    let mut compressor = match idle {
        Some(compressor) => compressor,
        None => {
            let lvl = CompressionLvl::new(level as i32)
                .map_err(|_| Error::msg(format!("gzip: no libdeflate level {level}")))?;
            Compressor::new(lvl)
        }
    };
    let out = match with_scratch(|scratch| libdeflate_into(&mut compressor, input, scratch)) {
        Some(out) => out,
        None => libdeflate_into(&mut compressor, input, &mut Vec::new()),
    };
    keep_idle(&IDLE_WHOLE, level, compressor);
    out
}

/// Compress `input` into `out` (grown to libdeflate's bound) and copy the
/// result out.
fn libdeflate_into(
    compressor: &mut Compressor,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<Bytes, Error> {
    let bound = compressor.gzip_compress_bound(input.len());
    if out.len() < bound {
        out.resize(bound, 0);
    }
    let n = compressor.gzip_compress(input, out).map_err(Error::app)?;
    Ok(Bytes::copy_from_slice(&out[..n]))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn gunzip(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(data)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    fn text(n: usize) -> Vec<u8> {
        (0..n)
            .map(|i| b"the quick brown fox jumps over the lazy dog "[i % 44] ^ (i / 4096 % 2) as u8)
            .collect()
    }

    #[test]
    fn one_shot_round_trips_at_every_level() {
        let input = text(100_000);
        for level in 0..=9 {
            let gz = gzip_whole(level, &input).unwrap();
            assert_eq!(gunzip(&gz), input, "level {level}");
        }
        assert_eq!(gunzip(&gzip_whole(6, b"").unwrap()), b"");
    }

    #[test]
    fn one_shot_compressors_are_pooled_and_bodies_past_the_kept_scratch_work() {
        // Both one-shot paths (libdeflate at 6, zlib-rs at 9), on a body
        // larger than the scratch buffer kept between responses.
        let input = text(3 * KEEP_SCRATCH);
        for level in [6, 9] {
            for _ in 0..3 {
                assert_eq!(gunzip(&gzip_whole(level, &input).unwrap()), input);
            }
        }
        std::thread::scope(|s| {
            for _ in 0..(MAX_IDLE + 4) {
                s.spawn(|| gzip_whole(5, b"many threads at once").unwrap());
            }
        });
        assert!(IDLE_WHOLE.lock().unwrap().len() <= MAX_IDLE);
        let threads = SCRATCH.with(|s| s.borrow().capacity());
        assert!(threads <= KEEP_SCRATCH, "{threads}");
    }

    #[test]
    fn one_shot_after_an_abandoned_stream_is_clean() {
        let input = text(50_000);
        for _ in 0..(MAX_IDLE + 2) {
            let mut encoder = Encoder::new(6, Flush::Never);
            encoder.data(&input).unwrap();
        }
        let gz = gzip_whole(6, &input).unwrap();
        assert_eq!(&gz[..2], [0x1f, 0x8b]);
        assert_eq!(gunzip(&gz), input);
    }

    #[test]
    fn streaming_round_trips_with_both_flush_policies() {
        let input = text(300_000);
        for flush in [Flush::EveryChunk, Flush::Never] {
            let mut encoder = Encoder::new(6, flush);
            let mut gz = Vec::new();
            for chunk in input.chunks(7_000) {
                gz.extend_from_slice(&encoder.data(chunk).unwrap());
            }
            gz.extend_from_slice(&encoder.finish().unwrap());
            assert_eq!(gunzip(&gz), input, "{flush:?}");
        }
    }

    #[test]
    fn sync_flush_makes_every_chunk_decodable_at_once() {
        let mut encoder = Encoder::new(9, Flush::EveryChunk);
        let mut decoder = flate2::write::GzDecoder::new(Vec::new());
        for (i, chunk) in [&b"first "[..], b"second ", b"third"].iter().enumerate() {
            let out = encoder.data(chunk).unwrap();
            std::io::Write::write_all(&mut decoder, &out).unwrap();
            std::io::Write::flush(&mut decoder).unwrap();
            let want: &[u8] = [&b"first "[..], b"first second ", b"first second third"][i];
            assert_eq!(decoder.get_ref().as_slice(), want);
        }
    }

    #[test]
    fn a_compressor_dropped_mid_stream_is_reused_clean() {
        let input = text(50_000);
        for _ in 0..3 {
            let mut abandoned = Encoder::new(3, Flush::Never);
            abandoned.data(&input).unwrap();
            drop(abandoned);
            let mut encoder = Encoder::new(3, Flush::EveryChunk);
            let mut gz = encoder.data(&input).unwrap().to_vec();
            gz.extend_from_slice(&encoder.finish().unwrap());
            assert_eq!(gunzip(&gz), input);
        }
        assert!(IDLE.lock().unwrap().len() <= MAX_IDLE);
    }

    #[test]
    fn incompressible_chunks_larger_than_the_estimate() {
        // Pseudo-random bytes: the output is larger than the input.
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let input: Vec<u8> = (0..200_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut encoder = Encoder::new(1, Flush::EveryChunk);
        let mut gz = encoder.data(&input).unwrap().to_vec();
        gz.extend_from_slice(&encoder.finish().unwrap());
        assert_eq!(gunzip(&gz), input);
    }
}
