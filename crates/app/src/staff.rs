//! The firm's side of a use case: who asks (an operator or an admin API token), for the audit
//! and the role check, and the login it names.

use crate::error::AppError;
use crate::state::App;
use sekisho_core::audit::Actor;
use sekisho_core::login::Login;
use sekisho_core::validate::LoginId;
use sekisho_core::Error;

/// Who on the firm's side asks.
#[derive(Debug, Clone)]
pub struct StaffCaller {
    /// Recorded in the audit.
    pub actor: Actor,
    /// May change credentials (the `admin` role, or an admin API token); support may not.
    pub admin: bool,
}

impl StaffCaller {
    /// `admin_role_required` unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.admin {
            Ok(())
        } else {
            Err(Error::AdminRoleRequired.into())
        }
    }
}

/// The login an operator names, or `login_not_found`.
pub async fn named_login(app: &App, login_id: &str) -> Result<Login, AppError> {
    let id = LoginId::parse(login_id).map_err(|_| Error::LoginNotFound)?;
    Ok(app
        .store
        .get_login(id.as_str())
        .await?
        .ok_or(Error::LoginNotFound)?)
}
