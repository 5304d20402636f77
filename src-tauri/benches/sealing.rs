//! What sealing costs on the device (issue 12): answers of `sensitive` and `pii` fields
//! are sealed with `age` to every current recipient of the project as a revision is built
//! (`voices_app::sync::seal::Sealer`, the app's own code). Prints the time to seal N
//! answers, short (a name) and long (a free-text account), to 1, 2 and 5 recipients, and
//! the bytes a sealed answer takes on the wire; then the time to seal a sensitive
//! question's photo (`Sealer::seal_file`, 100 KiB, 1 MiB and 4 MiB) and the cost of one
//! household response with 4 sealed answers and one sealed 1 MiB photo.
//!
//! `cargo bench -p voices-app --features custom-protocol --bench sealing`
//! (`VOICES_BENCH_ANSWERS`, default 2,000)

use std::time::Instant;

use voices_app::sync::seal::Sealer;

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    let n: usize = std::env::var("VOICES_BENCH_ANSWERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let short = "Amina Yusuf";
    let long = "We left at night when the fire reached the market; my brother stayed behind \
                with the goats and we have not heard from him since the second week. "
        .repeat(2);
    for recipients in [1, 2, 5] {
        let keys: Vec<String> = (0..recipients)
            .map(|_| age::x25519::Identity::generate().to_public().to_string())
            .collect();
        let sealer = Sealer::new(&keys)
            .expect("age recipients")
            .expect("at least one recipient");
        for (what, clear) in [("short", short), ("long", long.as_str())] {
            let t = Instant::now();
            let mut bytes = 0;
            for _ in 0..n {
                bytes += sealer.seal(clear).expect("sealed").as_str().len();
            }
            let secs = t.elapsed().as_secs_f64();
            println!(
                "seal {n} {what} answers ({} characters) to {recipients} recipient(s): {:.0} ms, {:.0} µs/answer, {} base64 characters each (clear {})",
                clear.chars().count(),
                secs * 1e3,
                secs * 1e6 / n as f64,
                bytes / n,
                clear.len()
            );
        }
    }
    // A photo's bytes do not compress (as a JPEG's do not): a pseudo-random fill.
    let photo = |len: usize| -> Vec<u8> {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    };
    let files = (n / 100).max(5);
    for recipients in [1, 2, 5] {
        let keys: Vec<String> = (0..recipients)
            .map(|_| age::x25519::Identity::generate().to_public().to_string())
            .collect();
        let sealer = Sealer::new(&keys)
            .expect("age recipients")
            .expect("at least one recipient");
        for kib in [100, 1024, 4096] {
            let clear = photo(kib * 1024);
            let t = Instant::now();
            let mut bytes = 0;
            for _ in 0..files {
                bytes += sealer.seal_file(&clear).expect("sealed").len();
            }
            let secs = t.elapsed().as_secs_f64();
            println!(
                "seal {files} files of {kib} KiB to {recipients} recipient(s): {:.1} ms/file ({:.0} MB/s), {} bytes more than clear",
                secs * 1e3 / files as f64,
                (kib * 1024 * files) as f64 / secs / 1e6,
                bytes / files - clear.len()
            );
        }
        // One household response: two names, a sensitive choice, a free-text account
        // and a 1 MiB photo, as a revision seals them.
        let picture = photo(1024 * 1024);
        let t = Instant::now();
        for _ in 0..files {
            for answer in [short, "Yusuf Abdi", "yes", long.as_str()] {
                sealer.seal(answer).expect("sealed");
            }
            sealer.seal_file(&picture).expect("sealed");
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "seal one response (4 answers and a 1 MiB photo) to {recipients} recipient(s): {:.1} ms/response",
            secs * 1e3 / files as f64
        );
    }
}
