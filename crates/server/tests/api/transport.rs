//! Slow and idle clients (issue 16 item 3): real sockets against the `server.*` limits, set
//! short. These wait in real time (a socket timeout runs on tokio's timer, not the test clock),
//! a few seconds in all.

use crate::common::*;
use sekisho_server::Transport;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: sekisho.test\r\n\r\n";

async fn spawn_transport(t: Transport) -> TestApp {
    spawn_with(Options {
        transport: t,
        ..Options::default()
    })
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.url.trim_start_matches("http://").to_owned();
    ok(TcpStream::connect(addr).await)
}

/// Reads one response (head and `Content-Length` body); `None` if the server closed first.
async fn response(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let len = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Some(text);
            }
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Waits (at most `within`) for the server to close `s`; how long that took, `None` if it
/// did not.
async fn closed_within(s: &mut TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut chunk = [0u8; 256];
    loop {
        match timeout(within.saturating_sub(start.elapsed()), s.read(&mut chunk)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(start.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

#[tokio::test]
async fn a_client_slow_with_its_header_is_disconnected() {
    let app = spawn_transport(Transport {
        header_read_timeout: Duration::from_secs(1),
        keep_alive_timeout: Duration::from_secs(5),
        ..Transport::default()
    })
    .await;
    // Half a head, then silence.
    let mut s = connect(&app).await;
    ok(s.write_all(b"GET /healthz HTTP/1.1\r\nHost: sek").await);
    let held = closed_within(&mut s, Duration::from_secs(4)).await;
    assert!(
        held.is_some_and(|d| d >= Duration::from_millis(900)),
        "a partial header must be cut after header_read_timeout (1 s), held {held:?}"
    );
    // Slowloris: a byte every 200 ms keeps arriving, yet the head must be whole in time.
    let mut s = connect(&app).await;
    let start = Instant::now();
    let mut cut = false;
    for b in b"GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if s.write_all(&[*b]).await.is_err() {
            cut = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if start.elapsed() > Duration::from_secs(4) {
            break;
        }
    }
    let held = if cut {
        Some(start.elapsed())
    } else {
        closed_within(&mut s, Duration::from_secs(1)).await
    };
    assert!(
        held.is_some_and(|d| d < Duration::from_secs(3)),
        "a trickled header must be cut too, held {held:?}"
    );
    // A connection that never sends anything is cut just as well.
    let mut s = connect(&app).await;
    assert!(closed_within(&mut s, Duration::from_secs(4))
        .await
        .is_some());
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_its_own_timeout() {
    let app = spawn_transport(Transport {
        header_read_timeout: Duration::from_secs(1),
        keep_alive_timeout: Duration::from_secs(2),
        ..Transport::default()
    })
    .await;
    let mut s = connect(&app).await;
    ok(s.write_all(HEALTHZ).await);
    assert!(response(&mut s).await.is_some_and(|r| r.contains("200 OK")));
    // Idle longer than the header timeout but within the keep-alive timeout: still open.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ok(s.write_all(HEALTHZ).await);
    assert!(
        response(&mut s).await.is_some_and(|r| r.contains("200 OK")),
        "idle time between requests is governed by keep_alive_timeout, not the header's"
    );
    let held = closed_within(&mut s, Duration::from_secs(5)).await;
    assert!(
        held.is_some_and(|d| d >= Duration::from_millis(1800)),
        "an idle connection must be closed after keep_alive_timeout (2 s), held {held:?}"
    );
}

#[tokio::test]
async fn the_connection_cap_holds_new_clients_while_open_ones_are_served() {
    let app = spawn_transport(Transport {
        max_connections: 2,
        ..Transport::default()
    })
    .await;
    let mut a = connect(&app).await;
    ok(a.write_all(HEALTHZ).await);
    assert!(response(&mut a).await.is_some());
    let mut b = connect(&app).await;
    ok(b.write_all(HEALTHZ).await);
    assert!(response(&mut b).await.is_some());
    // The third waits in the kernel's queue: connected, not answered.
    let mut c = connect(&app).await;
    ok(c.write_all(HEALTHZ).await);
    assert!(
        timeout(Duration::from_millis(700), response(&mut c))
            .await
            .is_err(),
        "connection 3 must wait while 2 (the cap) are open"
    );
    // The open ones are still served: health checks do not time out.
    ok(a.write_all(HEALTHZ).await);
    assert!(response(&mut a).await.is_some_and(|r| r.contains("200 OK")));
    // One closes: the waiting client is taken in and answered.
    drop(b);
    let answered = timeout(Duration::from_secs(3), response(&mut c)).await;
    assert!(
        answered.is_ok_and(|r| r.is_some_and(|r| r.contains("200 OK"))),
        "the waiting client is served once a connection closes"
    );
}
