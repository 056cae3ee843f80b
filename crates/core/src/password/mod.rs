//! Passwords: the policy a new password must meet, and Argon2id hashing.

mod hash;
mod policy;

pub use hash::{HashMemory, HashParams, PasswordHasher};
pub use policy::{PasswordPolicy, Preset};
