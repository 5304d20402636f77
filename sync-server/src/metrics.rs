//! Counters exported at `/metrics` in the Prometheus text format. Per process: with
//! several server processes each is scraped on its own and the sums add up.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct Metrics {
    pub http_requests: AtomicU64,
    pub http_errors: AtomicU64,
    pub upload_batches: AtomicU64,
    pub upload_bytes: AtomicU64,
    pub upload_decompressed_bytes: AtomicU64,
    pub revisions_accepted: AtomicU64,
    pub revisions_duplicate: AtomicU64,
    pub revisions_quarantined: AtomicU64,
    pub revisions_rejected: AtomicU64,
    pub ingest_micros: AtomicU64,
    pub pulls: AtomicU64,
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        };
        let n = |c: &AtomicU64| c.load(Relaxed).to_string();
        counter(
            "voices_http_requests_total",
            "HTTP requests served.",
            n(&self.http_requests),
        );
        counter(
            "voices_http_errors_total",
            "HTTP answers with status 400 or above.",
            n(&self.http_errors),
        );
        counter(
            "voices_upload_batches_total",
            "Upload batches received.",
            n(&self.upload_batches),
        );
        counter(
            "voices_upload_bytes_total",
            "Upload bytes as sent (compressed).",
            n(&self.upload_bytes),
        );
        counter(
            "voices_upload_decompressed_bytes_total",
            "Upload bytes after decompression.",
            n(&self.upload_decompressed_bytes),
        );
        counter(
            "voices_ingest_seconds_total",
            "Time spent storing and merging upload batches.",
            format!("{:.6}", self.ingest_micros.load(Relaxed) as f64 / 1e6),
        );
        counter(
            "voices_pulls_total",
            "Coordinator pull pages served.",
            n(&self.pulls),
        );
        let _ = writeln!(
            out,
            "# HELP voices_revisions_total Revisions acknowledged, by outcome.\n# TYPE voices_revisions_total counter"
        );
        for (status, value) in [
            ("accepted", &self.revisions_accepted),
            ("duplicate", &self.revisions_duplicate),
            ("quarantined", &self.revisions_quarantined),
            ("rejected", &self.revisions_rejected),
        ] {
            let _ = writeln!(
                out,
                "voices_revisions_total{{status=\"{status}\"}} {}",
                value.load(Relaxed)
            );
        }
        out
    }
}
