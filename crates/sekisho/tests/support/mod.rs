//! What the real-process tests share: starting the binary without the tests' own variables,
//! waiting for it, and killing it when a test ends.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_sekisho");

pub fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| unreachable!("{e:?}"))
}

/// A running `sekisho` process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    let l = ok(std::net::TcpListener::bind("127.0.0.1:0"));
    ok(l.local_addr()).port()
}

/// The binary, run in `cwd`, without the tests' own `SEKISHO_*` variables (which would be
/// configuration to it).
pub fn sekisho(cwd: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(cwd);
    for (k, _) in std::env::vars() {
        if k.starts_with("SEKISHO_") {
            c.env_remove(k);
        }
    }
    c
}

/// Waits until `/readyz` answers 200.
// A real server process starts in real time; this bounds the wait, it is not domain time.
#[allow(clippy::disallowed_methods)]
pub async fn wait_ready(url: &str, server: &mut Server) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = reqwest::get(format!("{url}/readyz")).await {
            if r.status() == 200 {
                return;
            }
        }
        if let Ok(Some(status)) = server.0.try_wait() {
            unreachable!("server exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!("server not ready within 30 s");
}
