//! TCP sockets that know when their data arrived: the kernel's receive timestamp
//! (`SO_TIMESTAMPNS`) of the last segment read.
//!
//! Why: a response time should end when the response's last byte reached this host, not when
//! the generator's thread got round to reading it. In the open model at a modest rate the
//! generator is mostly idle, so every response first has to wake a sleeping thread; on a VM
//! that costs tens to hundreds of microseconds, and it was being reported as the target's
//! latency (+0.17 ms on the median, +1.4 ms on p99 against a 10 ms target). The kernel stamps
//! each segment as it is received (on loopback: as the server writes it), free of the
//! generator's own scheduling. Where stamps are unavailable (not Linux, the option refused,
//! HTTP/2 through hyper) the caller's clock is used as before; so too for the few segments
//! received just after the first socket of the system asked (the kernel switches stamping
//! on asynchronously).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// A TCP stream that records the arrival time of what it reads when stamps are enabled.
pub(crate) struct Tcp {
    inner: TcpStream,
    stamps: Option<Stamps>,
}

struct Stamps {
    /// Room for one `SCM_TIMESTAMPNS` control message (32 bytes on 64-bit Linux).
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    control: [u8; 64],
    /// Arrival of the data returned by the latest read.
    last: Option<SystemTime>,
}

impl Tcp {
    /// Wraps `inner`, asking the kernel for receive timestamps when `stamps` is set (and the
    /// platform has them).
    pub fn new(inner: TcpStream, stamps: bool) -> Tcp {
        let stamps = (stamps && enable(&inner)).then_some(Stamps {
            control: [0; 64],
            last: None,
        });
        Tcp { inner, stamps }
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.inner
    }

    /// Forgets the stamp of earlier reads (call before sending a request).
    pub fn clear_arrival(&mut self) {
        if let Some(s) = self.stamps.as_mut() {
            s.last = None;
        }
    }

    /// When the data of the latest read arrived, on the monotonic clock `Instant` uses; `None`
    /// without stamps.
    pub fn arrival(&self) -> Option<Instant> {
        let stamp = self.stamps.as_ref()?.last?;
        // The stamp is wall-clock time: measure its age against the wall clock, then take that
        // age off the monotonic clock, both read now.
        let (mono, wall) = (Instant::now(), SystemTime::now());
        let age = wall.duration_since(stamp).ok()?;
        mono.checked_sub(age)
    }
}

#[cfg(target_os = "linux")]
fn enable(sock: &TcpStream) -> bool {
    use nix::sys::socket::{setsockopt, sockopt::ReceiveTimestampns};
    setsockopt(sock, ReceiveTimestampns, &true).is_ok()
}

#[cfg(not(target_os = "linux"))]
fn enable(_: &TcpStream) -> bool {
    false
}

/// One `recvmsg` into `dst`, keeping the receive timestamp it carries.
#[cfg(target_os = "linux")]
fn recv_stamped(sock: &TcpStream, dst: &mut [u8], stamps: &mut Stamps) -> io::Result<usize> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::io::IoSliceMut;
    use std::os::fd::AsRawFd;

    let mut iov = [IoSliceMut::new(dst)];
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut stamps.control),
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            if let ControlMessageOwned::ScmTimestampns(ts) = c {
                let since_epoch = std::time::Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32);
                stamps.last = Some(SystemTime::UNIX_EPOCH + since_epoch);
            }
        }
    }
    Ok(msg.bytes)
}

impl AsyncRead for Tcp {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        #[cfg(target_os = "linux")]
        if let Some(stamps) = this.stamps.as_mut() {
            loop {
                std::task::ready!(this.inner.poll_read_ready(cx))?;
                let dst = buf.initialize_unfilled();
                let inner = &this.inner;
                match inner.try_io(tokio::io::Interest::READABLE, || {
                    recv_stamped(inner, dst, stamps)
                }) {
                    Ok(n) => {
                        buf.advance(n);
                        return Poll::Ready(Ok(()));
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tcp {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    /// The stamp is the time the data arrived, not the time it was read: data that waited
    /// 50 ms in the socket is stamped 50 ms before the read.
    #[tokio::test]
    async fn stamp_is_the_arrival_not_the_read() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut tcp = Tcp::new(client, true);
        if cfg!(not(target_os = "linux")) {
            assert!(tcp.stamps.is_none());
            return;
        }
        // The kernel turns receive stamping on system-wide asynchronously (a deferred static
        // key) when the first socket asks, so the first segments may come unstamped: wait
        // until one comes back stamped.
        let give_up = Instant::now() + std::time::Duration::from_secs(2);
        loop {
            tcp.clear_arrival();
            server.write_all(b"w").await.unwrap();
            let mut one = [0u8; 1];
            tcp.read_exact(&mut one).await.unwrap();
            if tcp.arrival().is_some() {
                break;
            }
            assert!(Instant::now() < give_up, "no receive timestamps after 2 s");
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        tcp.clear_arrival();
        assert!(tcp.arrival().is_none());
        let written = Instant::now();
        server.write_all(b"hello").await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut buf = [0u8; 16];
        let n = tcp.read(&mut buf).await.unwrap();
        let read = Instant::now();
        assert_eq!(&buf[..n], b"hello");
        let arrived = tcp.arrival().expect("a receive timestamp");
        assert!(
            read - arrived >= std::time::Duration::from_millis(45),
            "{:?}",
            read - arrived
        );
        // Within 5 ms of the write (the two clocks are read at slightly different times).
        let diff = arrived.max(written) - arrived.min(written);
        assert!(diff < std::time::Duration::from_millis(5), "{diff:?}");
        // Writes pass through.
        tcp.write_all(b"back").await.unwrap();
        let n = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"back");
    }

    #[tokio::test]
    async fn without_stamps_reads_plainly() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut tcp = Tcp::new(client, false);
        server.write_all(b"x").await.unwrap();
        let mut buf = [0u8; 4];
        assert_eq!(tcp.read(&mut buf).await.unwrap(), 1);
        assert!(tcp.arrival().is_none());
    }
}
