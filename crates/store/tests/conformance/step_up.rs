//! Conformance cases for step-up requests and signing keys (run on both backends by `on_both!`).

use super::{count, ev, new_login, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::step_up::{ConfirmMethod, OperationKind, StepUpState};
use sekisho_core::Timestamp;
use sekisho_store::{NewStepUp, SigningKey, StepUpAnswer};

fn request(login_pk: i64, hash: &str, now: i64, ttl: i64) -> NewStepUp {
    NewStepUp {
        id_hash: hash.into(),
        login_pk,
        login_id: "su1".into(),
        kind: OperationKind::Withdrawal,
        description: "出金 1,500,000円 → みずほ銀行 本店 普通 1234567".into(),
        amount: Some(("1500000".into(), "JPY".into())),
        api_token_id: 7,
        audience: "trade-web".into(),
        return_to: "https://trade.example.co.jp/withdraw/done".into(),
        now: Timestamp(now),
        expires_at: Timestamp(now + ttl),
    }
}

fn confirmed(proof: &str) -> StepUpAnswer {
    StepUpAnswer::Confirmed {
        method: ConfirmMethod::Totp,
        proof_sealed: proof.into(),
    }
}

pub(crate) async fn step_ups_are_answered_once_and_expire(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("su1"), &ev(1, EventType::LoginCreated, "su1"))
        .await);
    let req = ok(s
        .create_step_up(
            &request(login.id, "h1", 100, 300),
            &ev(100, EventType::StepUpRequested, "su1"),
        )
        .await);
    assert_eq!(req.state, StepUpState::Pending);
    assert_eq!(req.amount.as_deref(), Some("1500000"));
    assert_eq!(req.currency.as_deref(), Some("JPY"));
    let read = ok(s.get_step_up("h1").await).unwrap_or_else(|| unreachable!("no request"));
    assert_eq!(read, req);
    assert_eq!(ok(s.get_step_up("nope").await), None);
    // No proof before it is confirmed.
    assert_eq!(ok(s.take_step_up_proof("h1", Timestamp(110)).await), None);

    let done = ev(120, EventType::StepUpConfirmed, "su1");
    assert!(ok(s
        .answer_step_up("h1", &confirmed("sealed-proof"), Timestamp(120), &done)
        .await));
    // Answered once: neither a second confirmation nor a refusal changes it.
    assert!(!ok(s
        .answer_step_up("h1", &confirmed("other"), Timestamp(121), &done)
        .await));
    let refused = ev(122, EventType::StepUpRefused, "su1");
    assert!(!ok(s
        .answer_step_up("h1", &StepUpAnswer::Refused, Timestamp(122), &refused)
        .await));
    let read = ok(s.get_step_up("h1").await).unwrap_or_else(|| unreachable!("no request"));
    assert_eq!(read.state, StepUpState::Confirmed);
    assert_eq!(read.method.map(ConfirmMethod::as_str), Some("totp"));
    assert_eq!(read.answered_at, Some(Timestamp(120)));
    // The proof is handed out once, then gone from the database.
    assert_eq!(
        ok(s.take_step_up_proof("h1", Timestamp(130)).await).as_deref(),
        Some("sealed-proof")
    );
    assert_eq!(ok(s.take_step_up_proof("h1", Timestamp(131)).await), None);
    let read = ok(s.get_step_up("h1").await).unwrap_or_else(|| unreachable!("no request"));
    assert_eq!(
        (read.proof_sealed, read.proof_taken_at),
        (None, Some(Timestamp(130)))
    );

    // Expiry by the clock: at its end a request can no longer be answered.
    ok(s.create_step_up(
        &request(login.id, "h2", 200, 300),
        &ev(200, EventType::StepUpRequested, "su1"),
    )
    .await);
    let r2 = ok(s.get_step_up("h2").await).unwrap_or_else(|| unreachable!("no request"));
    assert_eq!(r2.state_at(Timestamp(499)), StepUpState::Pending);
    assert_eq!(r2.state_at(Timestamp(500)), StepUpState::Expired);
    assert!(!ok(s
        .answer_step_up("h2", &confirmed("p"), Timestamp(500), &done)
        .await));
    // A refusal is final too.
    ok(s.create_step_up(
        &request(login.id, "h3", 300, 300),
        &ev(300, EventType::StepUpRequested, "su1"),
    )
    .await);
    assert!(ok(s
        .answer_step_up("h3", &StepUpAnswer::Refused, Timestamp(301), &refused)
        .await));
    assert!(!ok(s
        .answer_step_up("h3", &confirmed("p"), Timestamp(302), &done)
        .await));
    assert_eq!(ok(s.take_step_up_proof("h3", Timestamp(303)).await), None);

    let n = |ty: EventType| AuditFilter {
        event_type: Some(ty),
        ..AuditFilter::default()
    };
    assert_eq!(count(&db, n(EventType::StepUpRequested)).await, 3);
    assert_eq!(count(&db, n(EventType::StepUpConfirmed)).await, 1);
    assert_eq!(count(&db, n(EventType::StepUpRefused)).await, 1);
}

pub(crate) async fn concurrent_confirmations_give_one_winner(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("su1"), &ev(1, EventType::LoginCreated, "su1"))
        .await);
    ok(s.create_step_up(
        &request(login.id, "race", 100, 300),
        &ev(100, EventType::StepUpRequested, "su1"),
    )
    .await);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let st = s.clone();
        tasks.push(tokio::spawn(async move {
            let done = ev(110 + i, EventType::StepUpConfirmed, "su1");
            let answer = if i % 2 == 0 {
                confirmed(&format!("proof-{i}"))
            } else {
                StepUpAnswer::Refused
            };
            ok(st
                .answer_step_up("race", &answer, Timestamp(110 + i), &done)
                .await)
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if ok(t.await) {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one answer wins");
    let n = AuditFilter {
        event_type: Some(EventType::StepUpConfirmed),
        ..AuditFilter::default()
    };
    assert_eq!(count(&db, n).await, 1, "one audit record, the winner's");
    // Concurrent takers of a proof: at most one gets it.
    ok(s.create_step_up(
        &request(login.id, "take", 200, 300),
        &ev(200, EventType::StepUpRequested, "su1"),
    )
    .await);
    let done = ev(201, EventType::StepUpConfirmed, "su1");
    assert!(ok(s
        .answer_step_up("take", &confirmed("the-proof"), Timestamp(201), &done)
        .await));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let st = s.clone();
        tasks.push(tokio::spawn(async move {
            ok(st.take_step_up_proof("take", Timestamp(210 + i)).await)
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        if let Some(p) = ok(t.await) {
            got.push(p);
        }
    }
    assert_eq!(got, vec!["the-proof".to_owned()]);
}

pub(crate) async fn signing_keys_are_added_and_retired(db: Db) {
    let s = &db.store;
    assert!(ok(s.signing_keys().await).is_empty());
    let k = |kid: &str, t: i64| SigningKey {
        kid: kid.into(),
        algorithm: "EdDSA".into(),
        private_sealed: format!("sealed-{kid}"),
        public_jwk: format!("{{\"kid\":\"{kid}\"}}"),
        created_at: Timestamp(t),
        retired_at: None,
    };
    ok(
        s.add_signing_key(&k("k1", 10), &ev(10, EventType::SigningKeyCreated, "-"))
            .await,
    );
    ok(
        s.add_signing_key(&k("k2", 20), &ev(20, EventType::SigningKeyCreated, "-"))
            .await,
    );
    assert!(
        s.add_signing_key(&k("k2", 21), &ev(21, EventType::SigningKeyCreated, "-"))
            .await
            .is_err(),
        "a key ID is unique"
    );
    let keys = ok(s.signing_keys().await);
    assert_eq!(keys, vec![k("k1", 10), k("k2", 20)]);
    let retire = ev(30, EventType::SigningKeyRetired, "-");
    assert_eq!(
        ok(s.retire_signing_key("k1", Timestamp(30), &retire).await),
        Some(true)
    );
    assert_eq!(
        ok(s.retire_signing_key("k1", Timestamp(31), &retire).await),
        Some(false)
    );
    assert_eq!(
        ok(s.retire_signing_key("nope", Timestamp(31), &retire).await),
        None
    );
    let keys = ok(s.signing_keys().await);
    assert_eq!(keys[0].retired_at, Some(Timestamp(30)));
    assert_eq!(keys[1].retired_at, None);
    let n = AuditFilter {
        event_type: Some(EventType::SigningKeyRetired),
        ..AuditFilter::default()
    };
    assert_eq!(count(&db, n).await, 1);
}
