//! Conformance cases for passkeys and WebAuthn ceremonies (run on both backends by `on_both!`).

use super::{count, ev, new_login, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::Timestamp;
use sekisho_store::{CeremonyKind, NewCeremony, NewPasskey, PasskeyUse, StoreError};

fn ceremony(hash: &str, kind: CeremonyKind, login_pk: Option<i64>, now: i64) -> NewCeremony {
    NewCeremony {
        id_hash: hash.into(),
        kind,
        login_pk,
        bound_to: Some("challenge-hash".into()),
        state: format!("{{\"state\":\"{hash}\"}}"),
        now: Timestamp(now),
        expires_at: Timestamp(now + 300),
    }
}

pub(crate) async fn ceremonies_are_taken_once_and_expire(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("wa1"), &ev(1, EventType::LoginCreated, "wa1"))
        .await);
    ok(
        s.create_ceremony(&ceremony("c1", CeremonyKind::Register, Some(login.id), 10))
            .await,
    );
    assert_eq!(
        ok(
            s.take_ceremony("c1", CeremonyKind::Authenticate, Timestamp(11))
                .await
        ),
        None,
        "a ceremony is finished only as its own kind"
    );
    let c = ok(s
        .take_ceremony("c1", CeremonyKind::Register, Timestamp(11))
        .await)
    .unwrap_or_else(|| unreachable!("ceremony not found"));
    assert_eq!(
        (
            c.kind.as_str(),
            c.login_pk,
            c.bound_to.as_deref(),
            c.state.as_str()
        ),
        (
            "register",
            Some(login.id),
            Some("challenge-hash"),
            "{\"state\":\"c1\"}"
        )
    );
    assert_eq!(
        ok(s.take_ceremony("c1", CeremonyKind::Register, Timestamp(12))
            .await),
        None,
        "each ceremony once"
    );
    // Expired: refused at its end.
    ok(
        s.create_ceremony(&ceremony("c2", CeremonyKind::Discoverable, None, 20))
            .await,
    );
    assert_eq!(
        ok(
            s.take_ceremony("c2", CeremonyKind::Discoverable, Timestamp(320))
                .await
        ),
        None
    );
    // Concurrent finishes of one ceremony: exactly one gets it.
    ok(s.create_ceremony(&ceremony(
        "c3",
        CeremonyKind::Authenticate,
        Some(login.id),
        30,
    ))
    .await);
    let mut tasks = Vec::new();
    for i in 0..16 {
        let st = s.clone();
        tasks.push(tokio::spawn(async move {
            st.take_ceremony("c3", CeremonyKind::Authenticate, Timestamp(31 + i))
                .await
        }));
    }
    let mut wins = 0;
    for t in tasks {
        if ok(ok(t.await)).is_some() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
}

fn new_passkey(login_pk: i64, cred: &str, now: i64) -> NewPasskey {
    NewPasskey {
        login_pk,
        credential_id: cred.into(),
        user_handle: "0b6e2f7c-0000-4000-8000-000000000001".into(),
        name: format!("key {cred}"),
        credential: format!("{{\"cred_id\":\"{cred}\"}}"),
        sign_count: 1,
        backup_eligible: true,
        backup_state: false,
        now: Timestamp(now),
    }
}

pub(crate) async fn passkeys_lifecycle_and_counter_flag(db: Db) {
    let s = &db.store;
    let a = ok(s
        .create_login(&new_login("wa2"), &ev(1, EventType::LoginCreated, "wa2"))
        .await);
    let b = ok(s
        .create_login(&new_login("wa3"), &ev(1, EventType::LoginCreated, "wa3"))
        .await);
    let added = ev(2, EventType::PasskeyAdded, "wa2");
    let k1 = ok(s.add_passkey(&new_passkey(a.id, "cred-1", 2), &added).await);
    let k2 = ok(s.add_passkey(&new_passkey(a.id, "cred-2", 3), &added).await);
    assert!(matches!(
        s.add_passkey(&new_passkey(b.id, "cred-1", 4), &added).await,
        Err(StoreError::Conflict)
    ));
    let list = ok(s.list_passkeys(a.id).await);
    assert_eq!(list.iter().map(|p| p.id).collect::<Vec<_>>(), vec![k1, k2]);
    assert_eq!(
        (
            list[0].name.as_str(),
            list[0].sign_count,
            list[0].backup_eligible,
            list[0].backup_state,
            list[0].created_at,
            list[0].last_used_at,
            list[0].counter_regressed_at
        ),
        ("key cred-1", 1, true, false, Timestamp(2), None, None)
    );
    assert!(ok(s.list_passkeys(b.id).await).is_empty());
    let found = ok(s.passkey_by_credential("cred-2").await)
        .unwrap_or_else(|| unreachable!("passkey not found"));
    assert_eq!((found.id, found.login_pk), (k2, a.id));

    // A use moves the counter and flags, never the counter backwards.
    let used = ev(5, EventType::PasskeyUsed, "wa2");
    let usage = |count: i64, now: i64| PasskeyUse {
        id: k1,
        credential: format!("{{\"n\":{count}}}"),
        sign_count: count,
        backup_eligible: true,
        backup_state: true,
        now: Timestamp(now),
    };
    assert!(ok(s.record_passkey_use(&usage(7, 5), &used).await));
    assert!(ok(s.record_passkey_use(&usage(3, 6), &used).await));
    let p = ok(s.passkey_by_credential("cred-1").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        (p.sign_count, p.backup_state, p.last_used_at),
        (7, true, Some(Timestamp(6)))
    );

    // A flagged passkey keeps its first flag time and takes no more uses.
    let flag = ev(7, EventType::PasskeyCounterRegressed, "wa2");
    assert!(ok(s.flag_passkey_counter(k1, Timestamp(7), &flag).await));
    assert!(ok(s.flag_passkey_counter(k1, Timestamp(8), &flag).await));
    assert!(!ok(s.record_passkey_use(&usage(9, 9), &used).await));
    let p = ok(s.passkey_by_credential("cred-1").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        (p.counter_regressed_at, p.sign_count),
        (Some(Timestamp(7)), 7)
    );

    // Rename and remove only the login's own passkeys.
    let renamed = ev(10, EventType::PasskeyRenamed, "wa2");
    assert!(!ok(s.rename_passkey(b.id, k2, "x", &renamed).await));
    assert!(ok(s.rename_passkey(a.id, k2, "iPhone", &renamed).await));
    let removed = ev(11, EventType::PasskeyRemoved, "wa2");
    assert!(!ok(s.remove_passkey(b.id, k1, &removed).await));
    assert!(ok(s.remove_passkey(a.id, k1, &removed).await));
    assert!(!ok(s.remove_passkey(a.id, k1, &removed).await));
    let list = ok(s.list_passkeys(a.id).await);
    assert_eq!(
        list.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        vec!["iPhone"]
    );
    let by = |t| AuditFilter {
        login_id: Some("wa2".into()),
        event_type: Some(t),
        ..Default::default()
    };
    assert_eq!(count(&db, by(EventType::PasskeyAdded)).await, 2);
    assert_eq!(count(&db, by(EventType::PasskeyUsed)).await, 2);
    assert_eq!(count(&db, by(EventType::PasskeyCounterRegressed)).await, 2);
    assert_eq!(count(&db, by(EventType::PasskeyRenamed)).await, 1);
    assert_eq!(count(&db, by(EventType::PasskeyRemoved)).await, 1);
    // The login's passkeys go with it.
    ok(
        s.delete_login("wa2", &ev(12, EventType::LoginDeleted, "wa2"))
            .await,
    );
    assert_eq!(ok(s.passkey_by_credential("cred-2").await), None);
}

pub(crate) async fn erasing_second_factors_removes_passkeys(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("wa4"), &ev(1, EventType::LoginCreated, "wa4"))
        .await);
    let added = ev(2, EventType::PasskeyAdded, "wa4");
    ok(s.add_passkey(&new_passkey(login.id, "cred-e1", 2), &added)
        .await);
    ok(s.add_passkey(&new_passkey(login.id, "cred-e2", 2), &added)
        .await);
    let erase = ev(3, EventType::CredentialsErased, "wa4");
    let out = ok(s
        .erase_credentials(login.id, true, false, Timestamp(3), &erase)
        .await);
    assert_eq!(out.passkeys, 0, "the password alone keeps the passkeys");
    assert_eq!(ok(s.list_passkeys(login.id).await).len(), 2);
    let out = ok(s
        .erase_credentials(login.id, false, true, Timestamp(4), &erase)
        .await);
    assert_eq!(out.passkeys, 2);
    assert!(ok(s.list_passkeys(login.id).await).is_empty());
}

async fn ceremony_rows(db: &Db) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = ok(sqlx::AnyPool::connect(&db.url).await);
    let n: i64 = ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM webauthn_ceremonies")
            .fetch_one(&pool)
            .await,
    );
    pool.close().await;
    n
}

/// Unauthenticated begins write a row each: every begin removes at most a hundred expired ones
/// (the oldest first), never a live one, so the table shrinks back after a flood.
pub(crate) async fn ceremony_purge_is_bounded_and_spares_live_ones(db: Db) {
    let s = &db.store;
    for i in 0..150 {
        ok(s.create_ceremony(&ceremony(
            &format!("old{i}"),
            CeremonyKind::Discoverable,
            None,
            10,
        ))
        .await);
    }
    assert_eq!(ceremony_rows(&db).await, 150, "none expired yet");
    // At 400 all 150 have expired (at 310); one begin clears a hundred of them.
    ok(
        s.create_ceremony(&ceremony("live1", CeremonyKind::Discoverable, None, 400))
            .await,
    );
    assert_eq!(ceremony_rows(&db).await, 51);
    ok(
        s.create_ceremony(&ceremony("live2", CeremonyKind::Discoverable, None, 401))
            .await,
    );
    assert_eq!(
        ceremony_rows(&db).await,
        2,
        "only the live ceremonies remain"
    );
    // The live ones are untouched and still finish once.
    assert!(ok(s
        .take_ceremony("live1", CeremonyKind::Discoverable, Timestamp(402))
        .await)
    .is_some());
    assert!(ok(s
        .take_ceremony("live2", CeremonyKind::Discoverable, Timestamp(402))
        .await)
    .is_some());
}

/// The logins list's summary counts a login's passkeys and those suspended by a counter that
/// went backwards.
pub(crate) async fn factor_summaries_count_passkeys(db: Db) {
    let s = &db.store;
    let a = ok(s
        .create_login(&new_login("wa5"), &ev(1, EventType::LoginCreated, "wa5"))
        .await);
    let b = ok(s
        .create_login(&new_login("wa6"), &ev(1, EventType::LoginCreated, "wa6"))
        .await);
    let added = ev(2, EventType::PasskeyAdded, "wa5");
    ok(s.add_passkey(&new_passkey(a.id, "cred-s1", 2), &added)
        .await);
    let k2 = ok(s
        .add_passkey(&new_passkey(a.id, "cred-s2", 2), &added)
        .await);
    let flag = ev(3, EventType::PasskeyCounterRegressed, "wa5");
    assert!(ok(s.flag_passkey_counter(k2, Timestamp(3), &flag).await));
    let sums = ok(s.factor_summaries(&[a.id, b.id]).await);
    let of = |pk: i64| {
        sums.iter()
            .find(|x| x.login_pk == pk)
            .map(|x| (x.passkeys, x.passkeys_regressed))
    };
    assert_eq!(of(a.id), Some((2, 1)));
    assert_eq!(of(b.id), Some((0, 0)));
}
