//! The replay rule in SQL, written once: a time step (TOTP) or counter (HOTP) is accepted once,
//! and only if it is greater than the last accepted one (`sekisho_core::otp::replay` is the
//! same rule for the OTP engine; a test below checks that the two agree).
//!
//! Every statement that records an accepted code carries [`advances!`] in its `WHERE`:
//! authenticator apps (the group commit in [`crate::codes`] on PostgreSQL and the hot path in
//! [`crate::sqlite_hot`] on SQLite), tokens ([`crate::sql_tokens`]) and operators' codes
//! ([`crate::sql_operators`]). Because the condition and the write are one statement, two
//! requests with the same code (on any instance) cannot both pass: the database lets exactly
//! one update through. The macro expands at compile time into a string literal, so the
//! statements stay constant text and are prepared and cached as before.

/// `advances!("last_step", "?2")`: the SQL condition under which writing the new value `?2`
/// into the column `last_step` respects the replay rule, i.e. the column is still empty
/// (nothing accepted yet) or holds a smaller value.
///
/// For TOTP the column holds the last accepted step and the new value is the accepted step.
/// For HOTP the column holds the next expected counter and the new value is the accepted
/// counter + 1; "next < accepted + 1" is "last accepted < accepted", the same rule.
macro_rules! advances {
    ($column:literal, $new:literal) => {
        concat!("(", $column, " IS NULL OR ", $column, " < ", $new, ")")
    };
}

pub(crate) use advances;

#[cfg(test)]
mod tests {
    use rusqlite::Connection;
    use sekisho_core::otp::replay::{is_fresh, last_accepted_counter};

    #[test]
    fn the_condition_reads_as_written() {
        assert_eq!(
            advances!("last_step", "?2"),
            "(last_step IS NULL OR last_step < ?2)"
        );
    }

    /// The SQL condition lets a write through exactly when the engine's rule calls the step
    /// fresh, for TOTP steps and for HOTP counters (stored as the next expected one).
    #[test]
    fn sql_and_engine_agree() -> rusqlite::Result<()> {
        let db = Connection::open_in_memory()?;
        let sql = concat!("SELECT ", advances!("c", "?2"), " FROM (SELECT ?1 AS c)");
        let mut stmt = db.prepare(sql)?;
        let mut holds = |stored: Option<i64>, new: i64| -> rusqlite::Result<bool> {
            stmt.query_row(rusqlite::params![stored, new], |r| r.get::<_, i64>(0))
                .map(|v| v == 1)
        };
        for last in [None, Some(0), Some(5), Some(100)] {
            for step in [-1, 0, 4, 5, 6, 99, 100, 101] {
                assert_eq!(
                    holds(last, step)?,
                    is_fresh(last, step),
                    "TOTP {last:?} {step}"
                );
            }
        }
        for next in [0u64, 1, 5, 10] {
            for accepted in [0i64, 3, 4, 5, 6, 11] {
                let sql_says = holds(Some(i64::try_from(next).unwrap_or(i64::MAX)), accepted + 1)?;
                let engine_says = is_fresh(last_accepted_counter(next), accepted);
                assert_eq!(
                    sql_says, engine_says,
                    "HOTP next {next}, accepted {accepted}"
                );
            }
        }
        Ok(())
    }
}
