//! Test databases: a fresh SQLite file or a fresh PostgreSQL database per test.

use std::path::Path;

/// The URL of a SQLite database file in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("sekisho.db").display())
}

/// The PostgreSQL server for tests, from `SEKISHO_TEST_DATABASE_URL`; `None` when unset.
pub fn postgres_base_url() -> Option<String> {
    std::env::var("SEKISHO_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Creates an empty database named `sks_test_<suffix>` (or `sks_test_<tag>_<suffix>` when
/// `SEKISHO_TEST_DB_TAG` is set, so that two checkouts can test against one server at once)
/// on the test server and returns its URL;
/// `None` when no test server is configured. Panics (failing the test) if the server is
/// configured but unreachable, so a broken CI database cannot pass silently.
#[allow(clippy::panic)]
pub async fn fresh_postgres_url(suffix: &str) -> Option<String> {
    use sqlx::Connection;
    let base = postgres_base_url()?;
    let name = match std::env::var("SEKISHO_TEST_DB_TAG") {
        // Only letters, digits and `_` make an unquoted PostgreSQL name (`a-b` would not).
        Ok(tag) if !tag.is_empty() => {
            let tag: String = tag
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            format!("sks_test_{tag}_{suffix}")
        }
        _ => format!("sks_test_{suffix}"),
    };
    let mut conn = match sqlx::PgConnection::connect(&base).await {
        Ok(c) => c,
        Err(e) => panic!("SEKISHO_TEST_DATABASE_URL is set but unreachable: {e}"),
    };
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    let create = format!("CREATE DATABASE {name}");
    if let Err(e) = sqlx::Executor::execute(&mut conn, drop.as_str()).await {
        panic!("cannot drop test database: {e}");
    }
    if let Err(e) = sqlx::Executor::execute(&mut conn, create.as_str()).await {
        panic!("cannot create test database: {e}");
    }
    let (head, _) = base.rsplit_once('/').unwrap_or((base.as_str(), ""));
    let head = if head.ends_with('/') || head.ends_with(':') {
        base.as_str()
    } else {
        head
    };
    Some(format!("{head}/{name}"))
}
