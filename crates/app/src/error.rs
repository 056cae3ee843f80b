//! The application's error: a domain error from the catalogue, plus — only where a client is
//! told more than the error itself — a typed context that the doors render.

use crate::token_inventory::ImportReport;
use sekisho_core::{Error, Timestamp};
use sekisho_store::StoreError;

/// A use case's failure: the catalogue error and what else the client is told.
#[derive(Debug, Clone)]
pub struct AppError {
    /// The error.
    pub error: Error,
    /// What the answer carries besides the error (boxed: most errors carry nothing).
    pub context: Option<Box<ErrorContext>>,
}

/// What an error answer carries besides the error itself.
#[derive(Debug, Clone)]
pub enum ErrorContext {
    /// No second factor yet, but an operator's setup link for one is waiting.
    SetupLinkPending {
        /// When the link stops working.
        expires_at: Timestamp,
        /// Where to go, in the login's language.
        hint: String,
    },
    /// Seconds until the refused request may be sent again.
    RetryAfter(i64),
    /// Wrong codes still allowed before the pending change is dropped.
    TriesLeft(i64),
    /// The token file's report (nothing was imported).
    ImportRejected(Box<ImportReport>),
}

impl AppError {
    /// The error with `context`.
    pub fn with(error: Error, context: ErrorContext) -> AppError {
        AppError {
            error,
            context: Some(Box::new(context)),
        }
    }
}

impl From<Error> for AppError {
    fn from(error: Error) -> Self {
        AppError {
            error,
            context: None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if let StoreError::Unavailable(why) = &e {
            tracing::warn!(error = %why, "database unavailable; answered 503");
            return Error::StorageUnavailable.into();
        }
        tracing::error!(error = %e, "storage failure");
        Error::Internal.into()
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for AppError {}
