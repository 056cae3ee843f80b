//! `sekisho audit verify` (the whole chain, from a checkpoint, or an archive file, with its rate)
//! and `sekisho audit archive` (the records before a date to a file, then out of the database).

use crate::load;
use anyhow::{bail, Result};
use clap::Subcommand;
use sekisho::audit_archive::{archive, read_checkpoint, verify_file, write_checkpoint};
use sekisho::config::ConfigArgs;
use sekisho::wiring;
use sekisho_app::system::SystemClock;
use sekisho_core::{Clock, Timestamp};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Subcommand)]
pub(crate) enum AuditCommand {
    /// Walk the hash chain of the audit trail (from the archived head, or from a checkpoint),
    /// or of an archive file; print the count, the rate and OK, or name the first broken record
    /// and exit with status 1.
    Verify {
        #[command(flatten)]
        config: ConfigArgs,
        /// Records read per query.
        #[arg(long, default_value_t = 1000)]
        page_size: u32,
        /// Start after the record this file names (`ID:HASH`, from an earlier run; the record
        /// must still match it) and, when nothing is broken, write the new last record to it.
        /// A missing file means a walk from the start.
        #[arg(long, value_name = "FILE", conflicts_with = "file")]
        checkpoint: Option<PathBuf>,
        /// Verify this archive file (from `sekisho audit archive`) on its own, without the
        /// database.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Write the records from before a date to a new file (which `verify --file` checks on its
    /// own) and remove them from the database; the remaining trail verifies from the archive's
    /// last record. Recorded as `audit_archived`.
    Archive {
        #[command(flatten)]
        config: ConfigArgs,
        /// Archive the records written before this time: `2026-01-01` (midnight in
        /// `pages.time_zone`) or RFC 3339. Default: `audit.retain_days` days ago.
        #[arg(long, value_name = "DATE")]
        before: Option<String>,
        /// The archive file to write (must not exist).
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
}

pub(crate) async fn run(command: AuditCommand) -> Result<()> {
    match command {
        AuditCommand::Verify {
            file: Some(file), ..
        } => verify_archive(&file),
        AuditCommand::Verify {
            config,
            page_size,
            checkpoint,
            file: None,
        } => verify(&config, page_size, checkpoint).await,
        AuditCommand::Archive { config, before, to } => {
            let c = load(&config)?;
            let now = SystemClock.now();
            let before = match before {
                Some(b) => parse_date(&c.settings.zone, &b)?,
                None if c.settings.audit.retain_days > 0 => {
                    now.plus_secs(-i64::from(c.settings.audit.retain_days) * 86_400)
                }
                None => {
                    bail!("give --before DATE, or set audit.retain_days (0: keep every record)")
                }
            };
            let store = wiring::store(&c).await?;
            match archive(store.as_ref(), before, &to, now).await? {
                None => println!(
                    "no records before {}; nothing archived",
                    before.to_rfc3339()
                ),
                Some(a) => {
                    println!(
                        "{} records ({}..{}) archived to {}",
                        a.records,
                        a.from.id + 1,
                        a.end.id,
                        to.display()
                    );
                    println!("archive starts after {}", a.from.to_text());
                    println!("archive ends at {}", a.end.to_text());
                    println!("the records are removed; the trail verifies from the archive's end");
                }
            }
            Ok(())
        }
    }
}

fn parse_date(zone: &sekisho_app::zone::Zone, v: &str) -> Result<Timestamp> {
    let v = v.trim();
    Timestamp::parse_rfc3339(v)
        .or_else(|| zone.local_input(&format!("{v}T00:00")))
        .ok_or_else(|| anyhow::anyhow!("--before must be a date (2026-01-01) or RFC 3339"))
}

/// Records per second of a walk.
fn rate(records: u64, took: Duration) -> String {
    let secs = took.as_secs_f64().max(1e-6);
    format!(
        "{records} records in {:.1} s: {:.0} records/s",
        secs,
        records as f64 / secs
    )
}

// The rate is a measurement of this walk, not domain time.
#[allow(clippy::disallowed_methods)]
fn stopwatch() -> Instant {
    Instant::now()
}

fn verify_archive(file: &std::path::Path) -> Result<()> {
    let start = stopwatch();
    let r = verify_file(file)?;
    println!(
        "archive {} starts after {}",
        file.display(),
        r.from.to_text()
    );
    println!("{}", rate(r.verified, start.elapsed()));
    match r.broken {
        None => {
            println!("archive ends at {}", r.last.to_text());
            println!("OK");
            Ok(())
        }
        Some(b) => {
            println!("{} records verified before the break", r.verified);
            println!("BROKEN: {b}");
            std::process::exit(1);
        }
    }
}

async fn verify(config: &ConfigArgs, page_size: u32, checkpoint: Option<PathBuf>) -> Result<()> {
    let c = load(config)?;
    let store = wiring::store(&c).await?;
    let from = match &checkpoint {
        Some(f) => read_checkpoint(f)?,
        None => None,
    };
    let start = stopwatch();
    let r = store
        .verify_audit_chain_from(from.as_ref(), page_size)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = start.elapsed();
    if r.unchained > 0 {
        println!(
            "{} records before id {} predate the chain and are not verified",
            r.unchained, r.chain_start
        );
    }
    if r.from.id >= r.chain_start {
        println!("verified from {}", r.from.to_text());
    }
    println!("{}", rate(r.verified, took));
    match r.broken {
        None => {
            println!("{} chained records verified", r.verified);
            if let Some(f) = &checkpoint {
                write_checkpoint(f, &r.last)?;
                println!("checkpoint {} written to {}", r.last.to_text(), f.display());
            }
            println!("OK");
            Ok(())
        }
        Some(b) => {
            println!("{} chained records verified before the break", r.verified);
            println!(
                "BROKEN at event {}{}: {}",
                b.id,
                b.time
                    .map(|t| format!(" ({})", t.to_rfc3339()))
                    .unwrap_or_default(),
                b.reason
            );
            std::process::exit(1);
        }
    }
}
