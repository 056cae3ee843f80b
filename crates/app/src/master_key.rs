//! Master-key rotation: every value sealed with the master key is opened and sealed again under
//! the new key, column by column, in batches, while instances keep serving with both keys; then a
//! check that no value is left under any other key. Also the MAC key of code hashes, which the
//! deployment keeps in the database (sealed) so that it outlives every master key.
//!
//! Why the MAC key is kept rather than re-derived: a keyed hash cannot be re-sealed, and some
//! live for years (recovery codes, setup links, the pairwise subjects apps store). The key is
//! derived from the master key in use when a version with keyrings first starts — the same key
//! earlier versions derived, so existing hashes stay valid — and from then on only re-sealed.

use crate::error::AppError;
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::clock::random_bytes;
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{Error, Random, Timestamp};
use sekisho_store::{Reseal, SealedColumn, Store};

/// The name under which the code-hash MAC key is kept.
pub const CODE_HASH_KEY: &str = "code-hash";

/// Values re-sealed per transaction by default.
pub const DEFAULT_BATCH: u32 = 200;

/// The associated data of a value of `column` bound to `binding` (see [`SealedColumn`]): the
/// same bytes the feature that sealed it used.
pub fn aad(column: SealedColumn, binding: &str) -> Vec<u8> {
    match column {
        SealedColumn::OtpFactorSecret => crate::totp::secret_aad(binding),
        SealedColumn::TokenSecret => crate::token_inventory::secret_aad(binding),
        SealedColumn::OperatorTotp | SealedColumn::OperatorTotpPending => {
            // The operators' binding is their integer key; a value that is not one cannot
            // have been sealed by Sekisho, so it is left for the report.
            match binding.parse::<i64>() {
                Ok(pk) => crate::operators::aad_of(pk),
                Err(_) => Vec::new(),
            }
        }
        SealedColumn::SigningKey => crate::keys::key_aad(binding),
        SealedColumn::MailBody => crate::mail::body_aad(binding),
        SealedColumn::LoginFlow => crate::flow::flow_aad(binding),
        SealedColumn::StepUpProof => crate::step_up::proof_aad(binding),
        SealedColumn::KeptKey => kept_key_aad(binding),
    }
}

fn kept_key_aad(name: &str) -> Vec<u8> {
    format!("sealed-key:{name}").into_bytes()
}

/// A failure of the master-key set-up or of a rotation step, said for the operator.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    /// The kept code-hash key does not open with any configured master key.
    #[error(
        "the code-hash key in the database is sealed under key id {found}, which none of the \
         configured master keys ({have}) opens: configure the master key this database was \
         used with (master_key_file, or extra_master_key_files during a rotation)"
    )]
    KeptKeyUnreadable {
        /// The id the kept value names.
        found: String,
        /// The ids configured.
        have: String,
    },
    /// The store failed.
    #[error("database: {0}")]
    Store(String),
}

impl From<sekisho_store::StoreError> for MasterKeyError {
    fn from(e: sekisho_store::StoreError) -> Self {
        MasterKeyError::Store(e.to_string())
    }
}

impl From<MasterKeyError> for AppError {
    fn from(e: MasterKeyError) -> Self {
        tracing::error!("{e}");
        Error::Internal.into()
    }
}

/// `secrets` with the deployment's code-hash MAC key: the kept one, or `initial` (the key
/// derived from the current master key, as earlier versions used it) kept now if there is none
/// yet. Several instances starting at once keep one and the same.
pub async fn with_kept_mac_key(
    store: &dyn Store,
    secrets: SecretBox,
    initial: [u8; 32],
    rng: &dyn Random,
    now: Timestamp,
) -> Result<SecretBox, MasterKeyError> {
    let aad = kept_key_aad(CODE_HASH_KEY);
    let sealed = match store.kept_key(CODE_HASH_KEY).await? {
        Some(s) => s,
        None => {
            let mine = secrets
                .seal(&initial, &aad, random_bytes(rng))
                .ok_or_else(|| MasterKeyError::Store("cannot seal the code-hash key".into()))?;
            store.keep_key(CODE_HASH_KEY, &mine, now).await?
        }
    };
    let key: Option<[u8; 32]> = secrets.open(&sealed, &aad).and_then(|k| k.try_into().ok());
    match key {
        Some(k) => Ok(secrets.with_mac_key(k)),
        None => Err(MasterKeyError::KeptKeyUnreadable {
            found: sekisho_core::secret_box::sealed_key_id(&sealed)
                .unwrap_or("?")
                .to_owned(),
            have: secrets.key_ids().join(", "),
        }),
    }
}

/// What re-sealing one column did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnReport {
    /// The column.
    pub column: SealedColumn,
    /// Values now under the new key.
    pub resealed: u64,
    /// Values a server changed between the read and the write (left as the server wrote them).
    pub changed_meanwhile: u64,
    /// Internal keys of values no configured key opens (left as they are).
    pub unreadable: Vec<i64>,
    /// Values still not under the new key after the walk.
    pub left: u64,
}

/// Re-seals every value of `column` that is not under `secrets`' sealing key id, `batch` per
/// transaction, each with its own associated data. Idempotent and resumable: values already
/// under the new id are not read again; a value changed by a server in between is not
/// overwritten (the compare in [`sekisho_store::SealedStore::replace_sealed`]).
pub async fn reseal_column(
    store: &dyn Store,
    secrets: &SecretBox,
    column: SealedColumn,
    batch: u32,
    rng: &dyn Random,
) -> Result<ColumnReport, MasterKeyError> {
    let key_id = secrets.seal_id().to_owned();
    let mut report = ColumnReport {
        column,
        resealed: 0,
        changed_meanwhile: 0,
        unreadable: Vec::new(),
        left: 0,
    };
    let mut after = 0;
    loop {
        let values = store
            .sealed_not_under(column, &key_id, after, batch.max(1))
            .await?;
        let Some(last) = values.last() else { break };
        after = last.id;
        let mut changes = Vec::with_capacity(values.len());
        for v in values {
            match secrets.reseal(&v.sealed, &aad(column, &v.binding), random_bytes(rng)) {
                Some(new) => changes.push(Reseal {
                    id: v.id,
                    old: v.sealed,
                    new,
                }),
                None => report.unreadable.push(v.id),
            }
        }
        let done = store.replace_sealed(column, &changes).await?;
        report.resealed += done;
        report.changed_meanwhile += changes.len() as u64 - done;
    }
    report.left = store.count_not_under(column, &key_id).await?;
    Ok(report)
}

/// How many values of each column are not under `key_id` (the columns with none left out).
pub async fn remaining(
    store: &dyn Store,
    key_id: &str,
) -> Result<Vec<(SealedColumn, u64)>, MasterKeyError> {
    let mut out = Vec::new();
    for &c in SealedColumn::ALL {
        let n = store.count_not_under(c, key_id).await?;
        if n > 0 {
            out.push((c, n));
        }
    }
    Ok(out)
}

/// Records the start or the end of a rotation to `key_id` in the audit trail.
pub async fn audit_rotation(
    store: &dyn Store,
    finished: bool,
    key_id: &str,
    detail: &str,
    now: Timestamp,
) -> Result<(), MasterKeyError> {
    let (ty, what) = if finished {
        (EventType::MasterKeyRotationFinished, "finished")
    } else {
        (EventType::MasterKeyRotationStarted, "started")
    };
    let ev = NewAuditEvent::new(
        now,
        ty,
        None,
        Actor::System,
        &ClientInfo {
            ip: None,
            user_agent: Some("sekisho-cli".into()),
        },
        format!("master key rotation to {key_id} {what}: {detail}"),
    );
    store.append_audit(&ev).await?;
    Ok(())
}
