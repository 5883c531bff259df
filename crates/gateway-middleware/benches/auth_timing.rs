//! Does a wrong user-id take a different time from a wrong password? A
//! dudect-style statistical test (Reparaz et al., "Dude, is my code constant
//! time?", 2017) of `Credentials::verify` and of the whole `BasicAuth`
//! middleware: the two classes of input are measured interleaved in a
//! random order, the slowest tail of each is cropped, and Welch's t-test
//! compares the means. |t| under 4.5 is dudect's bar for "no leak found".
//!
//! `cargo bench -p gateway-middleware --bench auth_timing`
//! (`AUTH_TIMING_SAMPLES=N` to change the 200 000 samples per class.)

use std::hint::black_box;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gateway_core::testing::Client;
use gateway_core::{Body, Environ, Error, Middleware, StartResponse};
use gateway_middleware::auth::{BasicAuth, BasicVerifier, Credentials};

/// A tiny xorshift, so the order of the classes is random but repeatable.
struct Rng(u64);

impl Rng {
    fn bit(&mut self) -> bool {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 & 1 == 1
    }
}

/// Mean, variance and count of the samples at or under the `keep` quantile.
fn cropped(mut samples: Vec<f64>, keep: f64) -> (f64, f64, usize) {
    samples.sort_by(f64::total_cmp);
    samples.truncate((samples.len() as f64 * keep) as usize);
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let var = samples.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var, samples.len())
}

fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// Measure `f(class)` for both classes, interleaved at random; print the
/// medians and Welch's t at three crops.
fn compare(name: &str, samples: usize, mut f: impl FnMut(bool)) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut a, mut b) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for _ in 0..samples / 10 {
        f(rng.bit()); // warm-up
    }
    while a.len() < samples || b.len() < samples {
        let class = rng.bit();
        let start = Instant::now();
        f(class);
        let ns = start.elapsed().as_nanos() as f64;
        if class && a.len() < samples {
            a.push(ns);
        } else if !class && b.len() < samples {
            b.push(ns);
        }
    }
    println!(
        "{name}: median wrong user {:.0} ns, wrong password {:.0} ns ({samples} samples each)",
        median(&a),
        median(&b)
    );
    for keep in [0.5, 0.9, 0.99] {
        let (ma, va, na) = cropped(a.clone(), keep);
        let (mb, vb, nb) = cropped(b.clone(), keep);
        let t = (ma - mb) / (va / na as f64 + vb / nb as f64).sqrt();
        let verdict = if t.abs() < 4.5 {
            "no leak found"
        } else {
            "DIFFERENCE"
        };
        println!(
            "  fastest {:>3.0}%: mean {ma:.1} vs {mb:.1} ns, t = {t:+.2}: {verdict}",
            keep * 100.0
        );
    }
}

fn ok(_: Environ, sr: StartResponse) -> Result<Body, Error> {
    sr.start("200 OK", ())?;
    Ok(Body::from("in"))
}

fn main() {
    let samples = std::env::var("AUTH_TIMING_SAMPLES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let users = (0..16).map(|i| (format!("user{i:02}"), format!("password-of-user-{i:02}")));
    let credentials = Credentials::new(users).expect("credentials");
    // Same lengths in both classes: a wrong user-id with the right shape of
    // password, and a right user-id with a wrong password.
    compare("Credentials::verify", samples, |wrong_user| {
        let ok = if wrong_user {
            credentials.verify(black_box("userXX"), black_box("password-of-user-07"))
        } else {
            credentials.verify(black_box("user07"), black_box("password-of-user-XX"))
        };
        black_box(ok);
    });

    let users = (0..16).map(|i| (format!("user{i:02}"), format!("password-of-user-{i:02}")));
    let auth = BasicAuth::new("t", Credentials::new(users).expect("credentials")).expect("auth");
    let client = Client::new(auth.wrap(ok));
    let wrong_user = format!("Basic {}", STANDARD.encode("userXX:password-of-user-07"));
    let wrong_password = format!("Basic {}", STANDARD.encode("user07:password-of-user-XX"));
    compare("BasicAuth request", samples / 10, |class| {
        let header = if class { &wrong_user } else { &wrong_password };
        let response = client
            .get("/")
            .header("Authorization", header.as_str())
            .send();
        assert_eq!(response.status, 401);
    });
}
