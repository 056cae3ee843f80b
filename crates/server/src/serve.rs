//! Serving sockets: our own accept loop around hyper's HTTP/1 connections, so that a slow or
//! idle client cannot hold a connection for long, the open connections are capped below the
//! process's file limit, and a shutdown stops accepting, lets the requests in flight finish
//! and then returns, all within bounds the operator sets (`server.*`).
//!
//! The socket timeouts run on tokio's real timer: they protect the process's file descriptors,
//! they decide nothing about a login, so they do not take their time from the injected clock.

use crate::catalogue::DoorError;
use crate::error::{render, ApiError};
use axum::extract::ConnectInfo;
use axum::http::{header, Request};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use sekisho_core::Lang;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// The limits of the HTTP transport (the `server.*` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transport {
    /// How long a client may take to send a request's head: from the connection's accept, or
    /// from the first byte of a further request on a kept-alive connection (slowloris).
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection may wait, idle, for its next request.
    pub keep_alive_timeout: Duration,
    /// How long a request may take from its head to its answer, the body's upload included;
    /// past it the client gets `request_timeout` (503) and the connection is closed.
    pub request_timeout: Duration,
    /// Connections open at once on each listener; further clients wait in the kernel's queue
    /// until one closes. Lowered at start to stay under the process's open-file limit.
    pub max_connections: usize,
    /// How long a shutdown waits for the requests in flight and the outbox before it returns.
    pub shutdown_timeout: Duration,
    /// HTTPS (`tls.*`): every listener speaks TLS and every answer carries HSTS.
    pub tls: Option<crate::tls::Tls>,
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            header_read_timeout: Duration::from_secs(10),
            keep_alive_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            max_connections: 4096,
            shutdown_timeout: Duration::from_secs(20),
            tls: None,
        }
    }
}

/// File descriptors kept free of connections: the database pool, SQLite's files, the SMTP
/// pool, the log, the listeners.
const SPARE_FILES: u64 = 256;

impl Transport {
    /// The connection cap each of `listeners` may use: `max_connections`, lowered so that all
    /// of them together stay [`SPARE_FILES`] under the soft `RLIMIT_NOFILE` (read from
    /// `/proc/self/limits`; where that cannot be read, the setting as it is).
    pub fn connection_cap(&self, listeners: usize) -> usize {
        // Far beyond any file limit, and within what a semaphore can count.
        let wanted = self.max_connections.clamp(1, 1 << 20);
        let Some(limit) = open_files_limit() else {
            return wanted;
        };
        let room = limit.saturating_sub(SPARE_FILES) / listeners.max(1) as u64;
        let room = usize::try_from(room).unwrap_or(usize::MAX).max(1);
        if room < wanted {
            tracing::warn!(
                max_connections = wanted,
                open_files_limit = limit,
                cap = room,
                "server.max_connections is above what the open-file limit allows; capped \
                 (raise LimitNOFILE / ulimit -n to allow more)"
            );
        }
        wanted.min(room)
    }
}

/// The soft limit on open files, from `/proc/self/limits` (`None` if unlimited or unreadable).
fn open_files_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serves `router` on `listener` until `stop` turns true, then lets each open connection finish
/// the request it is serving (idle ones close at once) and returns when all are closed (the
/// caller bounds the wait).
pub(crate) async fn serve_listener(
    listener: TcpListener,
    router: Router,
    transport: Arc<Transport>,
    cap: usize,
    stop: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(cap));
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    accept_loop(
        &listener,
        &router,
        &transport,
        &slots,
        cap,
        &local,
        stop.clone(),
    )
    .await;
    drop(listener);
    let open = cap.saturating_sub(slots.available_permits());
    tracing::info!(listen = %local, open, "stopped accepting; waiting for requests in flight");
    // Every connection holds a slot until it closes: all slots back means all closed.
    let _ = slots
        .acquire_many(u32::try_from(cap).unwrap_or(u32::MAX))
        .await;
}

async fn accept_loop(
    listener: &TcpListener,
    router: &Router,
    transport: &Arc<Transport>,
    slots: &Arc<Semaphore>,
    cap: usize,
    local: &str,
    mut stop: watch::Receiver<bool>,
) {
    let mut full = FullWarning::default();
    loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                full.reached(local, cap);
                tokio::select! {
                    p = slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => return,
                    },
                    _ = stopped(&mut stop) => return,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    accept_error(e, local).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => return,
        };
        tokio::spawn(serve_connection(
            stream,
            peer,
            router.clone(),
            transport.clone(),
            permit,
            stop.clone(),
        ));
    }
}

/// Completes once `stop` turns true (or its sender is gone). Returns nothing: the receiver's
/// borrow guard must not live across an await of the connection task.
pub(crate) async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// One warning per minute at most while the cap holds clients back, with how often it did.
#[derive(Default)]
struct FullWarning {
    last: Option<Instant>,
    since: u64,
}

impl FullWarning {
    fn reached(&mut self, local: &str, cap: usize) {
        self.since += 1;
        // Real time: this only paces a log line.
        let now = Instant::now();
        if self.last.is_some_and(|l| now < l + Duration::from_secs(60)) {
            return;
        }
        tracing::warn!(
            listen = %local,
            max_connections = cap,
            times_reached = self.since,
            "connection limit reached: new clients wait until a connection closes \
             (server.max_connections; logged at most once a minute)"
        );
        self.last = Some(now);
        self.since = 0;
    }
}

/// What `accept` failing means: a client that left (ignored), or a lack of file descriptors
/// or memory (logged; the loop pauses briefly rather than spin).
async fn accept_error(e: io::Error, local: &str) {
    use io::ErrorKind::*;
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::error!(listen = %local, error = %e, "accept failed; pausing 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    transport: Arc<Transport>,
    _slot: OwnedSemaphorePermit,
    mut stop: watch::Receiver<bool>,
) {
    let requests = Arc::new(Requests::default());
    let guarded = Guarded::new(stream, requests.clone(), &transport);
    let Some(tls) = transport.tls.clone() else {
        let io = TokioIo::new(guarded);
        return serve_http(io, peer, router, transport, requests, None, stop).await;
    };
    // The handshake counts as part of the first request's head: a client that stalls it is
    // shed by the header-read timeout like one that stalls its headers (the reads fail).
    let stream = tokio::select! {
        r = tls.acceptor.accept(guarded) => match r {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(client = %peer, error = %e, "TLS handshake failed");
                return;
            }
        },
        _ = stopped(&mut stop) => return,
    };
    let io = TokioIo::new(stream);
    serve_http(
        io,
        peer,
        router,
        transport,
        requests,
        tls.hsts.clone(),
        stop,
    )
    .await;
}

/// HTTP/1.1 on a connection (plain or TLS), its requests counted for [`Guarded`].
async fn serve_http<I>(
    io: I,
    peer: SocketAddr,
    router: Router,
    transport: Arc<Transport>,
    requests: Arc<Requests>,
    hsts: Option<header::HeaderValue>,
    mut stop: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let request_timeout = transport.request_timeout;
    let backstop = transport.keep_alive_timeout + transport.header_read_timeout;
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        // Read only if the answer is ours (a timeout); a header value clone is a refcount.
        let accept_language = req.headers().get(header::ACCEPT_LANGUAGE).cloned();
        let in_flight = InFlight::enter(&requests);
        let answer = router.clone().oneshot(req);
        let hsts = hsts.clone();
        async move {
            let _in_flight = in_flight;
            let mut res = match tokio::time::timeout(request_timeout, answer).await {
                Ok(Ok(res)) => res,
                Ok(Err(never)) => match never {},
                Err(_) => {
                    tracing::warn!(client = %peer, "request not answered within server.request_timeout_secs");
                    let lang = Lang::from_accept_language(
                        accept_language.as_ref().and_then(|v| v.to_str().ok()),
                    );
                    let mut res = ApiError::from(DoorError::RequestTimeout).into_response();
                    render(&mut res, lang);
                    res.headers_mut().insert(
                        header::CONNECTION,
                        header::HeaderValue::from_static("close"),
                    );
                    res
                }
            };
            if let Some(v) = hsts {
                res.headers_mut()
                    .insert(header::STRICT_TRANSPORT_SECURITY, v);
            }
            Ok::<Response, Infallible>(res)
        }
    });
    // The deadlines are `Guarded`'s (it tells a new request's head from idle time, which
    // hyper's own header timer does not). Hyper's timer is set too, longer, as a backstop: with
    // it, hyper reads the socket as soon as an answer is sent, which starts the idle deadline.
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(backstop)
        .serve_connection(io, service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stopped(&mut stop) => {}
    }
    // Shutdown: no further request on this connection; the one in flight gets its answer.
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// A connection's requests, as its service sees them: the socket learns from them that a
/// request's head has arrived (no header deadline while it is served) and that it was answered
/// (the keep-alive deadline starts).
#[derive(Default)]
struct Requests {
    started: AtomicUsize,
    in_flight: AtomicUsize,
}

/// Counts a request as in flight on its connection while it lives.
struct InFlight(Arc<Requests>);

impl InFlight {
    fn enter(requests: &Arc<Requests>) -> InFlight {
        requests.started.fetch_add(1, Ordering::AcqRel);
        requests.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(requests.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Where a connection stands, as its socket sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for (the rest of) a request's head: `header_read_timeout` runs.
    Head,
    /// A request is being served: the request timeout applies, not ours.
    Busy,
    /// Answered, waiting for the next request: `keep_alive_timeout` runs.
    Idle,
}

/// The socket with the connection's deadlines: hyper reads the socket whenever it waits for a
/// request, so a deadline that passes then fails the read and hyper closes the connection.
struct Guarded {
    stream: TcpStream,
    requests: Arc<Requests>,
    /// `requests.started` when the phase was last decided.
    seen: usize,
    phase: Phase,
    deadline: Pin<Box<Sleep>>,
    header_read_timeout: Duration,
    keep_alive_timeout: Duration,
}

impl Guarded {
    fn new(stream: TcpStream, requests: Arc<Requests>, t: &Transport) -> Guarded {
        Guarded {
            stream,
            requests,
            seen: 0,
            phase: Phase::Head,
            deadline: Box::pin(tokio::time::sleep(t.header_read_timeout)),
            header_read_timeout: t.header_read_timeout,
            keep_alive_timeout: t.keep_alive_timeout,
        }
    }

    fn arm(&mut self, phase: Phase, after: Duration) {
        self.phase = phase;
        self.deadline.as_mut().reset(Instant::now() + after);
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let started = this.requests.started.load(Ordering::Acquire);
        if this.requests.in_flight.load(Ordering::Acquire) > 0 {
            this.phase = Phase::Busy;
            this.seen = started;
        } else if started != this.seen || this.phase == Phase::Busy {
            this.seen = started;
            let after = this.keep_alive_timeout;
            this.arm(Phase::Idle, after);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if this.phase == Phase::Idle && buf.filled().len() > before {
                    let after = this.header_read_timeout;
                    this.arm(Phase::Head, after);
                } else if this.phase == Phase::Head && this.deadline.is_elapsed() {
                    return Poll::Ready(Err(head_timeout()));
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.phase != Phase::Busy && this.deadline.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Err(match this.phase {
                        Phase::Idle => io::Error::new(
                            io::ErrorKind::TimedOut,
                            "idle connection closed (keep-alive timeout)",
                        ),
                        _ => head_timeout(),
                    }));
                }
                Poll::Pending
            }
        }
    }
}

fn head_timeout() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "request head not received in time (header read timeout)",
    )
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
