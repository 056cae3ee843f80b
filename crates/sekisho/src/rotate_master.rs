//! `sekisho keys rotate-master`: re-seals every secret kept at rest under a new master key while
//! the instances keep serving, and `--finish` checks that none is left under another key. The
//! procedure around it (which key each instance holds at each step) is in docs/operations.md.

use crate::load;
use anyhow::{bail, Result};
use sekisho::config::ConfigArgs;
use sekisho::wiring;
use sekisho_app::master_key::{audit_rotation, remaining, reseal_column};
use sekisho_app::system::{OsRandom, SystemClock};
use sekisho_core::secret_box::{key_id, SecretBox};
use sekisho_core::Clock;
use sekisho_store::SealedColumn;
use std::path::PathBuf;

/// The arguments of `keys rotate-master`.
#[derive(clap::Args)]
pub(crate) struct RotateMaster {
    #[command(flatten)]
    config: ConfigArgs,
    /// The new master key (64 hex characters), as the instances load it.
    #[arg(long, value_name = "FILE")]
    new_key_file: PathBuf,
    /// Re-seal nothing: check that no value is left under another key, record the end of the
    /// rotation, and say what to do next.
    #[arg(long)]
    finish: bool,
    /// Values re-sealed per transaction.
    #[arg(long, default_value_t = sekisho_app::master_key::DEFAULT_BATCH,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
}

pub(crate) async fn rotate_master(a: RotateMaster) -> Result<()> {
    let c = load(&a.config)?;
    let store = wiring::store(&c).await?;
    let new = wiring::read_key_file(&a.new_key_file, "--new-key-file")?;
    let new_id = key_id(&new);
    let current = wiring::master_key(&c)?;
    let extra = wiring::extra_master_keys(&c)?;
    // The configured keyring, with the code-hash key kept now if no instance has kept it yet
    // (derived from the configured master key, as the instances derived it).
    let configured = wiring::secrets(&c, store.as_ref(), &SystemClock, &OsRandom).await?;
    if !configured.key_ids().contains(&new_id.as_str()) {
        bail!(
            "this configuration does not hold the new key {new_id} (neither master_key_file nor \
             extra_master_key_files): instances configured like it could not read the values \
             re-sealed under it. Give every instance the new key first (docs/operations.md)"
        );
    }
    let now = SystemClock.now();
    if a.finish {
        return finish(store.as_ref(), &new_id, current == new, now).await;
    }
    let mut others = vec![current];
    others.extend(extra);
    let ring = SecretBox::keyring(&new, &others).sealing_under_key_id();
    let ids = ring.key_ids().join(", ");
    audit_rotation(
        store.as_ref(),
        false,
        &new_id,
        &format!("re-sealing with the keys {ids}"),
        now,
    )
    .await?;
    println!(
        "Re-sealing every value under {new_id} (opening with {ids}), {} per transaction.",
        a.batch
    );
    let mut left = 0;
    let mut unreadable = 0;
    for &column in SealedColumn::ALL {
        let r = reseal_column(store.as_ref(), &ring, column, a.batch, &OsRandom).await?;
        println!(
            "{}: re-sealed {}, changed by a server meanwhile {}, unreadable {}, left {}",
            column.name(),
            r.resealed,
            r.changed_meanwhile,
            r.unreadable.len(),
            r.left
        );
        if !r.unreadable.is_empty() {
            eprintln!(
                "  rows (id) no configured key opens in {}: {:?}",
                column.name(),
                r.unreadable
            );
        }
        left += r.left;
        unreadable += r.unreadable.len();
    }
    if left == 0 {
        println!(
            "Every sealed value is under {new_id}. Next: sekisho keys rotate-master --new-key-file \
             {} --finish",
            a.new_key_file.display()
        );
    } else if current != new {
        println!(
            "{left} values are not under {new_id}: the instances still seal with the old key. Make \
             the new key master_key_file on every instance (the old one in \
             extra_master_key_files), then run this again."
        );
    } else if unreadable > 0 {
        println!(
            "{left} values are not under {new_id}, {unreadable} of them open with no configured \
             key (listed above): add the key they were sealed with to extra_master_key_files, or \
             remove those rows, then run this again."
        );
    } else {
        println!(
            "{left} values are not under {new_id}: an instance still seals with another key \
             (check every instance's master_key_file), or servers wrote them meanwhile; run this \
             again."
        );
    }
    Ok(())
}

async fn finish(
    store: &dyn sekisho_store::Store,
    new_id: &str,
    sealing_with_new: bool,
    now: sekisho_core::Timestamp,
) -> Result<()> {
    let left = remaining(store, new_id).await?;
    if !left.is_empty() {
        for (column, n) in &left {
            println!("{}: {n} values not under {new_id}", column.name());
        }
        let total: u64 = left.iter().map(|(_, n)| n).sum();
        bail!(
            "the rotation is not finished: {total} values are not under {new_id}. Run \
             `sekisho keys rotate-master --new-key-file <FILE>` again{}",
            if sealing_with_new {
                ""
            } else {
                " once every instance seals with the new key (master_key_file)"
            }
        );
    }
    audit_rotation(store, true, new_id, "no value left under another key", now).await?;
    println!(
        "Every sealed value is under {new_id}; the rotation is finished. Next, on every instance \
         one after the other: set master_key_file to the new key, remove the old key from \
         extra_master_key_files, restart. Wait {} seconds after the last instance started \
         sealing with the new key before removing the old one (OpenID Connect access tokens \
         carry a value sealed when they were issued). Keep the old key with the backups made \
         before today: they need it.",
        sekisho_app::oidc::grants::ACCESS_TOKEN_SECS
    );
    Ok(())
}
