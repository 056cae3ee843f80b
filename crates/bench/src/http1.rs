//! A minimal HTTP/1.1 client for the load generator: one keep-alive connection per concurrent
//! client, requests written from a pre-encoded head, answers read by `Content-Length`. The load
//! generator shares the machine with the server, so every microsecond it spends is taken from
//! the server; a general-purpose client (pool, header maps, body streams) costs several times
//! this one.

use anyhow::{anyhow, bail, Result};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One keep-alive connection.
pub(crate) struct Conn {
    addr: String,
    stream: Option<TcpStream>,
    out: Vec<u8>,
    buf: Vec<u8>,
    /// Where the last answer's body lies in `buf`.
    body: std::ops::Range<usize>,
}

impl Conn {
    /// A connection to `addr` (`host:port`), opened on first use.
    pub(crate) fn new(addr: &str) -> Conn {
        Conn {
            addr: addr.to_owned(),
            stream: None,
            out: Vec::with_capacity(512),
            buf: Vec::with_capacity(1024),
            body: 0..0,
        }
    }

    /// Sends `head` (the request line and headers, each ending in CRLF, without
    /// `Content-Length`) with `body` (empty for a GET); returns the status once the whole answer is read.
    /// After an error the connection is dropped and the next request opens a new one.
    pub(crate) async fn post(&mut self, head: &[u8], body: &[u8]) -> Result<u16> {
        let r = self.exchange(head, body).await;
        if r.is_err() {
            self.stream = None;
            self.body = 0..0;
        }
        r
    }

    /// The body of the last answer (empty after an error).
    pub(crate) fn body(&self) -> &[u8] {
        self.buf.get(self.body.clone()).unwrap_or_default()
    }

    async fn exchange(&mut self, head: &[u8], body: &[u8]) -> Result<u16> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(s);
        }
        let stream = self
            .stream
            .as_mut()
            .ok_or_else(|| anyhow!("no connection"))?;
        self.out.clear();
        self.out.extend_from_slice(head);
        self.out
            .extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        self.out.extend_from_slice(body);
        stream.write_all(&self.out).await?;
        self.buf.clear();
        loop {
            if stream.read_buf(&mut self.buf).await? == 0 {
                bail!("the server closed the connection");
            }
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut res = httparse::Response::new(&mut headers);
            let httparse::Status::Complete(head_len) = res.parse(&self.buf)? else {
                continue;
            };
            let status = res.code.ok_or_else(|| anyhow!("no status"))?;
            let len: usize = res
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.trim().parse().ok())
                .ok_or_else(|| anyhow!("answer without Content-Length"))?;
            let close = res.headers.iter().any(|h| {
                h.name.eq_ignore_ascii_case("connection") && h.value.eq_ignore_ascii_case(b"close")
            });
            while self.buf.len() < head_len + len {
                if stream.read_buf(&mut self.buf).await? == 0 {
                    bail!("the server closed the connection");
                }
            }
            if close {
                self.stream = None;
            }
            self.body = head_len..head_len + len;
            return Ok(status);
        }
    }
}
