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
