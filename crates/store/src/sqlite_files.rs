//! The SQLite files are readable by the server's user alone: they hold password hashes, sealed
//! secrets and the audit trail. SQLite gives the `-wal` and `-shm` files it creates the mode of
//! the database file, so the database file is created 0600 (its folder 0700) before SQLite
//! opens it, and files an older version left readable by others are narrowed to 0600.

use crate::{StoreError, StoreResult};
use std::path::Path;

/// Prepares the database file at `path`: creates it (and its folder) privately when `create`
/// (the URL's `mode=rwc`) and it does not exist yet; narrows existing files to 0600.
pub(crate) fn keep_private(path: &str, create: bool) -> StoreResult<()> {
    let fail = |what: &str, e: std::io::Error| {
        StoreError::Backend(format!("cannot {what} the SQLite database {path}: {e}"))
    };
    let file = Path::new(path);
    if create && !file.exists() {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                private_dir(dir).map_err(|e| fail("create the folder of", e))?;
            }
        }
        match private_file(file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(fail("create", e)),
        }
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        narrow(&format!("{path}{suffix}")).map_err(|e| fail("restrict the permissions of", e))?;
    }
    Ok(())
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

fn private_file(file: &Path) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(file).map(|_| ())
}

#[cfg(unix)]
fn narrow(path: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    if meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        tracing::info!(path, "made readable by the server's user only (0600)");
    }
    Ok(())
}

#[cfg(not(unix))]
fn narrow(_path: &str) -> std::io::Result<()> {
    Ok(())
}
