//! `sekisho audit archive` and `sekisho audit verify --file / --checkpoint`: the archive file
//! (JSON lines: a header naming the point the segment links to, the records, a trailer naming
//! the point it ends at), written and verified through the one chain walk
//! ([`sekisho_core::audit_chain::ChainWalk`]), and the checkpoint file (`ID:HASH`).

use anyhow::{anyhow, bail, Context, Result};
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::audit_chain::{ChainPoint, ChainWalk, ChainedRecord};
use sekisho_core::Timestamp;
use sekisho_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

/// Records read from the database per query while archiving.
const PAGE: u32 = 5_000;

/// The first line of an archive file.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    /// Format version.
    sekisho_audit_archive: u32,
    /// The point the first record links to (the previous archive's end, or the genesis).
    from: ChainPoint,
    /// The records are those written before this time (RFC 3339).
    before: String,
}

/// The last line of an archive file.
#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    /// The last record: the point the database's remaining trail links to.
    end: ChainPoint,
    /// How many records the file holds.
    records: u64,
}

/// What an archiving did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archived {
    /// The point the archive starts after.
    pub from: ChainPoint,
    /// The last archived record (the new archived head in the database).
    pub end: ChainPoint,
    /// Records written (and removed from the database).
    pub records: u64,
}

/// What verifying an archive file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The point the file starts after.
    pub from: ChainPoint,
    /// The last verified record.
    pub last: ChainPoint,
    /// Records verified.
    pub verified: u64,
    /// The first record that does not verify (or what is wrong with the file), if any.
    pub broken: Option<String>,
}

/// Writes the chained records written before `before` (the prefix of the chain up to the first
/// record at or after it) to `to`, which must not exist, verifying each as it goes; reads the
/// file back; then removes those records from the database, keeping their end as the archived
/// head, with an `audit_archived` record. `None` if there is nothing to archive. A break in the
/// chain stops it before anything is removed.
pub async fn archive(
    store: &dyn Store,
    before: Timestamp,
    to: &Path,
    now: Timestamp,
) -> Result<Option<Archived>> {
    let head = store.audit_head().await.map_err(store_err)?;
    let from = head
        .archived
        .clone()
        .unwrap_or_else(|| ChainPoint::genesis(head.chain_start));
    let through = match store
        .first_audit_since(from.id, before)
        .await
        .map_err(store_err)?
    {
        Some(id) => id - 1,
        None => head.last.id,
    };
    if through <= from.id {
        return Ok(None);
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .with_context(|| format!("cannot create {} (it must not exist)", to.display()))?;
    let written = write_segment(store, &from, through, before, BufWriter::new(&file)).await;
    let end = match written {
        Ok(end) => end,
        Err(e) => {
            let _ = std::fs::remove_file(to);
            return Err(e);
        }
    };
    file.sync_all()?;
    // Read back before anything goes: the file on the disk must verify and end where the
    // database's remaining trail will start.
    let check = verify_file(to)?;
    if check.broken.is_some() || check.last != end.0 {
        bail!(
            "{} does not read back as written ({:?}); nothing removed",
            to.display(),
            check.broken
        );
    }
    let (end, records) = end;
    let ev = NewAuditEvent::new(
        now,
        EventType::AuditArchived,
        None,
        Actor::System,
        &ClientInfo {
            ip: None,
            user_agent: Some("sekisho-cli".into()),
        },
        format!(
            "records {}..{} ({records}) written before {} archived to {}; archive ends at {}",
            from.id + 1,
            end.id,
            before.to_rfc3339(),
            to.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            end.to_text()
        ),
    );
    let removed = store
        .drop_archived_audit(&from, &end, &ev)
        .await
        .map_err(|e| match e {
            StoreError::Conflict => anyhow!(
                "another archiving moved the archived head meanwhile; nothing removed \
                 ({} is not needed)",
                to.display()
            ),
            e => store_err(e),
        })?;
    if removed != records {
        bail!("{records} records archived but {removed} removed");
    }
    Ok(Some(Archived { from, end, records }))
}

async fn write_segment(
    store: &dyn Store,
    from: &ChainPoint,
    through: i64,
    before: Timestamp,
    mut out: impl Write,
) -> Result<(ChainPoint, u64)> {
    let header = Header {
        sekisho_audit_archive: 1,
        from: from.clone(),
        before: before.to_rfc3339(),
    };
    writeln!(out, "{}", serde_json::to_string(&header)?)?;
    let mut walk = ChainWalk::from(from.clone());
    loop {
        let page = store
            .audit_records(walk.last().id, through, PAGE)
            .await
            .map_err(store_err)?;
        if page.is_empty() {
            break;
        }
        for r in &page {
            walk.step(r).map_err(|reason| {
                anyhow!(
                    "the audit chain is broken at event {}: {reason}; nothing archived",
                    r.id
                )
            })?;
            writeln!(out, "{}", serde_json::to_string(r)?)?;
        }
    }
    if walk.last().id != through {
        bail!(
            "record(s) {}..{through} missing; nothing archived",
            walk.last().id + 1
        );
    }
    let trailer = Trailer {
        end: walk.last().clone(),
        records: walk.verified(),
    };
    writeln!(out, "{}", serde_json::to_string(&trailer)?)?;
    out.flush()?;
    Ok((trailer.end, trailer.records))
}

/// Verifies an archive file on its own: every record links to the one before, from the point in
/// its header, and the trailer names the last record and the count.
pub fn verify_file(path: &Path) -> Result<FileReport> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    let header: Header = serde_json::from_str(&first)
        .with_context(|| format!("{} is not a Sekisho audit archive", path.display()))?;
    if header.sekisho_audit_archive != 1 {
        bail!("unknown archive version {}", header.sekisho_audit_archive);
    }
    let mut walk = ChainWalk::from(header.from.clone());
    let report = |walk: &ChainWalk, broken: Option<String>| FileReport {
        from: header.from.clone(),
        last: walk.last().clone(),
        verified: walk.verified(),
        broken,
    };
    let mut trailer: Option<Trailer> = None;
    for (n, line) in lines.enumerate() {
        let line = line?;
        if trailer.is_some() {
            return Ok(report(
                &walk,
                Some(format!("line {}: text after the trailer", n + 2)),
            ));
        }
        if let Ok(r) = serde_json::from_str::<ChainedRecord>(&line) {
            if let Err(reason) = walk.step(&r) {
                return Ok(report(&walk, Some(format!("event {}: {reason}", r.id))));
            }
        } else if let Ok(t) = serde_json::from_str::<Trailer>(&line) {
            trailer = Some(t);
        } else {
            return Ok(report(
                &walk,
                Some(format!("line {}: neither a record nor the trailer", n + 2)),
            ));
        }
    }
    let broken = match trailer {
        None => Some("no trailer: the file is cut short".to_owned()),
        Some(t) if t.end != *walk.last() || t.records != walk.verified() => {
            Some("the trailer does not match the records".to_owned())
        }
        Some(_) => None,
    };
    Ok(report(&walk, broken))
}

/// Reads a checkpoint file (`ID:HASH`); `None` if the file does not exist yet.
pub fn read_checkpoint(path: &Path) -> Result<Option<ChainPoint>> {
    match std::fs::read_to_string(path) {
        Ok(text) => ChainPoint::parse(&text)
            .map(Some)
            .ok_or_else(|| anyhow!("{} is not a checkpoint (ID:HASH)", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Replaces a checkpoint file (written beside it, then renamed over it).
pub fn write_checkpoint(path: &Path, point: &ChainPoint) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{}\n", point.to_text()))?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn store_err(e: StoreError) -> anyhow::Error {
    anyhow!("{e}")
}
