//! Reading a response body to its end (`content-length`, chunked with trailers, or until
//! close): every byte counted, the first `cap` kept.

use std::io;

use bytes::{Buf, BytesMut};

use super::{H1Conn, MAX_HEAD};
use crate::client::body::{Keeper, ReadBody};
use crate::client::error::RequestError;
use crate::client::framing::BodyKind;

impl H1Conn {
    /// Reads a body delimited by `kind` to its end, counting every byte and keeping the
    /// first `cap`. Afterwards the connection is reusable when `keep_alive` (the response's
    /// `connection` header allows it) and the body did not run to the end of the stream.
    pub async fn read_body(
        &mut self,
        kind: BodyKind,
        keep_alive: bool,
        cap: usize,
    ) -> Result<ReadBody, RequestError> {
        let mut sink = Sink {
            keeper: Keeper::default(),
            cap,
            len: 0,
        };
        match kind {
            BodyKind::Empty => {}
            BodyKind::Length(n) => self.read_exact_body(n, &mut sink).await?,
            BodyKind::Chunked => self.read_chunked(&mut sink).await?,
            BodyKind::UntilClose => loop {
                sink.take(&mut self.read_buf, usize::MAX);
                if self.fill().await.map_err(body_io)? == 0 {
                    return Ok(sink.finish());
                }
            },
        }
        self.broken = !keep_alive;
        Ok(sink.finish())
    }

    async fn read_exact_body(
        &mut self,
        mut remaining: u64,
        sink: &mut Sink,
    ) -> Result<(), RequestError> {
        loop {
            let want = usize::try_from(remaining).unwrap_or(usize::MAX);
            remaining -= sink.take(&mut self.read_buf, want) as u64;
            if remaining == 0 {
                return Ok(());
            }
            self.fill_or_truncated().await?;
        }
    }

    async fn read_chunked(&mut self, sink: &mut Sink) -> Result<(), RequestError> {
        loop {
            let size = loop {
                match httparse::parse_chunk_size(&self.read_buf) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.read_buf.advance(used);
                        break size;
                    }
                    Ok(httparse::Status::Partial) if self.read_buf.len() < MAX_HEAD => {
                        self.fill_or_truncated().await?
                    }
                    _ => return Err(malformed_chunks()),
                }
            };
            if size == 0 {
                return self.skip_trailers().await;
            }
            self.read_exact_body(size, sink).await?;
            while self.read_buf.len() < 2 {
                self.fill_or_truncated().await?;
            }
            if &self.read_buf[..2] != b"\r\n" {
                return Err(malformed_chunks());
            }
            self.read_buf.advance(2);
        }
    }

    /// Skips the trailer section after the last chunk, up to its empty line.
    async fn skip_trailers(&mut self) -> Result<(), RequestError> {
        loop {
            match self.read_buf.iter().position(|b| *b == b'\n') {
                Some(end) => {
                    let empty = end == 0 || (end == 1 && self.read_buf[0] == b'\r');
                    self.read_buf.advance(end + 1);
                    if empty {
                        return Ok(());
                    }
                }
                None if self.read_buf.len() < MAX_HEAD => self.fill_or_truncated().await?,
                None => return Err(malformed_chunks()),
            }
        }
    }

    /// Reads more bytes; the end of the stream here means the body was cut short.
    async fn fill_or_truncated(&mut self) -> Result<(), RequestError> {
        match self.fill().await.map_err(body_io)? {
            0 => Err(RequestError::Body(
                "connection closed before the end of the body".to_string(),
            )),
            _ => Ok(()),
        }
    }
}

/// Where body bytes go: counted, and kept up to the cap.
struct Sink {
    keeper: Keeper,
    cap: usize,
    len: u64,
}

impl Sink {
    /// Takes up to `max` bytes from the front of `buf`; returns how many.
    fn take(&mut self, buf: &mut BytesMut, max: usize) -> usize {
        let n = buf.len().min(max);
        if n == 0 {
            return 0;
        }
        self.len += n as u64;
        if self.cap > 0 {
            self.keeper.push(buf.split_to(n).freeze(), self.cap);
        } else {
            buf.advance(n);
        }
        n
    }

    fn finish(self) -> ReadBody {
        let (kept, truncated) = self.keeper.finish();
        ReadBody {
            kept,
            truncated,
            len: self.len,
        }
    }
}

fn body_io(e: io::Error) -> RequestError {
    RequestError::Body(RequestError::from_io(&e).to_string())
}

fn malformed_chunks() -> RequestError {
    RequestError::Body("malformed chunked encoding".to_string())
}
