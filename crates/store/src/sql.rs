//! The SQL implementation of [`Store`]. The same statements (with `$N` placeholders, which both
//! SQLite and PostgreSQL accept) run on both backends through sqlx's `Any` driver; only the
//! migrations and the connection setup differ.
//!
//! SQLite allows one writer at a time, so on SQLite writes go through a pool of one connection
//! (queueing in the process instead of failing with SQLITE_BUSY) while reads use a wider pool.
//! On PostgreSQL both are the same pool, and row locks taken by `UPDATE` serialise concurrent
//! changes to a login across instances.

use crate::codes::{
    start_committer, start_reader, start_token_reader, Accept, CodeCommitter, TargetReader,
    TokenReader, REGISTERED,
};
use crate::factors::CodeTarget;
use crate::sql_audit::{commit_audited, commit_audited_if};
use crate::sqlite_hot;
use crate::sqlite_hot::{SqliteHot, SqliteSynchronous};
use crate::tokens::OtpToken;
use crate::{
    ApiToken, AuditHead, Backend, ChainReport, ErasedCredentials, FactorSummary, FailureOutcome,
    LoginPatch, LoginQuery, NewLogin, NewSession, Store, StoreError, StoreResult,
};
use async_trait::async_trait;
use sekisho_core::audit::{AuditEvent, AuditFilter, NewAuditEvent};
use sekisho_core::audit_chain::{ChainPoint, ChainedRecord};
use sekisho_core::login::Login;
use sekisho_core::session::Session;
use sekisho_core::token::ApiScope;
use sekisho_core::Timestamp;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor, Row};
use std::sync::{Arc, Once};
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `sqlite:///path/to/file.db` or `postgres://user@host/db`.
    pub url: String,
    /// Upper bound on pooled connections (PostgreSQL; SQLite readers).
    pub max_connections: u32,
    /// How SQLite makes commits durable (ignored on PostgreSQL).
    pub sqlite_synchronous: SqliteSynchronous,
}

/// Connects, runs the embedded migrations, and returns the store.
pub async fn connect(opts: &ConnectOptions) -> StoreResult<Arc<dyn Store>> {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);

    let backend = if opts.url.starts_with("sqlite:") {
        Backend::Sqlite
    } else if opts.url.starts_with("postgres:") || opts.url.starts_with("postgresql:") {
        Backend::Postgres
    } else {
        return Err(StoreError::Backend(
            "database URL must start with sqlite: or postgres:".into(),
        ));
    };
    let store = match backend {
        Backend::Sqlite => {
            if let Some(path) = sqlite_hot::file_of(&opts.url) {
                let create = opts.url.contains("mode=rwc");
                crate::sqlite_files::keep_private(&path, create)?;
            }
            let sync = opts.sqlite_synchronous;
            let write = sqlite_pool(&opts.url, 1, sync).await?;
            SQLITE_MIGRATIONS.run(&write).await?;
            // SQLite's WAL has five reader slots; more readers than that, under constant
            // commits, fail to get one and back off in millisecond sleeps (measured: 8 readers
            // gave 200 validations/s at 32 clients, 3 readers 976/s).
            let read = sqlite_pool(&opts.url, opts.max_connections.clamp(1, 3), sync).await?;
            // Code validation runs on a thread of its own with its own connection to the file
            // (see `sqlite_hot`); an in-memory database has no file to share, so it keeps the
            // batched statements.
            let hot = match sqlite_hot::file_of(&opts.url) {
                Some(path) => HotPath::Sqlite(SqliteHot::start(&path, sync)?),
                None => HotPath::batched(&write, &read),
            };
            SqlStore {
                backend,
                url: opts.url.clone(),
                read,
                write,
                hot,
                tokens: None,
            }
        }
        Backend::Postgres => {
            crate::pg_reach::check_reachable(&opts.url, Duration::from_secs(10)).await?;
            // While PostgreSQL is out of reach (restarting, failing over) a request waits this
            // long for a connection, then is answered 503 `service_unavailable`; the pool opens
            // new connections by itself once the server is back.
            let pool = AnyPoolOptions::new()
                .max_connections(opts.max_connections.max(1))
                .acquire_timeout(Duration::from_secs(5))
                .connect(&opts.url)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            let hot = HotPath::Batched {
                codes: crate::pg_hot::start_committer(&opts.url).await?,
                targets: start_reader(pool.clone()),
            };
            SqlStore {
                backend,
                url: opts.url.clone(),
                read: pool.clone(),
                hot,
                tokens: Some(start_token_reader(pool.clone())),
                write: pool,
            }
        }
    };
    Ok(Arc::new(store))
}

async fn sqlite_pool(url: &str, max: u32, sync: SqliteSynchronous) -> StoreResult<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _| {
            Box::pin(async move {
                // WAL with synchronous=NORMAL: a commit survives a crash of the process (it is in
                // the WAL file before the call returns); only a power loss can drop the last ones
                // (FULL also syncs the WAL at every commit).
                let synchronous = format!("PRAGMA synchronous={}", sync.as_str());
                for pragma in [
                    "PRAGMA journal_mode=WAL",
                    synchronous.as_str(),
                    "PRAGMA busy_timeout=10000",
                    "PRAGMA foreign_keys=ON",
                ] {
                    conn.execute(pragma).await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

pub(crate) struct SqlStore {
    backend: Backend,
    /// The database URL, for the bulk loads that go around sqlx (`seed_audit`).
    pub(crate) url: String,
    pub(crate) read: AnyPool,
    pub(crate) write: AnyPool,
    /// Code validation's reads and commits.
    hot: HotPath,
    /// Logins' registered tokens, read in groups (PostgreSQL; SQLite reads them directly).
    tokens: Option<TokenReader>,
}

/// Where code validation's reads and commits go.
enum HotPath {
    /// Batched sqlx statements (PostgreSQL, with its own committer; in-memory SQLite).
    Batched {
        /// Accepted one-time codes, committed in groups.
        codes: CodeCommitter,
        /// Logins with their authenticator apps, read in groups.
        targets: TargetReader,
    },
    /// A thread owning its own connection to the SQLite file.
    Sqlite(SqliteHot),
}

impl HotPath {
    fn batched(write: &AnyPool, read: &AnyPool) -> HotPath {
        HotPath::Batched {
            codes: start_committer(write.clone()),
            targets: start_reader(read.clone()),
        }
    }
}

impl SqlStore {
    /// Begins a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`): the code-validation thread is a second writer, and a deferred transaction
    /// that reads first could not upgrade to a write after that thread committed
    /// (SQLITE_BUSY_SNAPSHOT, which no busy timeout retries).
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.write.begin().await,
        }
    }

    /// The login with its active authenticator app (the hot path's read).
    pub(crate) async fn hot_code_target(&self, login_id: &str) -> StoreResult<Option<CodeTarget>> {
        match &self.hot {
            HotPath::Batched { targets, .. } => targets.call(login_id.to_owned()).await,
            HotPath::Sqlite(t) => t.code_target(login_id).await,
        }
    }

    /// The login's registered token (the hot path's read of a token login).
    pub(crate) async fn hot_registered_token(
        &self,
        login_pk: i64,
    ) -> StoreResult<Option<OtpToken>> {
        if let Some(tokens) = &self.tokens {
            return tokens.call(login_pk).await;
        }
        let sql = format!(
            "SELECT {} FROM {} WHERE t.login_pk = $1 AND {REGISTERED} ORDER BY t.token_id LIMIT 1",
            crate::sql_tokens::TOKEN_COLS,
            crate::sql_tokens::FROM
        );
        let row = sqlx::query(&sql)
            .bind(login_pk)
            .fetch_optional(&self.read)
            .await?;
        Ok(row
            .as_ref()
            .map(crate::sql_tokens::token_from_row)
            .transpose()?)
    }

    /// Records an accepted code (the hot path's commit).
    pub(crate) async fn hot_accept(&self, accept: Accept) -> StoreResult<bool> {
        match &self.hot {
            HotPath::Batched { codes, .. } => codes.call(accept).await,
            HotPath::Sqlite(t) => t.accept(accept).await,
        }
    }
}

/// A row that counts consecutive failures and locks at a threshold.
#[derive(Clone, Copy)]
pub(crate) enum Counter {
    /// Password failures of a login.
    Password,
    /// Wrong codes of a second factor.
    Factor,
    /// Wrong codes of a hardware or software token.
    Token,
    /// Wrong passwords of an operator.
    OperatorPassword,
    /// Wrong codes of an operator.
    OperatorCode,
    /// Wrong recovery codes of a login (the set's row has the login's key).
    Recovery,
}

impl Counter {
    fn table_and_column(self) -> (&'static str, &'static str) {
        match self {
            Counter::Password => ("logins", "failed_logins"),
            Counter::Factor => ("otp_factors", "failed_attempts"),
            Counter::Token => ("tokens", "failed_attempts"),
            Counter::OperatorPassword => ("operators", "failed_logins"),
            Counter::OperatorCode => ("operators", "failed_codes"),
            Counter::Recovery => ("recovery_code_sets", "failed_attempts"),
        }
    }
}

/// A statement ready to run on the `Any` driver.
pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl SqlStore {
    /// Runs one change and, only if it touched a row, writes its audit record, in one
    /// transaction; returns whether a row changed.
    pub(crate) async fn change_audited(
        &self,
        change: AnyQuery<'_>,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = change.execute(&mut *tx).await?.rows_affected() > 0;
        commit_audited_if(tx, done, audit).await
    }

    /// Counts one failure atomically and locks the row when the count reaches `threshold`;
    /// `lock_audit` is written only by the failure that locks it. The increment takes the row
    /// lock (PostgreSQL) or the write lock (SQLite), so the count is exact under any
    /// concurrency and only one failure can find the row unlocked.
    pub(crate) async fn count_failure(
        &self,
        counter: Counter,
        id: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome> {
        let (table, column) = counter.table_and_column();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(&format!(
            "UPDATE {table} SET {column} = {column} + 1 WHERE id = $1 RETURNING {column}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Conflict)?;
        let failed_logins: i64 = row.try_get(column)?;
        let newly_locked = sqlx::query(&format!(
            "UPDATE {table} SET locked_at = $2 WHERE id = $1 AND locked_at IS NULL AND {column} >= $3"
        ))
        .bind(id)
        .bind(now.0)
        .bind(i64::from(threshold))
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        let audits: &[&NewAuditEvent] = if newly_locked {
            &[audit, lock_audit]
        } else {
            &[audit]
        };
        commit_audited(tx, audits).await?;
        Ok(FailureOutcome {
            failed_logins,
            newly_locked,
        })
    }
}

pub(crate) fn ts(r: &AnyRow, col: &str) -> Result<Timestamp, sqlx::Error> {
    r.try_get::<i64, _>(col).map(Timestamp)
}

pub(crate) fn opt_ts(r: &AnyRow, col: &str) -> Result<Option<Timestamp>, sqlx::Error> {
    r.try_get::<Option<i64>, _>(col).map(|v| v.map(Timestamp))
}

/// Reads a column holding the stored name of one of a closed set (a role, a kind, an
/// algorithm); a name this version does not know reads as `unknown`, the meaning its readers
/// gave it when they parsed the text themselves.
pub(crate) fn named<T>(
    r: &AnyRow,
    col: &str,
    parse: impl Fn(&str) -> Option<T>,
    unknown: T,
) -> Result<T, sqlx::Error> {
    Ok(parse(r.try_get::<&str, _>(col)?).unwrap_or(unknown))
}

// The methods live with what they are about (`sql_logins`, `sql_sessions`, `sql_api_tokens`,
// `sql_audit`, …); this impl only routes the trait to them.
#[async_trait]
impl Store for SqlStore {
    async fn backup_into(&self, path: &std::path::Path) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => {
                let target = path.to_str().ok_or_else(|| {
                    StoreError::Backend(format!("backup path {} is not UTF-8", path.display()))
                })?;
                sqlx::query("VACUUM INTO ?")
                    .bind(target.to_owned())
                    .execute(&self.read)
                    .await?;
                Ok(())
            }
            Backend::Postgres => Err(StoreError::Backend(
                "a PostgreSQL database is backed up with pg_dump (docs/operations.md, Backups)"
                    .into(),
            )),
        }
    }

    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn create_login(&self, new: &NewLogin, audit: &NewAuditEvent) -> StoreResult<Login> {
        SqlStore::create_login(self, new, audit).await
    }

    async fn get_login(&self, login_id: &str) -> StoreResult<Option<Login>> {
        SqlStore::get_login(self, login_id).await
    }

    async fn list_logins(&self, query: &LoginQuery) -> StoreResult<Vec<Login>> {
        SqlStore::list_logins(self, query).await
    }

    async fn update_login(
        &self,
        login_id: &str,
        patch: &LoginPatch,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<Login>> {
        SqlStore::update_login(self, login_id, patch, now, audit).await
    }

    async fn delete_login(&self, login_id: &str, audit: &NewAuditEvent) -> StoreResult<bool> {
        SqlStore::delete_login(self, login_id, audit).await
    }

    async fn password_history(&self, login_pk: i64, n: usize) -> StoreResult<Vec<String>> {
        SqlStore::password_history(self, login_pk, n).await
    }

    async fn rehash_password(
        &self,
        owner: crate::PasswordOwner,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool> {
        SqlStore::rehash_password(self, owner, old_hash, new_hash).await
    }

    async fn set_password(
        &self,
        login_pk: i64,
        password_hash: &str,
        temporary: bool,
        now: Timestamp,
        keep_session: Option<i64>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()> {
        SqlStore::set_password(
            self,
            login_pk,
            password_hash,
            temporary,
            now,
            keep_session,
            audit,
        )
        .await
    }

    async fn record_password_failure(
        &self,
        login_pk: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome> {
        SqlStore::record_password_failure(self, login_pk, threshold, now, audit, lock_audit).await
    }

    async fn unlock_login(
        &self,
        login_id: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>> {
        SqlStore::unlock_login(self, login_id, now, audit).await
    }

    async fn create_session(
        &self,
        new: &NewSession,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<Session>> {
        SqlStore::create_session(self, new, audit).await
    }

    async fn newest_session_id(&self) -> StoreResult<i64> {
        SqlStore::newest_session_id(self).await
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        SqlStore::get_session(self, token_hash).await
    }

    async fn touch_session(&self, session_id: i64, now: Timestamp) -> StoreResult<()> {
        SqlStore::touch_session(self, session_id, now).await
    }

    async fn revoke_session(
        &self,
        session_id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        SqlStore::revoke_session(self, session_id, now, audit).await
    }

    async fn revoke_login_sessions(
        &self,
        login_pk: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<u64> {
        SqlStore::revoke_login_sessions(self, login_pk, now, audit).await
    }

    async fn list_sessions(&self, login_pk: i64, now: Timestamp) -> StoreResult<Vec<Session>> {
        SqlStore::list_sessions(self, login_pk, now).await
    }

    async fn purge_sessions(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        SqlStore::purge_sessions(self, before, limit).await
    }

    async fn create_api_token(
        &self,
        name: &str,
        scope: ApiScope,
        token_hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<ApiToken> {
        SqlStore::create_api_token(self, name, scope, token_hash, now, audit).await
    }

    async fn find_api_token(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        SqlStore::find_api_token(self, token_hash).await
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        SqlStore::list_api_tokens(self).await
    }

    async fn revoke_api_token(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>> {
        SqlStore::revoke_api_token(self, id, now, audit).await
    }

    async fn append_audit(&self, event: &NewAuditEvent) -> StoreResult<()> {
        SqlStore::append_audit(self, event).await
    }

    async fn factor_summaries(&self, login_pks: &[i64]) -> StoreResult<Vec<FactorSummary>> {
        SqlStore::factor_summaries(self, login_pks).await
    }

    async fn erase_credentials(
        &self,
        login_pk: i64,
        password: bool,
        second_factor: bool,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<ErasedCredentials> {
        self.erase(login_pk, password, second_factor, now, audit)
            .await
    }

    async fn seed_logins(&self, seeds: &[crate::SeedLogin]) -> StoreResult<()> {
        self.seed(seeds).await
    }

    async fn verify_audit_chain_from(
        &self,
        from: Option<&ChainPoint>,
        page: u32,
    ) -> StoreResult<ChainReport> {
        self.verify_chain(from, page).await
    }

    async fn audit_head(&self) -> StoreResult<AuditHead> {
        SqlStore::audit_head(self).await
    }

    async fn audit_records(
        &self,
        after: i64,
        through: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChainedRecord>> {
        SqlStore::audit_records(self, after, through, limit).await
    }

    async fn first_audit_since(&self, after: i64, time: Timestamp) -> StoreResult<Option<i64>> {
        SqlStore::first_audit_since(self, after, time).await
    }

    async fn drop_archived_audit(
        &self,
        from: &ChainPoint,
        through: &ChainPoint,
        audit: &NewAuditEvent,
    ) -> StoreResult<u64> {
        SqlStore::drop_archived_audit(self, from, through, audit).await
    }

    async fn seed_audit(&self, events: &[NewAuditEvent]) -> StoreResult<()> {
        self.seed_audit_bulk(events).await
    }

    async fn query_audit(&self, f: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
        SqlStore::query_audit(self, f).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pooled SQLite connection runs with WAL, NORMAL sync (no fsync per commit), a busy
    /// timeout and foreign keys, as the design relies on.
    #[tokio::test]
    async fn sqlite_connections_have_the_pragmas() {
        static DRIVERS: Once = Once::new();
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let url = crate::testing::sqlite_url(dir.path());
        let pool = sqlite_pool(&url, 2, SqliteSynchronous::Normal)
            .await
            .unwrap_or_else(|e| unreachable!("{e}"));
        let one = |sql: &'static str| {
            let pool = pool.clone();
            async move {
                let row = sqlx::query(sql)
                    .fetch_one(&pool)
                    .await
                    .unwrap_or_else(|e| unreachable!("{e}"));
                row.try_get::<String, _>(0)
                    .or_else(|_| row.try_get::<i64, _>(0).map(|v| v.to_string()))
                    .unwrap_or_default()
            }
        };
        assert_eq!(one("PRAGMA journal_mode").await, "wal");
        assert_eq!(one("PRAGMA synchronous").await, "1", "NORMAL");
        assert_eq!(one("PRAGMA busy_timeout").await, "10000");
        assert_eq!(one("PRAGMA foreign_keys").await, "1");

        // The code-validation connection has the same settings, and FULL when asked for.
        for (sync, want) in [(SqliteSynchronous::Normal, 1), (SqliteSynchronous::Full, 2)] {
            let path = sqlite_hot::file_of(&url).unwrap_or_else(|| unreachable!("a file"));
            let conn = sqlite_hot::open(&path, sync).unwrap_or_else(|e| unreachable!("{e}"));
            let get = |p: &str| {
                conn.query_row(&format!("PRAGMA {p}"), [], |r| {
                    r.get::<_, rusqlite::types::Value>(0)
                })
                .unwrap_or_else(|e| unreachable!("{e}"))
            };
            use rusqlite::types::Value;
            assert_eq!(get("journal_mode"), Value::Text("wal".into()));
            assert_eq!(get("synchronous"), Value::Integer(want));
            assert_eq!(get("busy_timeout"), Value::Integer(10_000));
            assert_eq!(get("foreign_keys"), Value::Integer(1));
        }
    }
}
