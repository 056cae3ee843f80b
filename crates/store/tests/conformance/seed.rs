//! Logins seeded in bulk: each with its active factor and its audit record (chained), usable at
//! once by the code checks; or with a password, and an e-mail code waiting, usable at once by
//! the password check and the second step; a taken login ID refuses the whole call.

use super::{ev, new_login, ok, Db};
use sekisho_core::audit::EventType;
use sekisho_core::login::SecondFactor;
use sekisho_core::otp::{Algorithm, OtpKind};
use sekisho_core::session::SessionPurpose;
use sekisho_core::Timestamp;
use sekisho_store::{
    IssuedCode, NewSession, NewToken, SeedChallenge, SeedFactor, SeedLogin, StoreError, TokenState,
};

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
        password_hash: None,
        factor,
        challenge: None,
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

/// A login with a password (shared PHC string) and, for odd `i`, e-mail codes and a challenge
/// waiting for code `code{i}` (hash `hash{i}`), sent at 1,000, valid until 1,300.
fn with_password(i: usize) -> SeedLogin {
    let login_id = format!("pw{i:05}");
    let mut login = new_login(&login_id);
    let challenge = (i % 2 == 1).then(|| {
        login.second_factor = SecondFactor::Email;
        login.mfa_required = true;
        SeedChallenge {
            token_hash: format!("ch{i:05}"),
            methods: vec!["email".into()],
            expires_at: Timestamp(1_600),
            code: IssuedCode {
                hash: format!("hash{i}"),
                expires_at: Timestamp(1_300),
                fail_limit: 5,
                now: Timestamp(1_000),
            },
        }
    });
    SeedLogin {
        login,
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        factor: SeedFactor::None,
        challenge,
        audit: ev(1_000, EventType::LoginCreated, &login_id),
    }
}

pub(crate) async fn seeded_logins_have_passwords_and_pending_codes(db: Db) {
    let s = &db.store;
    // More than one statement's worth of rows (100).
    let seeds: Vec<SeedLogin> = (0..250).map(with_password).collect();
    ok(s.seed_logins(&seeds).await);

    let plain = ok(s.get_login("pw00000").await).unwrap_or_else(|| unreachable!("seeded"));
    assert_eq!(plain.password_hash, seeds[0].password_hash);
    assert!(!plain.password_temporary, "a permanent password");
    assert_eq!(plain.password_changed_at, Some(Timestamp(1_000)));
    assert_eq!(plain.second_factor, SecondFactor::None);
    assert!(ok(s.get_challenge("ch00000").await).is_none());

    let waiting = ok(s.get_login("pw00249").await).unwrap_or_else(|| unreachable!("seeded"));
    assert_eq!(waiting.second_factor, SecondFactor::Email);
    assert_eq!(waiting.password_hash, seeds[0].password_hash);
    let ch = ok(s.get_challenge("ch00249").await).unwrap_or_else(|| unreachable!("seeded"));
    assert_eq!((ch.login_pk, ch.login_id.as_str()), (waiting.id, "pw00249"));
    assert_eq!(ch.methods, vec!["email".to_owned()]);
    assert_eq!((ch.expires_at, ch.completed_at), (Timestamp(1_600), None));
    assert_eq!(ch.code_hash.as_deref(), Some("hash249"));
    let st = ch.code.unwrap_or_else(|| unreachable!("a code was sent"));
    assert_eq!((st.failures, st.fail_limit, st.sends), (0, 5, 1));
    assert_eq!(
        (st.sent_at, st.expires_at),
        (Timestamp(1_000), Timestamp(1_300))
    );
    assert_eq!(
        ok(
            s.fail_email_code(ch.id, &ev(1_010, EventType::SecondFactorFailed, "pw00249"))
                .await
        ),
        1
    );

    // The challenge yields one session, as one opened by the password step does.
    let session = |token: &str| NewSession {
        token_hash: token.into(),
        login_pk: waiting.id,
        purpose: SessionPurpose::Full,
        methods: vec!["pwd".into(), "email".into()],
        now: Timestamp(1_020),
        expires_at: Timestamp(9_000),
        client_ip: None,
        user_agent: None,
        challenge_id: Some(ch.id),
    };
    let done = ev(1_020, EventType::LoginSucceeded, "pw00249");
    assert!(ok(s.create_session(&session("s1"), &done).await).is_some());
    assert!(ok(s.create_session(&session("s2"), &done).await).is_none());

    let report = ok(s.verify_audit_chain(1_000).await);
    assert_eq!(report.broken, None);

    // A taken challenge token: nothing of the call is kept.
    let mut again = vec![with_password(1_001), with_password(3)];
    again[1].login.login_id = "pw01003".into();
    assert!(matches!(
        s.seed_logins(&again).await,
        Err(StoreError::Conflict)
    ));
    assert!(ok(s.get_login("pw01001").await).is_none());
    assert!(ok(s.get_challenge("ch01001").await).is_none());
}
