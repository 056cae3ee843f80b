//! Passwords: the policy a new password must meet, and Argon2id hashing.

mod hash;
mod policy;
mod rules;

pub use hash::{HashMemory, HashParams, PasswordHasher};
pub use policy::{PasswordPolicy, Preset};
pub use rules::{common_passwords, full_width_note, Rule};
