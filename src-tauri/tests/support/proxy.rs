//! A proxy inside the tests (tokio, loopback only) between devices and a server: in
//! `Faulty` mode it cuts uploads part-way, cuts answers after the server stored them,
//! sends requests twice and holds some back; in `Slow` mode it passes everything late.
//! It relays one request per connection, so clients use fresh connections. It also
//! serves as a plain HTTP forward proxy: absolute-form requests go to the same server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// SplitMix64: seeded, so a failing run can be replayed.
pub struct Mix(pub u64);

impl Mix {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn seed() -> u64 {
    let seed = std::env::var("VOICES_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_126);
    println!("fault seed {seed} (set VOICES_FAULT_SEED to replay)");
    seed
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Cut, duplicate and reorder uploads and attachment chunks.
    Faulty,
    /// Pass everything, slowly (answers to uploads held back after the server stored).
    Slow,
}

#[derive(Default)]
pub struct Tally {
    pub requests: AtomicUsize,
    pub uploads: AtomicUsize,
    pub cut_requests: AtomicUsize,
    pub cut_responses: AtomicUsize,
    pub duplicated: AtomicUsize,
    pub delayed: AtomicUsize,
    /// Uploads the proxy holds right now (sent on, answer not yet passed back).
    pub in_flight: AtomicUsize,
}

impl Tally {
    pub fn line(&self) -> String {
        format!(
            "{} requests, {} uploads and chunks: {} cut on the way in, {} answers cut, {} sent twice, {} held back",
            self.requests.load(Ordering::SeqCst),
            self.uploads.load(Ordering::SeqCst),
            self.cut_requests.load(Ordering::SeqCst),
            self.cut_responses.load(Ordering::SeqCst),
            self.duplicated.load(Ordering::SeqCst),
            self.delayed.load(Ordering::SeqCst)
        )
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &[u8]) -> usize {
    String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// One HTTP/1.1 message (head and `Content-Length` body).
async fn read_message(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let total = end + 4 + content_length(&buf[..end]);
            while buf.len() < total {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(buf);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 64 << 20 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn exchange(upstream: u16, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut server = TcpStream::connect(("127.0.0.1", upstream)).await?;
    server.write_all(request).await?;
    read_message(&mut server).await
}

async fn relay(
    mut client: TcpStream,
    upstream: u16,
    mode: Mode,
    rng: Arc<Mutex<Mix>>,
    tally: Arc<Tally>,
) {
    let Ok(Ok(request)) =
        tokio::time::timeout(Duration::from_secs(30), read_message(&mut client)).await
    else {
        return;
    };
    tally.requests.fetch_add(1, Ordering::SeqCst);
    let is_upload = (request.starts_with(b"POST ") && find(&request, b"/revisions ").is_some())
        || (request.starts_with(b"PUT ") && find(&request, b"/attachments/").is_some());
    let (roll, cut_at, delay) = {
        let mut g = rng.lock().unwrap();
        (g.below(100), g.next(), g.below(300))
    };
    if mode == Mode::Slow {
        if is_upload {
            tally.in_flight.fetch_add(1, Ordering::SeqCst);
        }
        tokio::time::sleep(Duration::from_millis(20 + delay / 3)).await;
        if let Ok(response) = exchange(upstream, &request).await {
            if is_upload {
                // Stored on the server; the answer lingers, so a kill often lands here.
                tally.delayed.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100 + delay)).await;
            }
            let _ = client.write_all(&response).await;
        }
        if is_upload {
            tally.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        return;
    }
    if !is_upload {
        if let Ok(response) = exchange(upstream, &request).await {
            let _ = client.write_all(&response).await;
        }
        return;
    }
    tally.uploads.fetch_add(1, Ordering::SeqCst);
    match roll {
        // The request is cut part-way: the server gets a truncated body.
        0..=19 => {
            tally.cut_requests.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                let cut = (cut_at % request.len() as u64) as usize;
                let _ = server.write_all(&request[..cut]).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        // The server stores it, the answer is cut off.
        20..=39 => {
            tally.cut_responses.fetch_add(1, Ordering::SeqCst);
            if let Ok(response) = exchange(upstream, &request).await {
                let cut = (cut_at % response.len() as u64) as usize;
                let _ = client.write_all(&response[..cut]).await;
            }
        }
        // The request reaches the server twice at the same time.
        40..=54 => {
            tally.duplicated.fetch_add(1, Ordering::SeqCst);
            let (first, _second) =
                tokio::join!(exchange(upstream, &request), exchange(upstream, &request));
            if let Ok(response) = first {
                let _ = client.write_all(&response).await;
            }
        }
        // Held back, so later requests overtake it.
        55..=69 => {
            tally.delayed.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50 + delay)).await;
            if let Ok(response) = exchange(upstream, &request).await {
                let _ = client.write_all(&response).await;
            }
        }
        _ => {
            if let Ok(response) = exchange(upstream, &request).await {
                let _ = client.write_all(&response).await;
            }
        }
    }
}

/// A proxy in front of `upstream`; its URL.
pub async fn start_proxy(upstream: u16, mode: Mode, seed: u64, tally: Arc<Tally>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let rng = Arc::new(Mutex::new(Mix(seed)));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay(client, upstream, mode, rng.clone(), tally.clone()));
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// A proxy in front of `upstream` that passes everything, except that the bytes of
/// attachment chunks (`PUT …/attachments/SHA`) for the SHA-256 in `target` arrive with
/// their last byte flipped, as a broken middlebox would deliver them. `corrupted` counts
/// the chunks it damaged.
pub async fn start_corrupting_proxy(
    upstream: u16,
    target: Arc<Mutex<Option<String>>>,
    corrupted: Arc<AtomicUsize>,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let target = target.clone();
            let corrupted = corrupted.clone();
            tokio::spawn(async move {
                let Ok(mut request) = read_message(&mut client).await else {
                    return;
                };
                let head_end = find(&request, b"\r\n\r\n").map_or(0, |i| i + 4);
                let line_end = find(&request, b"\r\n").unwrap_or(0);
                let hit = target.lock().unwrap().clone().is_some_and(|sha| {
                    request.starts_with(b"PUT ")
                        && find(
                            &request[..line_end],
                            format!("/attachments/{sha}").as_bytes(),
                        )
                        .is_some()
                });
                if hit && request.len() > head_end {
                    *request.last_mut().unwrap() ^= 0xff;
                    corrupted.fetch_add(1, Ordering::SeqCst);
                }
                if let Ok(response) = exchange(upstream, &request).await {
                    let _ = client.write_all(&response).await;
                }
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}
