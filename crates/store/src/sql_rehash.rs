//! Upgrading a password hash to the current Argon2 parameters after a successful login.

use crate::sql::SqlStore;
use crate::{PasswordOwner, StoreResult};

impl SqlStore {
    /// See [`crate::Store::rehash_password`]. The `WHERE` on the old hash makes a concurrent
    /// password change win: a rehash never overwrites a new password with the old one.
    pub(crate) async fn rehash_password(
        &self,
        owner: PasswordOwner,
        old_hash: &str,
        new_hash: &str,
    ) -> StoreResult<bool> {
        let (sql, id) = match owner {
            PasswordOwner::Login(pk) => (
                "UPDATE logins SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
                pk,
            ),
            PasswordOwner::Operator(id) => (
                "UPDATE operators SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
                id,
            ),
        };
        let n = sqlx::query(sql)
            .bind(id)
            .bind(old_hash.to_owned())
            .bind(new_hash.to_owned())
            .execute(&self.write)
            .await?
            .rows_affected();
        Ok(n > 0)
    }
}
