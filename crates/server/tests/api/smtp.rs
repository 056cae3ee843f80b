//! A small SMTP server for the tests: it speaks enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET,
//! NOOP, QUIT) for the app's real SMTP client, keeps every message, and lets a test wait for the
//! next message to an address.

use crate::common::ok;
use base64::Engine;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// A message as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: Vec<String>,
    pub data: String,
}

impl Received {
    /// The decoded text of the part with this content type (`text/plain`, `text/html`).
    pub fn part(&self, content_type: &str) -> String {
        let Some(start) = self.data.find(&format!("Content-Type: {content_type}")) else {
            return String::new();
        };
        let rest = &self.data[start..];
        let (headers, body) = rest.split_once("\r\n\r\n").unwrap_or((rest, ""));
        let body = body.split("\r\n--").next().unwrap_or("");
        let encoding = headers
            .lines()
            .find_map(|l| l.strip_prefix("Content-Transfer-Encoding: "))
            .unwrap_or("7bit")
            .trim()
            .to_ascii_lowercase();
        match encoding.as_str() {
            "base64" => {
                let compact: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .unwrap_or_default();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            "quoted-printable" => quoted_printable(body),
            _ => body.to_owned(),
        }
    }

    /// The plain-text part.
    pub fn text(&self) -> String {
        self.part("text/plain")
    }

    /// The first run of `n` digits in the text part (the code a customer would type).
    pub fn code(&self, n: usize) -> String {
        let text = self.text();
        let chars: Vec<char> = text.chars().collect();
        chars
            .windows(n)
            .enumerate()
            .find(|(i, w)| {
                w.iter().all(|c| c.is_ascii_digit())
                    && (*i == 0 || !chars[i - 1].is_ascii_digit())
                    && chars.get(i + n).is_none_or(|c| !c.is_ascii_digit())
            })
            .map(|(_, w)| w.iter().collect())
            .unwrap_or_default()
    }
}

fn quoted_printable(s: &str) -> String {
    let mut out = Vec::new();
    let bytes = s.replace("=\r\n", "").into_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Default)]
struct Inbox {
    messages: Mutex<Vec<Received>>,
    arrived: Notify,
}

/// The running test SMTP server.
pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Inbox>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        let server = SmtpServer::down().await;
        server.up().await;
        server
    }

    /// A server that is down (nothing listens on its port) until [`SmtpServer::up`].
    pub async fn down() -> SmtpServer {
        SmtpServer {
            port: closed_port().await,
            inbox: Arc::new(Inbox::default()),
        }
    }

    /// Starts listening on the server's port.
    pub async fn up(&self) {
        let listener = ok(TcpListener::bind(("127.0.0.1", self.port)).await);
        let shared = self.inbox.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, shared.clone()));
            }
        });
    }

    /// Waits (at most `secs` seconds) for the next message to `address` and takes it.
    pub async fn next_for(&self, address: &str, secs: u64) -> Received {
        self.next_of(address, None, secs).await
    }

    /// Waits for the next message of this kind (`X-Sekisho-Kind`, e.g. `email_code`) to
    /// `address` and takes it, leaving other mails to that address in place.
    pub async fn next_kind(&self, address: &str, kind: &str, secs: u64) -> Received {
        self.next_of(address, Some(kind), secs).await
    }

    async fn next_of(&self, address: &str, kind: Option<&str>, secs: u64) -> Received {
        let wait = async {
            loop {
                let arrived = self.inbox.arrived.notified();
                if let Some(m) = self.take(address, kind) {
                    return m;
                }
                arrived.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(secs), wait)
            .await
            .unwrap_or_else(|_| unreachable!("no mail ({kind:?}) to {address} within {secs} s"))
    }

    fn take(&self, address: &str, kind: Option<&str>) -> Option<Received> {
        let mut messages = self
            .inbox
            .messages
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let header = kind.map(|k| format!("X-Sekisho-Kind: {k}\r\n"));
        let i = messages.iter().position(|m| {
            m.to.iter().any(|t| t == address)
                && header.as_ref().is_none_or(|h| m.data.contains(h.as_str()))
        })?;
        Some(messages.remove(i))
    }

    /// Messages to `address` received and not yet taken.
    pub fn count_for(&self, address: &str) -> usize {
        let messages = self
            .inbox
            .messages
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        messages
            .iter()
            .filter(|m| m.to.iter().any(|t| t == address))
            .count()
    }
}

/// A local port where nothing listens.
pub async fn closed_port() -> u16 {
    let l = ok(TcpListener::bind("127.0.0.1:0").await);
    ok(l.local_addr()).port()
}

fn angle(arg: &str) -> String {
    let a = arg.split_once(':').map(|(_, v)| v).unwrap_or(arg).trim();
    let a = a.split_whitespace().next().unwrap_or("");
    a.trim_start_matches('<').trim_end_matches('>').to_owned()
}

async fn session(stream: TcpStream, inbox: Arc<Inbox>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sekisho-test ESMTP\r\n").await?;
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let verb = cmd.get(..4).unwrap_or(&cmd).to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sekisho-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 sekisho-test\r\n",
            "MAIL" => {
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(angle(&cmd));
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let l = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(l);
                }
                inbox
                    .messages
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Received {
                        to: std::mem::take(&mut to),
                        data,
                    });
                inbox.arrived.notify_waiters();
                b"250 queued\r\n"
            }
            "RSET" => {
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}
