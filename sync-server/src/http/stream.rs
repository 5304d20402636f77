//! Streamed answer bodies: blocking code (an export, a file read from the store) writes
//! into a channel on a blocking thread, and the answer body reads from it, so a large
//! answer goes out with flat memory and a client that goes away stops the work.

use axum::body::Body;

/// What goes through the channel: bytes, or the error that cuts the body off.
type Chunk = Result<Vec<u8>, std::io::Error>;

/// A channel whose receiving end is an answer body.
pub(super) fn channel(capacity: usize) -> (tokio::sync::mpsc::Sender<Chunk>, Body) {
    let (tx, rx) = tokio::sync::mpsc::channel(capacity);
    (tx, Body::from_stream(ChunkStream(rx)))
}

/// A `Write` that hands 64 KiB chunks to the answer body as they are produced.
pub(super) struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Chunk>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    const CHUNK: usize = 64 * 1024;

    pub(super) fn new(tx: tokio::sync::mpsc::Sender<Chunk>) -> ChannelWriter {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(Self::CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(Self::CHUNK));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= Self::CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The receiving end of the channel as a body stream.
struct ChunkStream(tokio::sync::mpsc::Receiver<Chunk>);

impl futures_core::Stream for ChunkStream {
    type Item = Chunk;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
