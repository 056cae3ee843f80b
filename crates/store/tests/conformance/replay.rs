//! The replay rule (a step or counter is accepted once, only if greater than the last accepted
//! one) for every kind of one-time code the store records: an authenticator app, a TOTP token,
//! an HOTP token and an operator's code. Run on both backends by `on_both!`.

use super::{ev, new_login, ok, pending_totp, Db};
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::operator::OperatorRole;
use sekisho_core::otp::{Algorithm, OtpKind};
use sekisho_core::Timestamp;
use sekisho_store::{AssignOutcome, NewToken};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Concurrent answers of one step.
const RACERS: usize = 16;

/// Applies the rule through `accept` (which records the value and answers whether the store
/// let it through), starting from a value the store has not seen.
async fn the_rule_holds<F, Fut>(what: &str, accept: F, first: i64)
where
    F: Fn(i64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    assert!(accept(first).await, "{what}: a fresh step is accepted");
    assert!(
        !accept(first).await,
        "{what}: the same step twice, the second is refused"
    );
    assert!(!accept(first - 1).await, "{what}: an older step is refused");
    let next = first + 1;
    let racers: Vec<_> = (0..RACERS)
        .map(|_| tokio::spawn(accept.clone()(next)))
        .collect();
    let mut winners = 0;
    for r in racers {
        winners += usize::from(ok(r.await));
    }
    assert_eq!(
        winners, 1,
        "{what}: {RACERS} answers of one step, one winner"
    );
    assert!(!accept(next).await, "{what}: the raced step stays used");
    assert!(accept(next + 1).await, "{what}: the next step is accepted");
}

pub(crate) async fn replay_rule_for_authenticator_apps(db: Db) {
    let s = db.store.clone();
    let login = ok(s
        .create_login(
            &new_login("replay01"),
            &ev(1, EventType::LoginCreated, "replay01"),
        )
        .await);
    let f = ok(s
        .put_pending_totp(
            &pending_totp(login.id, "rp1"),
            &ev(100, EventType::LoginUpdated, "replay01"),
        )
        .await);
    assert!(ok(s
        .accept_otp(f.id, 1_000, 0, Timestamp(110), true, None)
        .await));
    let accept = move |step: i64| {
        let s = s.clone();
        async move {
            let audit = ev(120, EventType::LoginSucceeded, "replay01");
            ok(
                s.accept_otp(f.id, step, 0, Timestamp(120), false, Some(&audit))
                    .await,
            )
        }
    };
    the_rule_holds("authenticator app", accept, 1_001).await;
}

fn token(id: &str, kind: OtpKind) -> NewToken {
    NewToken {
        token_id: id.into(),
        kind,
        algorithm: Algorithm::Sha1,
        digits: 6,
        period: 30,
        counter: 0,
        drift: 0,
        valid_from: None,
        valid_until: None,
        max_transactions: None,
        secret_enc: "k1:t".into(),
    }
}

/// Imports and registers a token of `kind` for a new login; answers the token's key.
async fn registered_token(db: &Db, id: &'static str, kind: OtpKind, login_id: &str) -> i64 {
    let s = &db.store;
    ok(s.import_tokens(
        &[token(id, kind)],
        id,
        Timestamp(1),
        &ev(1, EventType::TokensImported, ""),
    )
    .await);
    let login = ok(s
        .create_login(
            &new_login(login_id),
            &ev(1, EventType::LoginCreated, login_id),
        )
        .await);
    let (counter, step) = match kind {
        OtpKind::Hotp => (3, None),
        OtpKind::Totp => (0, Some(100)),
    };
    let registered = ok(s
        .register_token(
            id,
            login.id,
            1,
            counter,
            step,
            0,
            Timestamp(10),
            &ev(10, EventType::TokenRegistered, login_id),
        )
        .await);
    assert_eq!(registered, AssignOutcome::Assigned);
    ok(s.get_token(id).await)
        .unwrap_or_else(|| unreachable!("token {id}"))
        .id
}

pub(crate) async fn replay_rule_for_totp_tokens(db: Db) {
    let id = registered_token(&db, "RP-TOTP", OtpKind::Totp, "replay02").await;
    let s = db.store.clone();
    let accept = move |step: i64| {
        let s = s.clone();
        async move { ok(s.accept_token_code(id, step, 0, Timestamp(20), None).await) }
    };
    the_rule_holds("TOTP token", accept, 101).await;
}

pub(crate) async fn replay_rule_for_hotp_tokens(db: Db) {
    let id = registered_token(&db, "RP-HOTP", OtpKind::Hotp, "replay03").await;
    let s = db.store.clone();
    // The value recorded for HOTP is the accepted counter + 1 (the next expected counter):
    // counter 3 is accepted by recording 4.
    let accept = move |counter: i64| {
        let s = s.clone();
        async move {
            ok(s.accept_token_code(id, counter + 1, 0, Timestamp(20), None)
                .await)
        }
    };
    the_rule_holds("HOTP token", accept, 3).await;
}

fn op_ev(t: i64, ty: EventType) -> NewAuditEvent {
    NewAuditEvent::new(
        Timestamp(t),
        ty,
        None,
        Actor::Operator("kato".into()),
        &ClientInfo::default(),
        ty.as_str(),
    )
}

pub(crate) async fn replay_rule_for_operator_codes(db: Db) {
    let s = db.store.clone();
    let op = ok(s
        .create_operator(
            "kato",
            OperatorRole::Support,
            "rp-setup",
            Timestamp(1_000),
            Timestamp(10),
            &op_ev(10, EventType::OperatorCreated),
        )
        .await);
    assert!(ok(s
        .set_operator_credentials(op.id, "rp-setup", "argon", "k1:sealed", Timestamp(20))
        .await));
    assert!(ok(s
        .complete_operator_setup(
            op.id,
            "rp-setup",
            50,
            Timestamp(21),
            &op_ev(21, EventType::OperatorSetupCompleted)
        )
        .await));
    let sessions = Arc::new(AtomicU64::new(0));
    let accept = move |step: i64| {
        let s = s.clone();
        let n = sessions.fetch_add(1, Ordering::Relaxed);
        async move {
            ok(s.create_operator_session(
                op.id,
                &format!("rp-session-{n}"),
                step,
                Timestamp(30),
                Timestamp(90),
                None,
                None,
                &op_ev(30, EventType::OperatorLoginSucceeded),
            )
            .await)
            .is_some()
        }
    };
    the_rule_holds("operator code", accept, 51).await;
}
