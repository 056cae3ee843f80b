//! The SQL implementation of [`Store`]. The same statements (with `$N` placeholders, which both
//! SQLite and PostgreSQL accept) run on both backends through sqlx's `Any` driver; only the
//! migrations and the connection setup differ.
//!
//! SQLite allows one writer at a time, so on SQLite writes go through a pool of one connection
//! (queueing in the process instead of failing with SQLITE_BUSY) while reads use a wider pool.
//! On PostgreSQL both are the same pool, and row locks taken by `UPDATE` serialise concurrent
//! changes to a login across instances.

use crate::codes::{start_committer, start_reader, Accept, CodeCommitter, TargetReader};
use crate::factors::CodeTarget;
use crate::sqlite_hot;
use crate::sqlite_hot::{SqliteHot, SqliteSynchronous};
use crate::{
    ApiToken, Backend, ChainReport, ErasedCredentials, FactorSummary, FailureOutcome, LoginPatch,
    LoginQuery, NewLogin, NewSession, Store, StoreError, StoreResult,
};
use async_trait::async_trait;
use sekisho_core::audit::{Actor, AuditEvent, AuditFilter, NewAuditEvent};
use sekisho_core::login::{Login, SecondFactor};
use sekisho_core::session::{Session, SessionPurpose};
use sekisho_core::{Lang, Timestamp};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Executor, Row};
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
            let sync = opts.sqlite_synchronous;
            let write = sqlite_pool(&opts.url, 1, sync).await?;
            SQLITE_MIGRATIONS.run(&write).await.map_err(backend_err)?;
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
                read,
                write,
                hot,
            }
        }
        Backend::Postgres => {
            let pool = AnyPoolOptions::new()
                .max_connections(opts.max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect(&opts.url)
                .await
                .map_err(db_err)?;
            POSTGRES_MIGRATIONS.run(&pool).await.map_err(backend_err)?;
            SqlStore {
                backend,
                read: pool.clone(),
                hot: HotPath::batched(&pool, &pool),
                write: pool,
            }
        }
    };
    Ok(Arc::new(store))
}

async fn sqlite_pool(url: &str, max: u32, sync: SqliteSynchronous) -> StoreResult<AnyPool> {
    AnyPoolOptions::new()
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
        .await
        .map_err(db_err)
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Backend(e.to_string()),
    }
}

fn backend_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

pub(crate) struct SqlStore {
    backend: Backend,
    pub(crate) read: AnyPool,
    pub(crate) write: AnyPool,
    /// Code validation's reads and commits.
    hot: HotPath,
}

/// Where code validation's reads and commits go.
enum HotPath {
    /// Batched sqlx statements (PostgreSQL, in-memory SQLite).
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
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let done = change
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected()
            > 0;
        if done {
            insert_audit(&mut tx, audit).await.map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
        }
        Ok(done)
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
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let row = sqlx::query(&format!(
            "UPDATE {table} SET {column} = {column} + 1 WHERE id = $1 RETURNING {column}"
        ))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or(StoreError::Conflict)?;
        let failed_logins: i64 = row.try_get(column).map_err(db_err)?;
        let newly_locked = sqlx::query(&format!(
            "UPDATE {table} SET locked_at = $2 WHERE id = $1 AND locked_at IS NULL AND {column} >= $3"
        ))
        .bind(id)
        .bind(now.0)
        .bind(i64::from(threshold))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            > 0;
        insert_audit(&mut tx, audit).await.map_err(db_err)?;
        if newly_locked {
            insert_audit(&mut tx, lock_audit).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(FailureOutcome {
            failed_logins,
            newly_locked,
        })
    }
}

const LOGIN_COLS: &str =
    "id, login_id, display_name, email, code_email, notify_login, lang, second_factor, mfa_required, \
    disabled, failed_logins, locked_at, password_hash, password_changed_at, password_temporary, \
    created_at, updated_at, last_login_at";

const SESSION_COLS: &str = "s.id, s.login_pk, l.login_id, s.purpose, s.methods, s.created_at, \
    s.last_seen_at, s.expires_at, s.revoked_at, s.client_ip, s.user_agent";

pub(crate) fn ts(r: &AnyRow, col: &str) -> Result<Timestamp, sqlx::Error> {
    r.try_get::<i64, _>(col).map(Timestamp)
}

pub(crate) fn opt_ts(r: &AnyRow, col: &str) -> Result<Option<Timestamp>, sqlx::Error> {
    r.try_get::<Option<i64>, _>(col).map(|v| v.map(Timestamp))
}

fn flag(r: &AnyRow, col: &str) -> Result<bool, sqlx::Error> {
    r.try_get::<i64, _>(col).map(|v| v != 0)
}

fn login_from_row(r: &AnyRow) -> Result<Login, sqlx::Error> {
    Ok(Login {
        id: r.try_get("id")?,
        login_id: r.try_get("login_id")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        code_email: r.try_get("code_email")?,
        notify_login: r.try_get::<Option<i64>, _>("notify_login")?.map(|v| v != 0),
        lang: Lang::parse(&r.try_get::<String, _>("lang")?).unwrap_or_default(),
        second_factor: SecondFactor::parse(&r.try_get::<String, _>("second_factor")?)
            .unwrap_or_default(),
        mfa_required: flag(r, "mfa_required")?,
        disabled: flag(r, "disabled")?,
        failed_logins: r.try_get("failed_logins")?,
        locked_at: opt_ts(r, "locked_at")?,
        password_hash: r.try_get("password_hash")?,
        password_changed_at: opt_ts(r, "password_changed_at")?,
        password_temporary: flag(r, "password_temporary")?,
        created_at: ts(r, "created_at")?,
        updated_at: ts(r, "updated_at")?,
        last_login_at: opt_ts(r, "last_login_at")?,
    })
}

fn session_from_row(r: &AnyRow) -> Result<Session, sqlx::Error> {
    let methods: String = r.try_get("methods")?;
    Ok(Session {
        id: r.try_get("id")?,
        login_pk: r.try_get("login_pk")?,
        login_id: r.try_get("login_id")?,
        purpose: SessionPurpose::parse(&r.try_get::<String, _>("purpose")?),
        methods: methods
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        created_at: ts(r, "created_at")?,
        last_seen_at: ts(r, "last_seen_at")?,
        expires_at: ts(r, "expires_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
        client_ip: r.try_get("client_ip")?,
        user_agent: r.try_get("user_agent")?,
    })
}

fn token_from_row(r: &AnyRow) -> Result<ApiToken, sqlx::Error> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        scope: r.try_get("scope")?,
        created_at: ts(r, "created_at")?,
        revoked_at: opt_ts(r, "revoked_at")?,
    })
}

fn audit_from_row(r: &AnyRow) -> Result<AuditEvent, sqlx::Error> {
    let kind: String = r.try_get("actor_kind")?;
    let id: String = r.try_get("actor_id")?;
    Ok(AuditEvent {
        event_id: r.try_get("id")?,
        time: ts(r, "time")?,
        login_id: r.try_get("login_id")?,
        login_name: r.try_get("login_name")?,
        actor: Actor::from_parts(&kind, &id),
        event_group: r.try_get("event_group")?,
        event_type: r.try_get("event_type")?,
        description: r.try_get("description")?,
        error_code: r.try_get("error_code")?,
        client_ip: r.try_get("client_ip")?,
        user_agent: r.try_get("user_agent")?,
    })
}

/// Finishes a write transaction whose statement changed a row (`changed`) or not: with its
/// audit record and a commit when it did, dropped (rolled back) when it did not. Says which.
pub(crate) async fn commit_audited_if(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    changed: bool,
    audit: &NewAuditEvent,
) -> StoreResult<bool> {
    if !changed {
        return Ok(false);
    }
    insert_audit(&mut tx, audit).await.map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(crate) async fn insert_audit(
    conn: &mut AnyConnection,
    ev: &NewAuditEvent,
) -> Result<(), sqlx::Error> {
    insert_audits(conn, &[ev]).await
}

pub(crate) use crate::sql_audit::insert_audits;

/// `($1, $2, …), ($k+1, …), …`: `rows` groups of `width` placeholders.
pub(crate) fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|i| {
            let p: Vec<String> = (1..=width).map(|k| format!("${}", i * width + k)).collect();
            format!("({})", p.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value bound into a statement assembled at run time.
pub(crate) enum Val {
    I(i64),
    S(String),
}

/// Collects `WHERE` conditions and their values, numbering placeholders as it goes.
#[derive(Default)]
pub(crate) struct Conditions {
    sql: Vec<String>,
    pub(crate) vals: Vec<Val>,
}

impl Conditions {
    /// Adds a condition; `{}` in `cond` stands for the placeholder of `val`.
    pub(crate) fn push(&mut self, cond: &str, val: Val) {
        self.vals.push(val);
        let ph = format!("${}", self.vals.len());
        self.sql.push(cond.replace("{}", &ph));
    }

    pub(crate) fn push_plain(&mut self, cond: &str) {
        self.sql.push(cond.to_owned());
    }

    pub(crate) fn next_placeholder(&self) -> String {
        format!("${}", self.vals.len() + 1)
    }

    pub(crate) fn where_clause(&self) -> String {
        if self.sql.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.sql.join(" AND "))
        }
    }
}

pub(crate) fn bind_all<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    vals: Vec<Val>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for v in vals {
        q = match v {
            Val::I(i) => q.bind(i),
            Val::S(s) => q.bind(s),
        };
    }
    q
}

fn like_pattern(q: &str) -> String {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn create_login(&self, new: &NewLogin, audit: &NewAuditEvent) -> StoreResult<Login> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let row = sqlx::query(&format!(
            "INSERT INTO logins (login_id, display_name, email, lang, second_factor, mfa_required, \
             created_at, updated_at, notify_login) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) \
             RETURNING {LOGIN_COLS}"
        ))
        .bind(new.login_id.clone())
        .bind(new.display_name.clone())
        .bind(new.email.clone())
        .bind(new.lang.as_str())
        .bind(new.second_factor.as_str())
        .bind(i64::from(new.mfa_required))
        .bind(new.now.0)
        .bind(new.notify_login.map(i64::from))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let login = login_from_row(&row).map_err(db_err)?;
        insert_audit(&mut tx, audit).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(login)
    }

    async fn get_login(&self, login_id: &str) -> StoreResult<Option<Login>> {
        let row = sqlx::query(&format!(
            "SELECT {LOGIN_COLS} FROM logins WHERE login_id = $1"
        ))
        .bind(login_id.to_owned())
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.map(|r| login_from_row(&r)).transpose().map_err(db_err)
    }

    async fn list_logins(&self, query: &LoginQuery) -> StoreResult<Vec<Login>> {
        let mut c = Conditions::default();
        if let Some(q) = query.q.as_deref().filter(|q| !q.is_empty()) {
            c.push(
                "(lower(login_id) LIKE {} ESCAPE '\\' OR lower(display_name) LIKE {} ESCAPE '\\' \
                 OR lower(email) LIKE {} ESCAPE '\\')",
                Val::S(like_pattern(q)),
            );
        }
        match query.locked {
            Some(true) => c.push_plain("locked_at IS NOT NULL"),
            Some(false) => c.push_plain("locked_at IS NULL"),
            None => {}
        }
        if let Some(after) = &query.after {
            c.push("login_id > {}", Val::S(after.clone()));
        }
        let limit = c.next_placeholder();
        let sql = format!(
            "SELECT {LOGIN_COLS} FROM logins{} ORDER BY login_id LIMIT {limit}",
            c.where_clause()
        );
        let rows = bind_all(sqlx::query(&sql), c.vals)
            .bind(i64::from(query.limit.clamp(1, 1000)))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(login_from_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn update_login(
        &self,
        login_id: &str,
        patch: &LoginPatch,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<Login>> {
        let mut sets: Vec<String> = Vec::new();
        let mut vals: Vec<Val> = Vec::new();
        let mut set = |col: &str, v: Val| {
            vals.push(v);
            sets.push(format!("{col} = ${}", vals.len()));
        };
        if let Some(v) = &patch.display_name {
            set("display_name", Val::S(v.clone()));
        }
        if let Some(v) = &patch.email {
            set("email", Val::S(v.clone()));
        }
        if let Some(v) = patch.lang {
            set("lang", Val::S(v.as_str().into()));
        }
        if let Some(v) = patch.second_factor {
            set("second_factor", Val::S(v.as_str().into()));
        }
        if let Some(v) = patch.mfa_required {
            set("mfa_required", Val::I(i64::from(v)));
        }
        if let Some(v) = patch.disabled {
            set("disabled", Val::I(i64::from(v)));
        }
        if let Some(v) = patch.notify_login {
            set("notify_login", Val::I(i64::from(v)));
        }
        set("updated_at", Val::I(now.0));
        let n = vals.len() + 1;
        let sql = format!(
            "UPDATE logins SET {} WHERE login_id = ${n} RETURNING {LOGIN_COLS}",
            sets.join(", ")
        );
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let row = bind_all(sqlx::query(&sql), vals)
            .bind(login_id.to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let login = login_from_row(&row).map_err(db_err)?;
        if patch.disabled == Some(true) {
            sqlx::query(
                "UPDATE sessions SET revoked_at = $2 WHERE login_pk = $1 AND revoked_at IS NULL",
            )
            .bind(login.id)
            .bind(now.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        insert_audit(&mut tx, audit).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(login))
    }

    async fn delete_login(&self, login_id: &str, audit: &NewAuditEvent) -> StoreResult<bool> {
        let change =
            sqlx::query("DELETE FROM logins WHERE login_id = $1").bind(login_id.to_owned());
        self.change_audited(change, audit).await
    }

    async fn password_history(&self, login_pk: i64, n: usize) -> StoreResult<Vec<String>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(
            "SELECT password_hash FROM password_history WHERE login_pk = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(login_pk)
        .bind(i64::try_from(n).unwrap_or(i64::MAX))
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("password_hash"))
            .collect::<Result<_, _>>()
            .map_err(db_err)
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
        let mut tx = self.begin_write().await.map_err(db_err)?;
        sqlx::query(
            "UPDATE logins SET password_hash = $2, password_changed_at = $3, \
             password_temporary = $4, updated_at = $3 WHERE id = $1",
        )
        .bind(login_pk)
        .bind(password_hash.to_owned())
        .bind(now.0)
        .bind(i64::from(temporary))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO password_history (login_pk, password_hash, set_at) VALUES ($1, $2, $3)",
        )
        .bind(login_pk)
        .bind(password_hash.to_owned())
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        // Keep a bounded history: enough for any sensible "last N" rule.
        sqlx::query(
            "DELETE FROM password_history WHERE login_pk = $1 AND id NOT IN \
             (SELECT id FROM password_history WHERE login_pk = $1 ORDER BY id DESC LIMIT 24)",
        )
        .bind(login_pk)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE login_pk = $1 AND revoked_at IS NULL AND id <> $3",
        )
        .bind(login_pk)
        .bind(now.0)
        .bind(keep_session.unwrap_or(-1))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        crate::sql_devices::revoke_all(&mut tx, login_pk, now)
            .await
            .map_err(db_err)?;
        insert_audit(&mut tx, audit).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn record_password_failure(
        &self,
        login_pk: i64,
        threshold: u32,
        now: Timestamp,
        audit: &NewAuditEvent,
        lock_audit: &NewAuditEvent,
    ) -> StoreResult<FailureOutcome> {
        self.count_failure(
            Counter::Password,
            login_pk,
            threshold,
            now,
            audit,
            lock_audit,
        )
        .await
    }

    async fn unlock_login(
        &self,
        login_id: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let row = sqlx::query("SELECT locked_at FROM logins WHERE login_id = $1")
            .bind(login_id.to_owned())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut was_locked = opt_ts(&row, "locked_at").map_err(db_err)?.is_some();
        sqlx::query(
            "UPDATE logins SET failed_logins = 0, locked_at = NULL, updated_at = $2 WHERE login_id = $1",
        )
        .bind(login_id.to_owned())
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let login_pk_of = "(SELECT id FROM logins WHERE login_id = $1)";
        was_locked |= sqlx::query(&format!(
            "UPDATE otp_factors SET locked_at = NULL WHERE login_pk = {login_pk_of} AND locked_at IS NOT NULL"
        ))
        .bind(login_id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            > 0;
        was_locked |= sqlx::query(&format!(
            "UPDATE recovery_code_sets SET locked_at = NULL, failed_attempts = 0 \
             WHERE id = {login_pk_of} AND locked_at IS NOT NULL"
        ))
        .bind(login_id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            > 0;
        // The login's tokens too: an unlock that left the token locked would tell the support
        // desk the customer can log in while the token still refuses every code.
        was_locked |= sqlx::query(&format!(
            "UPDATE tokens SET locked_at = NULL, failed_attempts = 0 \
             WHERE login_pk = {login_pk_of} AND locked_at IS NOT NULL AND state <> 'revoked'"
        ))
        .bind(login_id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            > 0;
        for table in ["otp_factors", "tokens"] {
            sqlx::query(&format!(
                "UPDATE {table} SET failed_attempts = 0 WHERE login_pk = {login_pk_of} AND failed_attempts > 0"
            ))
            .bind(login_id.to_owned())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        insert_audit(&mut tx, audit).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(was_locked))
    }

    async fn create_session(
        &self,
        new: &NewSession,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<Session>> {
        let full = new.purpose == SessionPurpose::Full;
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let row = sqlx::query(
            "UPDATE logins SET failed_logins = 0, \
             last_login_at = CASE WHEN $2 = 1 THEN $3 ELSE last_login_at END \
             WHERE id = $1 AND locked_at IS NULL AND disabled = 0 RETURNING login_id",
        )
        .bind(new.login_pk)
        .bind(i64::from(full))
        .bind(new.now.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let login_id: String = row.try_get("login_id").map_err(db_err)?;
        if let Some(challenge) = new.challenge_id {
            let done = sqlx::query(
                "UPDATE login_challenges SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL",
            )
            .bind(challenge)
            .bind(new.now.0)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if done == 0 {
                return Ok(None);
            }
        }
        let row = sqlx::query(
            "INSERT INTO sessions (token_hash, login_pk, purpose, methods, created_at, last_seen_at, \
             expires_at, client_ip, user_agent) VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.token_hash.clone())
        .bind(new.login_pk)
        .bind(new.purpose.as_str())
        .bind(new.methods.join(","))
        .bind(new.now.0)
        .bind(new.expires_at.0)
        .bind(new.client_ip.clone())
        .bind(new.user_agent.clone())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let id: i64 = row.try_get("id").map_err(db_err)?;
        insert_audit(&mut tx, audit).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(Session {
            id,
            login_pk: new.login_pk,
            login_id,
            purpose: new.purpose,
            methods: new.methods.clone(),
            created_at: new.now,
            last_seen_at: new.now,
            expires_at: new.expires_at,
            revoked_at: None,
            client_ip: new.client_ip.clone(),
            user_agent: new.user_agent.clone(),
        }))
    }

    async fn get_session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let row = sqlx::query(&format!(
            "SELECT {SESSION_COLS} FROM sessions s JOIN logins l ON l.id = s.login_pk WHERE s.token_hash = $1"
        ))
        .bind(token_hash.to_owned())
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.map(|r| session_from_row(&r))
            .transpose()
            .map_err(db_err)
    }

    async fn touch_session(&self, session_id: i64, now: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2")
            .bind(session_id)
            .bind(now.0)
            .execute(&self.write)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_session(
        &self,
        session_id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<bool> {
        let change =
            sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(session_id)
                .bind(now.0);
        self.change_audited(change, audit).await
    }

    async fn revoke_login_sessions(
        &self,
        login_pk: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let n = sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE login_pk = $1 AND revoked_at IS NULL AND expires_at > $2",
        )
        .bind(login_pk)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        let mut ev = audit.clone();
        ev.description = format!("{} ({n})", audit.description);
        insert_audit(&mut tx, &ev).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(n)
    }

    async fn list_sessions(&self, login_pk: i64, now: Timestamp) -> StoreResult<Vec<Session>> {
        let rows = sqlx::query(&format!(
            "SELECT {SESSION_COLS} FROM sessions s JOIN logins l ON l.id = s.login_pk \
             WHERE s.login_pk = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 ORDER BY s.id DESC"
        ))
        .bind(login_pk)
        .bind(now.0)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(session_from_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn create_api_token(
        &self,
        name: &str,
        scope: &str,
        token_hash: &str,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<ApiToken> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (name, scope, token_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, name, scope, created_at, revoked_at",
        )
        .bind(name.to_owned())
        .bind(scope.to_owned())
        .bind(token_hash.to_owned())
        .bind(now.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let token = token_from_row(&row).map_err(db_err)?;
        let mut ev = audit.clone();
        ev.description = format!("{} (id {})", audit.description, token.id);
        insert_audit(&mut tx, &ev).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(token)
    }

    async fn find_api_token(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        let row = sqlx::query(
            "SELECT id, name, scope, created_at, revoked_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash.to_owned())
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        row.map(|r| token_from_row(&r)).transpose().map_err(db_err)
    }

    async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, name, scope, created_at, revoked_at FROM api_tokens ORDER BY id",
        )
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(token_from_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn revoke_api_token(
        &self,
        id: i64,
        now: Timestamp,
        audit: &NewAuditEvent,
    ) -> StoreResult<Option<bool>> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        let exists = sqlx::query("SELECT id FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .is_some();
        if !exists {
            return Ok(None);
        }
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now.0)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            > 0;
        if done {
            insert_audit(&mut tx, audit).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(Some(done))
    }

    async fn append_audit(&self, event: &NewAuditEvent) -> StoreResult<()> {
        let mut tx = self.begin_write().await.map_err(db_err)?;
        insert_audit(&mut tx, event).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)
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

    async fn verify_audit_chain(&self, page: u32) -> StoreResult<ChainReport> {
        self.verify_chain(page).await
    }

    async fn query_audit(&self, f: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
        let mut c = Conditions::default();
        if let Some(v) = &f.login_id {
            c.push("a.login_id = {}", Val::S(v.clone()));
        }
        if let Some(v) = f.event_type {
            c.push("a.event_type = {}", Val::S(v.as_str().into()));
        }
        if let Some(types) = &f.event_types {
            if types.is_empty() {
                c.push_plain("1 = 0");
            } else {
                let mut ph = Vec::new();
                for t in types {
                    c.vals.push(Val::S(t.as_str().into()));
                    ph.push(format!("${}", c.vals.len()));
                }
                c.push_plain(&format!("a.event_type IN ({})", ph.join(", ")));
            }
        }
        if let Some(v) = &f.actor_kind {
            c.push("a.actor_kind = {}", Val::S(v.clone()));
        }
        if let Some(v) = &f.actor_id {
            c.push("a.actor_id = {}", Val::S(v.clone()));
        }
        if let Some(v) = f.since {
            c.push("a.time >= {}", Val::I(v.0));
        }
        if let Some(v) = f.until {
            c.push("a.time < {}", Val::I(v.0));
        }
        if let Some(v) = f.before_id {
            c.push("a.id < {}", Val::I(v));
        }
        let limit = c.next_placeholder();
        let sql = format!(
            "SELECT a.id, a.time, a.login_id, l.display_name AS login_name, a.actor_kind, \
             a.actor_id, a.event_group, a.event_type, a.description, a.error_code, a.client_ip, \
             a.user_agent FROM audit_events a LEFT JOIN logins l ON l.login_id = a.login_id{} \
             ORDER BY a.id DESC LIMIT {limit}",
            c.where_clause()
        );
        let rows = bind_all(sqlx::query(&sql), c.vals)
            .bind(i64::from(f.limit.clamp(1, 1000)))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(audit_from_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)
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
