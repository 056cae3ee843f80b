//! Conformance cases for the token inventory (run on both backends by `on_both!`).

use super::{ev, new_login, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::otp::{Algorithm, OtpKind};
use sekisho_core::Timestamp;
use sekisho_store::{AssignOutcome, NewToken, TokenQuery, TokenState};

fn token(id: &str, kind: &str, secret_enc: &str) -> NewToken {
    NewToken {
        token_id: id.into(),
        kind: OtpKind::parse(kind).unwrap_or_else(|| unreachable!("{kind}")),
        algorithm: Algorithm::Sha1,
        digits: 6,
        period: 30,
        counter: if kind == "hotp" { 5 } else { 0 },
        drift: 0,
        valid_from: None,
        valid_until: None,
        max_transactions: None,
        secret_enc: secret_enc.into(),
    }
}

/// The seed file's limits are stored, and the number of transactions is enforced where codes
/// are accepted, atomically (issue 18).
pub(crate) async fn token_limits_from_the_seed_file(db: Db) {
    let s = &db.store;
    let limited = NewToken {
        drift: -2,
        valid_from: Some(Timestamp(50)),
        valid_until: Some(Timestamp(1_000)),
        max_transactions: Some(2),
        ..token("L-TOTP", "totp", "k1:l")
    };
    ok(s.import_tokens(
        &[limited],
        "l",
        Timestamp(1),
        &ev(1, EventType::TokensImported, ""),
    )
    .await);
    let t = ok(s.get_token("L-TOTP").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        (
            t.drift,
            t.valid_from,
            t.valid_until,
            t.max_transactions,
            t.transactions
        ),
        (-2, Some(Timestamp(50)), Some(Timestamp(1_000)), Some(2), 0)
    );
    assert!(t.expired_at(Timestamp(49)), "before its start");
    assert!(!t.expired_at(Timestamp(50)));
    assert!(!t.expired_at(Timestamp(1_000)));
    assert!(t.expired_at(Timestamp(1_001)), "after its expiry");
    let login = ok(s
        .create_login(
            &new_login("limited1"),
            &ev(60, EventType::LoginCreated, "limited1"),
        )
        .await);
    ok(s.register_token(
        "L-TOTP",
        login.id,
        1,
        0,
        Some(100),
        -2,
        Timestamp(60),
        &ev(60, EventType::TokenRegistered, "limited1"),
    )
    .await);
    for step in [101, 102] {
        assert!(ok(s
            .accept_token_code(t.id, step, -2, Timestamp(70), None)
            .await));
    }
    assert!(
        !ok(s
            .accept_token_code(t.id, 103, -2, Timestamp(71), None)
            .await),
        "out of transactions"
    );
    let t = ok(s.get_token("L-TOTP").await).unwrap_or_else(|| unreachable!());
    assert_eq!((t.transactions, t.last_step), (2, Some(102)));
    assert!(t.expired_at(Timestamp(80)));
}

pub(crate) async fn tokens_import_and_lifecycle(db: Db) {
    let s = &db.store;
    let first = [
        token("VSMT00000001", "totp", "k1:a"),
        token("VSMT00000002", "totp", "k1:b"),
        token("HW-0001", "hotp", "k1:c"),
    ];
    let out = ok(s
        .import_tokens(
            &first,
            "batch-1.xml",
            Timestamp(100),
            &ev(100, EventType::TokensImported, ""),
        )
        .await);
    assert_eq!(out.imported, ["VSMT00000001", "VSMT00000002", "HW-0001"]);
    assert!(out.duplicates.is_empty());
    // A second file with two known IDs: those are skipped and keep their original secrets.
    let second = [
        token("VSMT00000002", "totp", "k1:OTHER"),
        token("VSMT00000003", "totp", "k1:d"),
        token("HW-0001", "hotp", "k1:OTHER"),
    ];
    let out = ok(s
        .import_tokens(
            &second,
            "batch-2.csv",
            Timestamp(200),
            &ev(200, EventType::TokensImported, ""),
        )
        .await);
    assert_eq!(out.imported, ["VSMT00000003"]);
    assert_eq!(out.duplicates, ["VSMT00000002", "HW-0001"]);
    let t = ok(s.get_token("VSMT00000002").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        (t.secret_enc.as_str(), t.batch.as_str()),
        ("k1:b", "batch-1.xml")
    );
    assert_eq!(
        (t.state, t.login_id.as_deref(), t.imported_at),
        (TokenState::InStock, None, Timestamp(100))
    );
    let hw = ok(s.get_token("HW-0001").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        (hw.kind.as_str(), hw.counter, hw.digits, hw.period),
        ("hotp", 5, 6, 30)
    );
    assert_eq!(ok(s.get_token("NOPE").await), None);
    let imports = AuditFilter {
        event_type: Some(EventType::TokensImported),
        limit: 10,
        ..Default::default()
    };
    let events = ok(s.query_audit(&imports).await);
    assert_eq!(events.len(), 2);
    assert!(
        events[0]
            .description
            .contains("1 imported, 2 duplicates skipped"),
        "{}",
        events[0].description
    );

    // Listing: order, paging, filters.
    let all = ok(s
        .list_tokens(&TokenQuery {
            limit: 10,
            ..Default::default()
        })
        .await);
    let ids: Vec<&str> = all.iter().map(|t| t.token_id.as_str()).collect();
    assert_eq!(
        ids,
        ["HW-0001", "VSMT00000001", "VSMT00000002", "VSMT00000003"]
    );
    let page = ok(s
        .list_tokens(&TokenQuery {
            after: Some("HW-0001".into()),
            limit: 2,
            ..Default::default()
        })
        .await);
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].token_id, "VSMT00000001");
    let batch2 = ok(s
        .list_tokens(&TokenQuery {
            batch: Some("batch-2.csv".into()),
            limit: 10,
            ..Default::default()
        })
        .await);
    assert_eq!(batch2.len(), 1);

    // Assign, one per login.
    let login = ok(s
        .create_login(
            &new_login("tokenuser"),
            &ev(1, EventType::LoginCreated, "tokenuser"),
        )
        .await);
    let assign = |id: &'static str, t: i64| {
        let s = s.clone();
        async move {
            ok(s.assign_token(
                id,
                login.id,
                1,
                Timestamp(t),
                &ev(t, EventType::TokenAssigned, "tokenuser"),
            )
            .await)
        }
    };
    assert_eq!(assign("VSMT00000001", 300).await, AssignOutcome::Assigned);
    assert_eq!(
        assign("VSMT00000002", 301).await,
        AssignOutcome::LoginHasToken
    );
    let t = ok(s.get_token("VSMT00000001").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        (t.state, t.login_id.as_deref(), t.assigned_at),
        (
            TokenState::Assigned,
            Some("tokenuser"),
            Some(Timestamp(300))
        )
    );
    let mine = ok(s
        .list_tokens(&TokenQuery {
            login_pk: Some(login.id),
            limit: 10,
            ..Default::default()
        })
        .await);
    assert_eq!(mine.len(), 1);
    let assigned = ok(s
        .list_tokens(&TokenQuery {
            state: Some(TokenState::Assigned),
            limit: 10,
            ..Default::default()
        })
        .await);
    assert_eq!(assigned.len(), 1);
    // Allowing two per login lets a second one through.
    assert_eq!(
        ok(s.assign_token(
            "VSMT00000002",
            login.id,
            2,
            Timestamp(302),
            &ev(302, EventType::TokenAssigned, "tokenuser")
        )
        .await),
        AssignOutcome::Assigned
    );
    assert_eq!(
        assign("VSMT00000002", 303).await,
        AssignOutcome::LoginHasToken
    );

    // Unassign returns it to stock; revoke is final.
    let un = |id: &'static str| {
        let s = s.clone();
        async move {
            ok(s.unassign_token(
                id,
                Timestamp(400),
                &ev(400, EventType::TokenUnassigned, "tokenuser"),
            )
            .await)
        }
    };
    assert!(un("VSMT00000002").await);
    assert!(!un("VSMT00000002").await, "already in stock");
    let t = ok(s.get_token("VSMT00000002").await).unwrap_or_else(|| unreachable!());
    assert_eq!((t.state, t.login_pk), (TokenState::InStock, None));
    let revoke = |id: &'static str| {
        let s = s.clone();
        async move {
            ok(s.revoke_token(
                id,
                Timestamp(500),
                &ev(500, EventType::TokenRevoked, "tokenuser"),
            )
            .await)
        }
    };
    assert!(revoke("VSMT00000001").await);
    assert!(!revoke("VSMT00000001").await);
    assert!(!revoke("NOPE").await);
    let t = ok(s.get_token("VSMT00000001").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        (t.state, t.revoked_at),
        (TokenState::Revoked, Some(Timestamp(500)))
    );
    assert_eq!(
        assign("VSMT00000001", 501).await,
        AssignOutcome::NotInStock,
        "revoked"
    );
    assert!(!un("VSMT00000001").await, "revoked tokens stay revoked");
    assert!(
        !ok(s
            .unlock_token(
                "VSMT00000003",
                Timestamp(600),
                &ev(600, EventType::TokenUnlocked, "")
            )
            .await),
        "not locked"
    );
    // Each change wrote its audit record; refused ones wrote none.
    for (ty, n) in [
        (EventType::TokenAssigned, 2),
        (EventType::TokenUnassigned, 1),
        (EventType::TokenRevoked, 1),
        (EventType::TokenUnlocked, 0),
    ] {
        let f = AuditFilter {
            event_type: Some(ty),
            limit: 100,
            ..Default::default()
        };
        assert_eq!(ok(s.query_audit(&f).await).len(), n, "{ty:?}");
    }
    // Deleting the login leaves the (revoked) token in the inventory, unbound.
    assert!(ok(s
        .delete_login("tokenuser", &ev(700, EventType::LoginDeleted, "tokenuser"))
        .await));
    let t = ok(s.get_token("VSMT00000001").await).unwrap_or_else(|| unreachable!());
    assert_eq!((t.state, t.login_pk), (TokenState::Revoked, None));
}

pub(crate) async fn concurrent_assignments_give_one_token_per_login(db: Db) {
    let s = &db.store;
    let tokens: Vec<NewToken> = (0..8)
        .map(|i| token(&format!("C{i}"), "totp", "k1:x"))
        .collect();
    ok(s.import_tokens(
        &tokens,
        "c",
        Timestamp(1),
        &ev(1, EventType::TokensImported, ""),
    )
    .await);
    let login = ok(s
        .create_login(
            &new_login("racer"),
            &ev(1, EventType::LoginCreated, "racer"),
        )
        .await);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move {
            s.assign_token(
                &format!("C{i}"),
                login.id,
                1,
                Timestamp(10),
                &ev(10, EventType::TokenAssigned, "racer"),
            )
            .await
        }));
    }
    let mut assigned = 0;
    for t in tasks {
        if ok(ok(t.await)) == AssignOutcome::Assigned {
            assigned += 1;
        }
    }
    assert_eq!(assigned, 1);
}

pub(crate) async fn token_registration_codes_and_lock(db: Db) {
    let s = &db.store;
    let tokens = [
        token("R-TOTP", "totp", "k1:a"),
        token("R-HOTP", "hotp", "k1:b"),
    ];
    ok(s.import_tokens(
        &tokens,
        "r",
        Timestamp(1),
        &ev(1, EventType::TokensImported, ""),
    )
    .await);
    let login = ok(s
        .create_login(
            &new_login("reguser"),
            &ev(1, EventType::LoginCreated, "reguser"),
        )
        .await);
    let other = ok(s
        .create_login(
            &new_login("other01"),
            &ev(1, EventType::LoginCreated, "other01"),
        )
        .await);
    let reg = |id: &'static str, pk: i64, counter: i64, step: Option<i64>| {
        let s = s.clone();
        async move {
            ok(s.register_token(
                id,
                pk,
                1,
                counter,
                step,
                2,
                Timestamp(10),
                &ev(10, EventType::TokenRegistered, "reguser"),
            )
            .await)
        }
    };
    assert_eq!(
        reg("R-TOTP", login.id, 0, Some(100)).await,
        AssignOutcome::Assigned
    );
    assert_eq!(
        reg("R-TOTP", other.id, 0, Some(200)).await,
        AssignOutcome::NotInStock,
        "taken"
    );
    assert_eq!(
        reg("R-TOTP", login.id, 0, Some(200)).await,
        AssignOutcome::NotInStock,
        "registered once"
    );
    assert_eq!(
        reg("R-HOTP", login.id, 5, None).await,
        AssignOutcome::LoginHasToken
    );
    let t = ok(s.get_token("R-TOTP").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        (t.last_step, t.drift, t.registered_at),
        (Some(100), 2, Some(Timestamp(10)))
    );
    // TOTP steps once each, in order.
    assert!(ok(s
        .accept_token_code(t.id, 101, 1, Timestamp(20), None)
        .await));
    assert!(!ok(s
        .accept_token_code(t.id, 101, 1, Timestamp(21), None)
        .await));
    assert!(!ok(s
        .accept_token_code(t.id, 99, 1, Timestamp(21), None)
        .await));
    // HOTP: pre-assigned by an operator, then registered by its login.
    assert_eq!(
        ok(s.assign_token(
            "R-HOTP",
            other.id,
            1,
            Timestamp(30),
            &ev(30, EventType::TokenAssigned, "other01")
        )
        .await),
        AssignOutcome::Assigned
    );
    let t = ok(s.get_token("R-HOTP").await).unwrap_or_else(|| unreachable!());
    assert_eq!(t.registered_at, None);
    assert!(
        !ok(s.accept_token_code(t.id, 9, 0, Timestamp(31), None).await),
        "no code before start-of-use registration"
    );
    assert_eq!(
        reg("R-HOTP", other.id, 7, None).await,
        AssignOutcome::Assigned
    );
    let t = ok(s.get_token("R-HOTP").await).unwrap_or_else(|| unreachable!());
    assert_eq!(t.counter, 7);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move {
            s.accept_token_code(t.id, 9, 0, Timestamp(40), None).await
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        accepted += usize::from(ok(ok(task.await)));
    }
    assert_eq!(
        accepted, 1,
        "one code, one success across concurrent requests"
    );
    // Ten failures lock; a locked token accepts nothing until unlocked.
    let mut newly = 0;
    for i in 0..11 {
        let out = ok(s
            .fail_token(
                t.id,
                10,
                Timestamp(50 + i),
                &ev(50, EventType::LoginFailed, "other01"),
                &ev(50, EventType::LoginLocked, "other01"),
            )
            .await);
        newly += usize::from(out.newly_locked);
    }
    assert_eq!(newly, 1);
    assert!(!ok(s
        .accept_token_code(t.id, 20, 0, Timestamp(70), None)
        .await));
    assert!(ok(s
        .unlock_token(
            "R-HOTP",
            Timestamp(80),
            &ev(80, EventType::TokenUnlocked, "other01")
        )
        .await));
    assert!(ok(s
        .accept_token_code(t.id, 20, 0, Timestamp(81), None)
        .await));
    let t = ok(s.get_token("R-HOTP").await).unwrap_or_else(|| unreachable!());
    assert_eq!((t.counter, t.failed_attempts, t.locked_at), (20, 0, None));
    // An unlock of the login clears its token's lock as well (and tells that it was locked).
    for i in 0..10 {
        ok(s.fail_token(
            t.id,
            10,
            Timestamp(90 + i),
            &ev(90, EventType::LoginFailed, "other01"),
            &ev(90, EventType::LoginLocked, "other01"),
        )
        .await);
    }
    assert_eq!(
        ok(s.unlock_login(
            "other01",
            Timestamp(100),
            &ev(100, EventType::LoginUnlocked, "other01")
        )
        .await),
        Some(true)
    );
    let t = ok(s.get_token("R-HOTP").await).unwrap_or_else(|| unreachable!());
    assert_eq!((t.failed_attempts, t.locked_at), (0, None));
    assert!(ok(s
        .accept_token_code(t.id, 21, 0, Timestamp(101), None)
        .await));
}
