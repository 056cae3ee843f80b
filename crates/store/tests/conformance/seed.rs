//! Logins seeded in bulk: each with its active factor and its audit record (chained), usable at
//! once by the code checks; a taken login ID refuses the whole call.

use super::{ev, new_login, ok, Db};
use sekisho_core::audit::EventType;
use sekisho_core::otp::{Algorithm, OtpKind};
use sekisho_core::Timestamp;
use sekisho_store::{NewToken, SeedFactor, SeedLogin, StoreError, TokenState};

fn seed(i: usize) -> SeedLogin {
    let login_id = format!("seed{i:05}");
    let factor = if i.is_multiple_of(2) {
        SeedFactor::App {
            uid: format!("u-{login_id}"),
            secret_enc: "sealed".into(),
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
        }
    } else {
        SeedFactor::Token(NewToken {
            token_id: format!("SEED{i:05}"),
            kind: OtpKind::Hotp,
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
            counter: 0,
            drift: 0,
            valid_from: None,
            valid_until: None,
            max_transactions: None,
            secret_enc: "sealed".into(),
        })
    };
    SeedLogin {
        login: new_login(&login_id),
        factor,
        audit: ev(1_000, EventType::LoginCreated, &login_id),
    }
}

pub(crate) async fn seeded_logins_have_active_factors_and_audit(db: Db) {
    let s = &db.store;
    // More than one statement's worth of rows (1,000).
    let seeds: Vec<SeedLogin> = (0..2_500).map(seed).collect();
    ok(s.seed_logins(&seeds).await);

    let app = ok(s.code_target("seed00000").await).unwrap_or_else(|| unreachable!());
    let f = app.totp.unwrap_or_else(|| unreachable!("an active app"));
    assert_eq!(f.last_step, Some(0));
    assert!(ok(s
        .accept_otp(f.id, 1, 0, Timestamp(2_000), false, None)
        .await));

    let holder = ok(s.code_target("seed02499").await).unwrap_or_else(|| unreachable!());
    assert!(holder.totp.is_none());
    let t = ok(s.get_token("SEED02499").await).unwrap_or_else(|| unreachable!());
    assert_eq!(t.state, TokenState::Assigned);
    assert_eq!(t.login_pk, Some(holder.login_pk));
    assert!(t.registered_at.is_some());
    // HOTP counter 0 accepted (recorded as 1), once.
    assert!(ok(s
        .accept_token_code(t.id, 1, 0, Timestamp(2_000), None)
        .await));
    assert!(!ok(s
        .accept_token_code(t.id, 1, 0, Timestamp(2_001), None)
        .await));

    let report = ok(s.verify_audit_chain(1_000).await);
    assert_eq!(report.broken, None);
    assert_eq!(report.verified, 2_500);

    // A taken login ID: nothing of the call is kept.
    let again = vec![seed(9_000), seed(2_499)];
    assert!(matches!(
        s.seed_logins(&again).await,
        Err(StoreError::Conflict)
    ));
    assert!(ok(s.get_login("seed09000").await).is_none());
    assert_eq!(ok(s.verify_audit_chain(1_000).await).verified, 2_500);
}

/// A bulk seed leaves the planner statistics of what it filled: without them PostgreSQL planned
/// the group commit of accepted token codes as a scan of every token per batch (300 ms a batch
/// after 20,000 seeded logins; validation stalled at a few hundred a second until autovacuum
/// analyzed the table a minute or more later).
pub(crate) async fn seeded_tables_have_planner_statistics(db: Db) {
    let s = &db.store;
    let seeds: Vec<SeedLogin> = (0..2_000).map(seed).collect();
    ok(s.seed_logins(&seeds).await);
    sqlx::any::install_default_drivers();
    let pool = ok(sqlx::AnyPool::connect(&db.url).await);
    for (table, seeded) in [("logins", 2_000), ("otp_factors", 1_000), ("tokens", 1_000)] {
        let known: i64 = if db.url.starts_with("sqlite:") {
            // `ANALYZE` writes a row count per index into sqlite_stat1 ("rows rows-per-key…").
            let stat: String = ok(sqlx::query_scalar(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = $1 ORDER BY idx LIMIT 1",
            )
            .bind(table)
            .fetch_one(&pool)
            .await);
            stat.split(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        } else {
            // -1 until the table is first analyzed.
            ok(sqlx::query_scalar(
                "SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE relname = $1",
            )
            .bind(table)
            .fetch_one(&pool)
            .await)
        };
        assert!(
            known >= seeded,
            "{table}: the planner knows {known} rows, {seeded} seeded"
        );
    }
}
