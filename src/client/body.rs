//! Reading a response body to its end (so the connection can be reused), counting every
//! byte but keeping at most a cap in memory: a body is never buffered without bound.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// A body read to its end.
#[derive(Debug, Default)]
pub(crate) struct ReadBody {
    /// The kept prefix (at most the cap).
    pub kept: Bytes,
    /// Whether bytes beyond `kept` were received.
    pub truncated: bool,
    /// Bytes received in total.
    pub len: u64,
}

/// The kept prefix under construction: the first chunk is kept without copying, and only a
/// body arriving in several chunks is copied into one buffer.
#[derive(Default)]
pub(crate) struct Keeper {
    first: Bytes,
    rest: Option<BytesMut>,
    truncated: bool,
}

impl Keeper {
    fn kept_len(&self) -> usize {
        self.rest.as_ref().map_or(self.first.len(), BytesMut::len)
    }

    pub(crate) fn push(&mut self, mut data: Bytes, cap: usize) {
        let room = cap.saturating_sub(self.kept_len());
        if data.len() > room {
            self.truncated = true;
            data.truncate(room);
        }
        if data.is_empty() {
            return;
        }
        if let Some(buf) = &mut self.rest {
            buf.extend_from_slice(&data);
        } else if self.first.is_empty() {
            self.first = data;
        } else {
            let mut buf = BytesMut::with_capacity((self.first.len() + data.len()) * 2);
            buf.extend_from_slice(&self.first);
            buf.extend_from_slice(&data);
            self.first = Bytes::new();
            self.rest = Some(buf);
        }
    }

    pub(crate) fn finish(self) -> (Bytes, bool) {
        let kept = match self.rest {
            Some(buf) => buf.freeze(),
            None => self.first,
        };
        (kept, self.truncated)
    }
}

/// Reads `body` to its end, keeping its first `cap` bytes (none when `cap` is 0).
pub(crate) async fn read(mut body: Incoming, cap: usize) -> Result<ReadBody, hyper::Error> {
    let mut len: u64 = 0;
    let mut keeper = Keeper::default();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue; // trailers
        };
        len += data.len() as u64;
        if cap > 0 {
            keeper.push(data, cap);
        }
    }
    let (kept, truncated) = keeper.finish();
    Ok(ReadBody {
        kept,
        truncated,
        len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeper_keeps_one_chunk_without_copy() {
        let mut k = Keeper::default();
        let data = Bytes::from_static(b"hello");
        k.push(data.clone(), 100);
        let (kept, truncated) = k.finish();
        assert_eq!(kept.as_ptr(), data.as_ptr());
        assert!(!truncated);
    }

    #[test]
    fn keeper_joins_and_truncates() {
        let mut k = Keeper::default();
        k.push(Bytes::from_static(b"abc"), 7);
        k.push(Bytes::from_static(b"def"), 7);
        k.push(Bytes::from_static(b"ghi"), 7);
        k.push(Bytes::from_static(b"jkl"), 7);
        let (kept, truncated) = k.finish();
        assert_eq!(&kept[..], b"abcdefg");
        assert!(truncated);
    }
}
