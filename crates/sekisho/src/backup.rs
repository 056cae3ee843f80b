//! `sekisho backup` and `sekisho restore`: an online, consistent copy of the SQLite database,
//! and a fresh data folder made from one, checked before it is used (issue 16 item 14).
//! PostgreSQL databases are backed up and restored with `pg_dump` / `pg_restore`
//! (docs/operations.md, Backups).

use crate::config::Config;
use crate::wiring;
use anyhow::{anyhow, bail, Context, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// What a backup wrote.
#[derive(Debug)]
pub struct Backup {
    pub file: PathBuf,
    pub bytes: u64,
}

/// What a restore made and found.
#[derive(Debug)]
pub struct Restored {
    pub database: PathBuf,
    /// Chained audit records verified in the restored database.
    pub verified: u64,
}

/// The SQLite file a `sqlite:` URL names (`None` for PostgreSQL or an in-memory database).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    sekisho_store::sqlite_file_of(url).map(PathBuf::from)
}

/// Creates `path` empty, readable by this user alone; refuses an existing file.
fn create_private(path: &Path) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map(drop).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => {
            anyhow!(
                "{} exists; a backup never overwrites a file",
                path.display()
            )
        }
        _ => anyhow!("cannot create {}: {e}", path.display()),
    })
}

/// Writes a consistent copy of the configured SQLite database to `to` while servers keep
/// serving. The copy holds sealed secrets only: keep the master key apart from it.
pub async fn backup(config: &Config, to: &Path) -> Result<Backup> {
    let url = config.database_url()?;
    if sqlite_file(&url).is_none() {
        bail!(
            "`sekisho backup` copies a SQLite database; back a PostgreSQL database up with \
             pg_dump (docs/operations.md, Backups)"
        );
    }
    create_private(to)?;
    let store = wiring::store(config).await?;
    if let Err(e) = store.backup_into(to).await {
        let _ = std::fs::remove_file(to);
        bail!("backup to {} failed: {e}", to.display());
    }
    let bytes = std::fs::metadata(to)?.len();
    Ok(Backup {
        file: to.to_owned(),
        bytes,
    })
}

/// Makes the configured (absent) SQLite database from the backup `from`, brings its schema up
/// to this version, and verifies the audit chain; on a broken chain the restored files are
/// removed again. The master key must already be there: a restore never generates one.
pub async fn restore(config: &Config, from: &Path) -> Result<Restored> {
    let url = config.database_url()?;
    let Some(target) = sqlite_file(&url) else {
        bail!(
            "`sekisho restore` makes a SQLite database; restore a PostgreSQL dump with \
             pg_restore (docs/operations.md, Backups)"
        );
    };
    let has_key = config.master_key.as_deref().is_some_and(|k| !k.is_empty())
        || config.master_key_file.is_some()
        || config.data_dir.join("master.key").exists();
    if !has_key {
        bail!(
            "no master key: the backup's secrets are sealed with the master key of the server it \
             came from; put that key in {} (or set master_key_file / SEKISHO_MASTER_KEY) first",
            config.data_dir.join("master.key").display()
        );
    }
    let mut head = [0u8; 16];
    std::fs::File::open(from)
        .and_then(|mut f| f.read_exact(&mut head))
        .with_context(|| format!("cannot read the backup {}", from.display()))?;
    if &head != b"SQLite format 3\0" {
        bail!("{} is not a SQLite database", from.display());
    }
    let wal = PathBuf::from(format!("{}-wal", target.display()));
    if target.exists() || wal.exists() {
        bail!(
            "{} exists; restore into a fresh data folder (or move the old database away first)",
            target.display()
        );
    }
    if let Some(dir) = target.parent() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    create_private(&target)?;
    let copied = std::fs::copy(from, &target);
    let remove = |target: &Path| {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
        }
    };
    if let Err(e) = copied {
        remove(&target);
        bail!(
            "cannot copy {} to {}: {e}",
            from.display(),
            target.display()
        );
    }
    let checked = async {
        let store = wiring::store(config).await?;
        store
            .verify_audit_chain(1000)
            .await
            .map_err(|e| anyhow!("{e}"))
    }
    .await;
    match checked {
        Ok(r) if r.broken.is_none() => Ok(Restored {
            database: target,
            verified: r.verified,
        }),
        Ok(r) => {
            remove(&target);
            let b = r.broken.map(|b| format!("event {}: {}", b.id, b.reason));
            bail!(
                "the backup's audit chain is broken ({}); nothing restored",
                b.unwrap_or_default()
            )
        }
        Err(e) => {
            remove(&target);
            bail!("the restored database does not open: {e}; nothing restored")
        }
    }
}
