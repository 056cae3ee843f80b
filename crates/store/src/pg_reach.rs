//! The first PostgreSQL connection at start, made on its own: a pool's `connect` retries a
//! refused connection until its acquire timeout and then reports only "pool timed out", which
//! hides the cause (issue 16, item 10). One direct attempt first names the address and what
//! went wrong (refused, unknown host, authentication failed, no answer).

use crate::{StoreError, StoreResult};
use sqlx::Connection;
use std::time::Duration;

/// Connects once to `url` and closes the connection; an error names the host and port.
pub(crate) async fn check_reachable(url: &str, timeout: Duration) -> StoreResult<()> {
    let fail = |why: String| {
        StoreError::Backend(format!(
            "cannot connect to PostgreSQL at {}: {why}",
            address(url)
        ))
    };
    match tokio::time::timeout(timeout, sqlx::AnyConnection::connect(url)).await {
        Ok(Ok(conn)) => {
            // Closing politely is a courtesy; the check has already succeeded.
            let _ = conn.close().await;
            Ok(())
        }
        Ok(Err(e)) => Err(fail(e.to_string())),
        Err(_) => Err(fail(format!("no answer within {} s", timeout.as_secs()))),
    }
}

/// `host:port` of a `postgres://` URL, without user or password (5432 when no port is given).
fn address(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.is_empty() {
        "the default host".to_owned()
    } else if host_port.ends_with(']') || !host_port.contains(':') {
        format!("{host_port}:5432")
    } else {
        host_port.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_never_shows_the_password() {
        assert_eq!(
            address("postgres://u:secret@db.example:6543/x"),
            "db.example:6543"
        );
        assert_eq!(address("postgres://postgres@127.0.0.1:1/x"), "127.0.0.1:1");
        assert_eq!(address("postgresql://db/x?sslmode=require"), "db:5432");
        assert_eq!(address("postgres://u@[::1]/x"), "[::1]:5432");
        assert_eq!(address("postgres:///x?host=/run/pg"), "the default host");
    }
}
