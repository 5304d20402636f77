//! A fault proxy for tests and the soak bench (tokio, loopback only), between devices
//! and a server: it cuts upload requests part-way, cuts answers after the server has
//! stored the batch, sends requests twice at once and holds some back so later ones
//! overtake them. Every other request passes through untouched.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use voices_server::sample::Mix;

/// A client that opens a new connection for every request, so the proxy sees one
/// request per connection.
pub fn fresh_connections() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// What the proxy did to the uploads it saw.
#[derive(Default)]
pub struct Tally {
    pub uploads: AtomicUsize,
    pub cut_requests: AtomicUsize,
    pub cut_responses: AtomicUsize,
    pub duplicated: AtomicUsize,
    pub delayed: AtomicUsize,
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

/// One HTTP/1.1 message (head and `Content-Length` body) from `stream`.
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

async fn relay(mut client: TcpStream, upstream: u16, rng: Arc<Mutex<Mix>>, tally: Arc<Tally>) {
    let Ok(Ok(request)) =
        tokio::time::timeout(Duration::from_secs(30), read_message(&mut client)).await
    else {
        return;
    };
    let is_upload = request.starts_with(b"POST ") && find(&request, b"/revisions ").is_some();
    let (roll, cut_at, delay) = {
        let mut g = rng.lock().unwrap();
        (g.below(100), g.next_u64(), g.below(300))
    };
    if !is_upload {
        if let Ok(response) = exchange(upstream, &request).await {
            let _ = client.write_all(&response).await;
        }
        return;
    }
    tally.uploads.fetch_add(1, Ordering::SeqCst);
    match roll {
        // Cut the request part-way: the server gets a truncated body.
        0..=19 => {
            tally.cut_requests.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut server) = TcpStream::connect(("127.0.0.1", upstream)).await {
                let cut = (cut_at % request.len() as u64) as usize;
                let _ = server.write_all(&request[..cut]).await;
                // Give the server a moment to see the partial body before the cut.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        // The server stores the batch, the answer is cut off: the device must resend.
        20..=39 => {
            tally.cut_responses.fetch_add(1, Ordering::SeqCst);
            if let Ok(response) = exchange(upstream, &request).await {
                let cut = (cut_at % response.len() as u64) as usize;
                let _ = client.write_all(&response[..cut]).await;
            }
        }
        // The request reaches the server twice, at the same time.
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

/// Start the proxy in front of `upstream`; its port.
pub async fn start_proxy(upstream: u16, seed: u64, tally: Arc<Tally>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let rng = Arc::new(Mutex::new(Mix(seed)));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            tokio::spawn(relay(client, upstream, rng.clone(), tally.clone()));
        }
    });
    port
}

impl Tally {
    /// Faults injected so far: every upload the proxy did not pass through untouched.
    pub fn faults(&self) -> usize {
        [
            &self.cut_requests,
            &self.cut_responses,
            &self.duplicated,
            &self.delayed,
        ]
        .iter()
        .map(|n| n.load(Ordering::SeqCst))
        .sum()
    }
}
