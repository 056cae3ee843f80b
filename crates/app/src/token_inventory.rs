//! Importing token seed files into the inventory, shared by the admin API and the
//! `sekisho tokens import` CLI: parse (off the async workers), seal every secret under the master
//! key at once, store all tokens in one transaction, report.

use crate::error::{AppError, ErrorContext};
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::clock::random_bytes;
use sekisho_core::import::{
    looks_like_xml, parse_csv_with, parse_pskc_with, Decryption, ImportError, Location,
    ParseOptions, ParsedFile,
};
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{Error, Random, Timestamp};
use sekisho_store::{NewToken, Store};
use serde::Serialize;

/// The format of a seed file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeedFormat {
    /// PSKC (RFC 6030) XML.
    Pskc,
    /// OATH CSV.
    Csv,
}

impl SeedFormat {
    /// From a `Content-Type`: `application/pskc+xml` (RFC 6030's media type),
    /// `application/xml` or `text/xml` for PSKC; `text/csv` for CSV. Parameters are ignored.
    pub fn from_content_type(ct: &str) -> Option<SeedFormat> {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        let is = |m: &str| essence.eq_ignore_ascii_case(m);
        if is("application/pskc+xml") || is("application/xml") || is("text/xml") {
            Some(SeedFormat::Pskc)
        } else if is("text/csv") {
            Some(SeedFormat::Csv)
        } else {
            None
        }
    }

    /// From the content, for files whose name says nothing (multiOTP's `.txt`): XML is PSKC,
    /// anything else CSV.
    pub fn sniff(bytes: &[u8]) -> SeedFormat {
        if looks_like_xml(bytes) {
            SeedFormat::Pskc
        } else {
            SeedFormat::Csv
        }
    }

    /// From a file name's extension: `.xml`, `.pskc`, `.pskcxml` or `.csv`.
    pub fn from_file_name(name: &str) -> Option<SeedFormat> {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        match ext.as_str() {
            "xml" | "pskc" | "pskcxml" => Some(SeedFormat::Pskc),
            "csv" => Some(SeedFormat::Csv),
            _ => None,
        }
    }
}

/// An entry that was not imported.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedEntry {
    /// `line 3` or `KeyPackage 2`.
    pub location: String,
    /// CSV line (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// PSKC KeyPackage (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_package: Option<usize>,
    /// Its token ID, if one could be read.
    pub token_id: Option<String>,
    /// Why.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The batch label stored with the tokens.
    pub batch: String,
    /// The file's format.
    pub format: SeedFormat,
    /// Whether anything was written (false when rejections stopped the import).
    pub stored: bool,
    /// Token IDs put in stock.
    pub imported: Vec<String>,
    /// Token IDs already in the inventory, skipped.
    pub duplicates: Vec<String>,
    /// Entries that cannot be imported.
    pub rejected: Vec<RejectedEntry>,
}

/// One import request.
pub struct ImportRequest {
    /// The file.
    pub bytes: Vec<u8>,
    /// Its format.
    pub format: SeedFormat,
    /// How to open encrypted PSKC secrets.
    pub decryption: Decryption,
    /// Label stored with every token.
    pub batch: String,
    /// Import the usable entries even if others are rejected (default: all or nothing).
    pub skip_rejected: bool,
    /// Accept secrets under 128 bits (test tokens only).
    pub allow_short_secrets: bool,
}

/// Checks a batch label: 1 to 100 characters, no control characters.
pub fn batch_label(s: &str) -> Result<String, AppError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(Error::InvalidRequest("batch must be 1 to 100 characters".into()).into());
    }
    Ok(s.to_owned())
}

/// Reads a pre-shared key given in hex: 16, 24 or 32 bytes.
pub fn psk_from_hex(hex_text: &str) -> Result<Vec<u8>, AppError> {
    match hex::decode(hex_text.trim()) {
        Ok(k) if [16, 24, 32].contains(&k.len()) => Ok(k),
        _ => Err(Error::InvalidRequest(
            "psk_hex must be 32, 48 or 64 hex characters (an AES-128/192/256 key)".into(),
        )
        .into()),
    }
}

/// The associated data of a token's sealed secret: the secret opens only on its own row.
pub fn secret_aad(token_id: &str) -> Vec<u8> {
    format!("token:{token_id}").into_bytes()
}

fn file_error(e: ImportError) -> AppError {
    match e {
        ImportError::KeyRequired | ImportError::KeyNotApplicable | ImportError::WrongKey => {
            Error::TokenFileKey(e.to_string()).into()
        }
        ImportError::NoKeyPackage(d) => Error::TokenFileNoKeys(d).into(),
        _ => Error::TokenFileInvalid(e.to_string()).into(),
    }
}

fn rejected(parsed: &ParsedFile) -> Vec<RejectedEntry> {
    parsed
        .rejected
        .iter()
        .map(|r| RejectedEntry {
            location: r.location.to_string(),
            line: match r.location {
                Location::Line(n) => Some(n),
                Location::KeyPackage(_) => None,
            },
            key_package: match r.location {
                Location::KeyPackage(n) => Some(n),
                Location::Line(_) => None,
            },
            token_id: r.token_id.clone(),
            reason: r.reason.clone(),
        })
        .collect()
}

/// Imports a seed file: all its usable tokens in one transaction, or — when some entries are
/// rejected and `skip_rejected` is not set — nothing, answering `token_import_rejected` with the
/// report in the error body. Tokens already in the inventory are skipped, never overwritten.
#[allow(clippy::too_many_arguments)]
pub async fn import_seed_file(
    store: &dyn Store,
    secrets: &SecretBox,
    rng: &dyn Random,
    now: Timestamp,
    req: ImportRequest,
    actor: Actor,
    client: &ClientInfo,
) -> Result<ImportReport, AppError> {
    let ImportRequest {
        bytes,
        format,
        decryption,
        batch,
        skip_rejected,
        allow_short_secrets,
    } = req;
    let options = ParseOptions {
        allow_short_secrets,
    };
    // Parsing a large file or deriving a PBKDF2 key is CPU work: keep it off the async workers.
    let parsed = tokio::task::spawn_blocking(move || match format {
        SeedFormat::Pskc => parse_pskc_with(&bytes, &decryption, options),
        SeedFormat::Csv => parse_csv_with(&bytes, options),
    })
    .await
    .map_err(|_| AppError::from(Error::Internal))?
    .map_err(file_error)?;
    let mut report = ImportReport {
        batch: batch.clone(),
        format,
        stored: false,
        imported: Vec::new(),
        duplicates: Vec::new(),
        rejected: rejected(&parsed),
    };
    if !report.rejected.is_empty() && !skip_rejected {
        let ev = NewAuditEvent::new(
            now,
            EventType::TokensImported,
            None,
            actor,
            client,
            format!(
                "batch {batch}: {} entries rejected, nothing imported",
                report.rejected.len()
            ),
        )
        .with_error(Error::TokenImportRejected.code());
        store.append_audit(&ev).await?;
        return Err(AppError::with(
            Error::TokenImportRejected,
            ErrorContext::ImportRejected(Box::new(report)),
        ));
    }
    if parsed.tokens.is_empty() {
        // Every entry was rejected and skipping them leaves nothing: an import of nothing is
        // an error, never a success with empty lists.
        let reason = format!("all {} entries were rejected", report.rejected.len());
        return Err(AppError::with(
            Error::TokenFileNoKeys(reason),
            ErrorContext::ImportRejected(Box::new(report)),
        ));
    }
    let mut tokens = Vec::with_capacity(parsed.tokens.len());
    for t in &parsed.tokens {
        let sealed = secrets
            .seal(
                t.secret.expose(),
                &secret_aad(&t.token_id),
                random_bytes(rng),
            )
            .ok_or(Error::Internal)?;
        tokens.push(NewToken {
            token_id: t.token_id.clone(),
            kind: t.kind,
            algorithm: t.params.algorithm,
            digits: t.params.digits,
            period: t.params.period,
            counter: i64::try_from(t.counter).unwrap_or(i64::MAX),
            drift: t.drift,
            valid_from: t.valid_from,
            valid_until: t.valid_until,
            max_transactions: t
                .max_transactions
                .map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            secret_enc: sealed,
        });
    }
    drop(parsed);
    let ev = NewAuditEvent::new(
        now,
        EventType::TokensImported,
        None,
        actor,
        client,
        format!(
            "batch {batch} ({}, {} rejected)",
            match format {
                SeedFormat::Pskc => "PSKC",
                SeedFormat::Csv => "CSV",
            },
            report.rejected.len()
        ),
    );
    let outcome = store.import_tokens(&tokens, &batch, now, &ev).await?;
    report.stored = true;
    report.imported = outcome.imported;
    report.duplicates = outcome.duplicates;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(
            SeedFormat::from_content_type("application/pskc+xml"),
            Some(SeedFormat::Pskc)
        );
        assert_eq!(
            SeedFormat::from_content_type("text/xml; charset=utf-8"),
            Some(SeedFormat::Pskc)
        );
        assert_eq!(
            SeedFormat::from_content_type("TEXT/CSV"),
            Some(SeedFormat::Csv)
        );
        assert_eq!(SeedFormat::from_content_type("application/json"), None);
        assert_eq!(
            SeedFormat::from_file_name("vendor.PSKCXML"),
            Some(SeedFormat::Pskc)
        );
        assert_eq!(SeedFormat::from_file_name("a.csv"), Some(SeedFormat::Csv));
        assert_eq!(SeedFormat::from_file_name("noext"), None);
        assert_eq!(
            SeedFormat::sniff(b"\n <?xml?><KeyContainer/>"),
            SeedFormat::Pskc
        );
        assert_eq!(SeedFormat::sniff(b"serial,secret"), SeedFormat::Csv);
    }

    #[test]
    fn keys_and_labels() {
        assert!(psk_from_hex("12345678901234567890123456789012").is_ok());
        assert!(psk_from_hex("1234").is_err());
        assert!(psk_from_hex("zz345678901234567890123456789012").is_err());
        assert!(batch_label(" b1 ").is_ok());
        assert!(batch_label("").is_err());
        assert!(batch_label("a\nb").is_err());
    }
}
