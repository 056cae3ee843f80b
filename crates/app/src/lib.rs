//! Sekisho's application layer: the use cases that the JSON API, the hosted pages, the operator
//! console and the CLI share, with typed inputs and outcomes. No HTTP here: the doors extract,
//! call a use case with the [`App`] context, and render.

pub mod audit_history;
mod audit_words;
pub mod auth;
pub mod client_addr;
pub mod code_address;
pub mod devices;
pub mod email_code;
pub mod error;
pub mod factor_guard;
pub mod flow;
pub mod hashing;
pub mod hwtoken;
pub mod keys;
pub mod login;
pub mod login_admin;
pub mod login_challenge;
pub mod mail;
pub mod master_key;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod operators;
pub mod passkey;
pub mod passkey_login;
pub mod recovery;
pub mod seed;
pub mod sessions;
pub mod settings;
pub mod setup_links;
pub mod staff;
pub mod state;
pub mod step_up;
pub mod system;
pub mod throttle;
pub mod token_admin;
pub mod token_inventory;
pub mod tokens;
pub mod totp;
pub mod totp_enrol;
pub mod trading;

pub use error::{AppError, ErrorContext};
pub use hashing::HashPool;
pub use settings::{
    BrandingSettings, OperatorSettings, PagesSettings, RecoverySettings, SessionSettings, Settings,
    TokenSettings, TotpSettings,
};
pub use state::App;
pub use step_up::StepUpSettings;
pub mod zone;
