//! The code-validation hot path on SQLite: one OS thread owning its own connection to the
//! database file, fed whole batches.
//!
//! sqlx runs every SQLite statement on a worker thread and streams each row back through a
//! channel, so a batched statement still costs several thread hand-offs (begin, statement, every
//! row, the audit insert, commit). Here the batching task *is* the connection's thread: callers
//! queue their request and wait for their answer (one wake-up each), and the thread runs
//! whatever has gathered with prepared, cached statements and no further hand-off.
//!
//! Same file, same schema and the same SQL conditions as [`crate::codes`] (which serves
//! PostgreSQL): the `UPDATE` lets a step through only under the replay rule of
//! [`crate::replay`] and only while the factor is not locked, and that condition stays the only
//! authority. Accepted
//! codes of one batch are recorded, with their audit events, in one `BEGIN IMMEDIATE`
//! transaction, and each caller is answered only after `COMMIT` returned: with WAL the commit is
//! in the WAL file by then, so a crash of the process right after the answer cannot let the
//! code in again (`synchronous=FULL` also survives a power loss; see
//! [`SqliteSynchronous`]). Two accepts of the same factor in one batch run one after the other
//! inside the transaction, so the second is judged against the first one's step.

use crate::codes::{Accept, Used};
use crate::factors::{CodeTarget, FactorState, OtpFactor};
use crate::replay::advances;
use crate::sql_tokens::token_accepted;
use crate::{StoreError, StoreResult};
use rusqlite::{params, Connection, OpenFlags, Row, Transaction, TransactionBehavior};
use sekisho_core::audit::{chain_hash, ChainFields, NewAuditEvent, CHAIN_VERSION};
use sekisho_core::otp::Algorithm;
use sekisho_core::Timestamp;
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::oneshot;

/// How SQLite makes commits durable (`PRAGMA synchronous`), for the whole store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteSynchronous {
    /// `NORMAL` (default): a commit is in the WAL file before it returns, so it survives a crash
    /// of the process; the last commits before a power loss or OS crash can be lost.
    #[default]
    Normal,
    /// `FULL`: the WAL is also synced to the disk at every commit, so commits survive a power
    /// loss; each (group) commit then waits for the disk.
    Full,
}

impl SqliteSynchronous {
    /// The pragma's value.
    pub fn as_str(self) -> &'static str {
        match self {
            SqliteSynchronous::Normal => "NORMAL",
            SqliteSynchronous::Full => "FULL",
        }
    }

    /// Parses `normal` or `full` (any case).
    pub fn parse(s: &str) -> Option<SqliteSynchronous> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Some(SqliteSynchronous::Normal),
            "full" => Some(SqliteSynchronous::Full),
            _ => None,
        }
    }
}

/// The most requests one batch carries.
const MAX_BATCH: usize = 512;

/// How long a statement waits for the write lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

enum Request {
    Read(String, oneshot::Sender<StoreResult<Option<CodeTarget>>>),
    Accept(Accept, oneshot::Sender<StoreResult<bool>>),
}

/// How often the checkpointing thread copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The queue in front of the hot-path thread; the thread ends when this is dropped, and so
/// does the checkpointing thread.
pub(crate) struct SqliteHot {
    jobs: mpsc::Sender<Request>,
    _checkpoints: mpsc::Sender<()>,
}

fn stopped() -> StoreError {
    StoreError::Backend("the SQLite hot-path thread has stopped".into())
}

impl SqliteHot {
    /// Opens the database file at `path` (already migrated) and starts the thread.
    pub(crate) fn start(path: &str, sync: SqliteSynchronous) -> StoreResult<SqliteHot> {
        let conn = open(path, sync)?;
        // Checkpoints (copying the WAL into the database file, and syncing that file) run on a
        // thread of their own: on the hot thread, SQLite's automatic checkpoint every 1,000
        // pages would hold every waiting request for the time of a disk sync.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpointer = open(path, sync)?;
        let (jobs, rx) = mpsc::channel();
        let (checkpoints, stop) = mpsc::channel();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| StoreError::Backend(format!("cannot start a SQLite thread: {e}")))
        };
        spawn("sekisho-sqlite-hot", Box::new(move || run(conn, rx)))?;
        spawn(
            "sekisho-sqlite-checkpoint",
            Box::new(move || checkpoint(checkpointer, stop)),
        )?;
        Ok(SqliteHot {
            jobs,
            _checkpoints: checkpoints,
        })
    }

    /// The login `login_id` with its active authenticator app.
    pub(crate) async fn code_target(&self, login_id: &str) -> StoreResult<Option<CodeTarget>> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Request::Read(login_id.to_owned(), reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Records an accepted code; answers after its transaction committed.
    pub(crate) async fn accept(&self, accept: Accept) -> StoreResult<bool> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Request::Accept(accept, reply))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Opens a connection with the same settings as the sqlx pools.
pub(crate) fn open(path: &str, sync: SqliteSynchronous) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    conn.pragma_update(None, "synchronous", sync.as_str())?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(16);
    Ok(conn)
}

/// The thread: takes everything that has gathered (at least one request), answers the reads,
/// then commits the accepts in one transaction and answers them.
fn run(mut conn: Connection, rx: mpsc::Receiver<Request>) {
    let mut accepts: Vec<(Accept, oneshot::Sender<StoreResult<bool>>)> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        let mut n = 0;
        while let Some(req) = next.take() {
            n += 1;
            match req {
                Request::Read(id, reply) => {
                    // A caller that went away (its request was cancelled) needs no answer.
                    let _ = reply.send(read_target(&conn, &id).map_err(StoreError::from));
                }
                Request::Accept(a, reply) => accepts.push((a, reply)),
            }
            if n < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        if accepts.is_empty() {
            continue;
        }
        let batch: Vec<&Accept> = accepts.iter().map(|(a, _)| a).collect();
        match commit(&mut conn, &batch) {
            Ok(taken) => {
                for ((_, reply), ok) in accepts.drain(..).zip(taken) {
                    let _ = reply.send(Ok(ok));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "committing accepted codes failed");
                for (_, reply) in accepts.drain(..) {
                    let _ = reply.send(Err(StoreError::Backend(e.to_string())));
                }
            }
        }
    }
}

/// Checkpoints the WAL every [`CHECKPOINT_EVERY`] until `stop` is dropped. `PASSIVE` never
/// waits for (or blocks) readers and writers; what it cannot copy yet, the next one does.
fn checkpoint(conn: Connection, stop: mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let r = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
        if let Err(e) = r {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

const READ_TARGET: &str =
    "SELECT l.id, l.login_id, l.disabled, f.id, f.uid, f.login_pk, f.method, \
    f.state, f.label, f.secret_enc, f.algorithm, f.digits, f.period, f.last_step, f.drift, \
    f.failed_attempts, f.locked_at, f.created_at, f.expires_at, f.confirmed_at, f.last_used_at, \
    t.tat_ms \
    FROM logins l LEFT JOIN otp_factors f \
    ON f.login_pk = l.id AND f.method = 'totp' AND f.state = 'active' \
    LEFT JOIN throttle t ON t.bucket = 'validate:' || l.login_id \
    WHERE l.login_id = ?1";

/// The column of `t.tat_ms` in [`READ_TARGET`]: after the login's three and the factor's.
const READ_TARGET_TAT: usize = 3 + 18;

fn read_target(conn: &Connection, login_id: &str) -> rusqlite::Result<Option<CodeTarget>> {
    let mut stmt = conn.prepare_cached(READ_TARGET)?;
    let mut rows = stmt.query([login_id])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    let factor_id: Option<i64> = r.get(3)?;
    Ok(Some(CodeTarget {
        login_pk: r.get(0)?,
        login_id: r.get(1)?,
        disabled: r.get::<_, i64>(2)? != 0,
        totp: factor_id.map(|_| factor_at(r, 3)).transpose()?,
        validate_tat_ms: r.get(READ_TARGET_TAT)?,
    }))
}

/// The factor whose columns start at `i` (in the order of [`crate::sql_factors::FACTOR_COLS`]).
fn factor_at(r: &Row<'_>, i: usize) -> rusqlite::Result<OtpFactor> {
    let ts = |k: usize| r.get::<_, Option<i64>>(i + k).map(|v| v.map(Timestamp));
    let state: String = r.get(i + 4)?;
    Ok(OtpFactor {
        id: r.get(i)?,
        uid: r.get(i + 1)?,
        login_pk: r.get(i + 2)?,
        method: r.get(i + 3)?,
        state: if state == "active" {
            FactorState::Active
        } else {
            FactorState::Pending
        },
        label: r.get(i + 5)?,
        secret_enc: r.get(i + 6)?,
        algorithm: Algorithm::parse(&r.get::<_, String>(i + 7)?).unwrap_or_default(),
        digits: u32::try_from(r.get::<_, i64>(i + 8)?).unwrap_or(6),
        period: u32::try_from(r.get::<_, i64>(i + 9)?).unwrap_or(30),
        last_step: r.get(i + 10)?,
        drift: r.get(i + 11)?,
        failed_attempts: r.get(i + 12)?,
        locked_at: ts(13)?,
        created_at: Timestamp(r.get(i + 14)?),
        expires_at: ts(15)?,
        confirmed_at: ts(16)?,
        last_used_at: ts(17)?,
    })
}

/// The same statement as [`crate::codes`]' batched `UPDATE`, one factor at a time (constant
/// text, so `prepare_cached` keeps serving it from the cache).
const ACCEPT: &str = concat!(
    "UPDATE otp_factors SET last_step = ?2, drift = ?3, failed_attempts = 0, \
    last_used_at = ?4, \
    state = CASE WHEN ?5 = 1 THEN 'active' ELSE state END, \
    confirmed_at = CASE WHEN ?5 = 1 THEN ?4 ELSE confirmed_at END, \
    expires_at = CASE WHEN ?5 = 1 THEN NULL ELSE expires_at END \
    WHERE id = ?1 AND locked_at IS NULL AND ",
    advances!("last_step", "?2")
);

/// The same statement as [`crate::codes`]' batched token `UPDATE`, one token at a time.
const ACCEPT_TOKEN: &str = concat!(
    "UPDATE tokens SET ",
    token_accepted!(set: "?2", "?3", "?4"),
    " WHERE id = ?1 AND ",
    token_accepted!(when: "?2")
);

/// Records a batch of accepted codes with their audit events in one transaction; returns, in
/// order, whether the database let each one through.
fn commit(conn: &mut Connection, accepts: &[&Accept]) -> rusqlite::Result<Vec<bool>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut taken = Vec::with_capacity(accepts.len());
    {
        for a in accepts {
            let n = match a.used {
                Used::App {
                    factor_id,
                    activate,
                } => tx.prepare_cached(ACCEPT)?.execute(params![
                    factor_id,
                    a.step,
                    a.drift,
                    a.now.0,
                    i64::from(activate)
                ])?,
                Used::Token(id) => tx
                    .prepare_cached(ACCEPT_TOKEN)?
                    .execute(params![id, a.step, a.drift, a.now.0])?,
            };
            taken.push(n == 1);
        }
    }
    let audits: Vec<&NewAuditEvent> = accepts
        .iter()
        .zip(&taken)
        .filter(|(_, ok)| **ok)
        .filter_map(|(a, _)| a.audit.as_ref())
        .collect();
    insert_hot_audits(&tx, &audits)?;
    tx.commit()?;
    Ok(taken)
}

/// Appends the audit records of accepted codes, inside the transaction that records the codes,
/// chained to the audit head exactly as [`crate::sql_audit::commit_audited`] does (that function is
/// the other, and only other, writer of audit records). The `BEGIN IMMEDIATE` transaction holds
/// SQLite's write lock, so the head read here cannot move before the commit.
fn insert_hot_audits(tx: &Transaction<'_>, events: &[&NewAuditEvent]) -> rusqlite::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let (mut id, mut prev): (i64, String) = tx
        .prepare_cached("SELECT last_id, last_hash FROM audit_head WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO audit_events (id, time, login_id, actor_kind, actor_id, event_group, \
         event_type, description, error_code, client_ip, user_agent, chain_version, chain_hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for ev in events {
        id += 1;
        let (kind, actor_id) = ev.actor.parts();
        let hash = chain_hash(&prev, &ChainFields::of(id, ev));
        insert.execute(params![
            id,
            ev.time.0,
            ev.login_id,
            kind,
            actor_id,
            ev.event_type.group(),
            ev.event_type.as_str(),
            ev.description,
            ev.error_code,
            ev.client_ip,
            ev.user_agent,
            CHAIN_VERSION,
            hash,
        ])?;
        prev = hash;
    }
    tx.prepare_cached("UPDATE audit_head SET last_id = ?1, last_hash = ?2 WHERE id = 1")?
        .execute(params![id, prev])?;
    Ok(())
}

/// The file behind a `sqlite:` URL, if it names one (not an in-memory database).
pub fn file_of(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty()
        || path.contains(":memory:")
        || query.split('&').any(|kv| kv == "mode=memory")
    {
        return None;
    }
    Some(path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_of_urls() {
        assert_eq!(
            file_of("sqlite:///tmp/x/sekisho.db?mode=rwc").as_deref(),
            Some("/tmp/x/sekisho.db")
        );
        assert_eq!(file_of("sqlite://data.db").as_deref(), Some("data.db"));
        assert_eq!(file_of("sqlite:data.db").as_deref(), Some("data.db"));
        assert_eq!(file_of("sqlite::memory:"), None);
        assert_eq!(file_of("sqlite://x.db?mode=memory"), None);
        assert_eq!(file_of("postgres://h/db"), None);
    }

    #[test]
    fn synchronous_parses() {
        assert_eq!(
            SqliteSynchronous::parse("FULL"),
            Some(SqliteSynchronous::Full)
        );
        assert_eq!(
            SqliteSynchronous::parse("normal"),
            Some(SqliteSynchronous::Normal)
        );
        assert_eq!(SqliteSynchronous::parse("off"), None);
    }
}
