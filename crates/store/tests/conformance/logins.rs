//! Conformance cases for logins (run on both backends by `on_both!`): created, read, changed
//! and deleted with their audit records, searched and paged, and failures counted and locked
//! exactly under concurrency.

use super::{count, ev, new_login, ok, Db};
use sekisho_core::audit::{Actor, AuditFilter, EventType};
use sekisho_core::login::SecondFactor;
use sekisho_core::{Lang, Timestamp};
use sekisho_store::{LoginPatch, LoginQuery, StoreError};

pub(crate) async fn logins_round_trip_with_audit(db: Db) {
    let s = &db.store;
    let created = ok(s
        .create_login(
            &new_login("tanaka"),
            &ev(1_000, EventType::LoginCreated, "tanaka"),
        )
        .await);
    assert_eq!(created.login_id, "tanaka");
    assert_eq!(created.display_name, "tanaka 様");
    assert!(!created.mfa_required && !created.disabled && created.password_hash.is_none());

    let dup = s
        .create_login(
            &new_login("tanaka"),
            &ev(1_001, EventType::LoginCreated, "tanaka"),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)));
    // The refused create left no audit record behind (same transaction).
    let created_events = AuditFilter {
        login_id: Some("tanaka".into()),
        event_type: Some(EventType::LoginCreated),
        ..Default::default()
    };
    assert_eq!(count(&db, created_events).await, 1);

    let patch = LoginPatch {
        second_factor: Some(SecondFactor::Totp),
        mfa_required: Some(true),
        lang: Some(Lang::En),
        notify_login: Some(true),
        ..Default::default()
    };
    let updated = ok(s
        .update_login(
            "tanaka",
            &patch,
            Timestamp(2_000),
            &ev(2_000, EventType::LoginUpdated, "tanaka"),
        )
        .await)
    .unwrap_or_else(|| unreachable!("login exists"));
    assert_eq!(updated.second_factor, SecondFactor::Totp);
    assert!(updated.mfa_required);
    assert_eq!(updated.notify_login, Some(true));
    assert_eq!(updated.lang, Lang::En);
    assert_eq!(updated.updated_at, Timestamp(2_000));
    assert_eq!(updated.display_name, "tanaka 様", "untouched fields stay");
    assert!(ok(s
        .update_login(
            "nobody",
            &patch,
            Timestamp(2_000),
            &ev(2_000, EventType::LoginUpdated, "nobody")
        )
        .await)
    .is_none());

    assert!(ok(s
        .delete_login("tanaka", &ev(3_000, EventType::LoginDeleted, "tanaka"))
        .await));
    assert!(ok(s.get_login("tanaka").await).is_none());
    assert!(!ok(s
        .delete_login("tanaka", &ev(3_001, EventType::LoginDeleted, "tanaka"))
        .await));
    let all = ok(s
        .query_audit(&AuditFilter {
            login_id: Some("tanaka".into()),
            limit: 10,
            ..Default::default()
        })
        .await);
    let types: Vec<_> = all.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["login_deleted", "login_updated", "login_created"],
        "newest first, audit kept after delete"
    );
    assert_eq!(all[0].actor, Actor::Operator("ops1".into()));
    assert_eq!(all[0].client_ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(all[0].event_group, "account");
}

pub(crate) async fn search_and_paging(db: Db) {
    let s = &db.store;
    for i in 0..7 {
        let mut l = new_login(&format!("user{i:02}"));
        if i == 3 {
            l.display_name = "Yamada_100%".into();
        }
        ok(
            s.create_login(&l, &ev(1_000, EventType::LoginCreated, &l.login_id))
                .await,
        );
    }
    let page = |after: Option<&str>| LoginQuery {
        q: None,
        locked: None,
        after: after.map(Into::into),
        limit: 3,
    };
    let p1 = ok(s.list_logins(&page(None)).await);
    let ids: Vec<_> = p1.iter().map(|l| l.login_id.as_str()).collect();
    assert_eq!(ids, ["user00", "user01", "user02"]);
    let p3 = ok(s.list_logins(&page(Some("user05"))).await);
    assert_eq!(p3.len(), 1);
    let q = |q: &str| LoginQuery {
        q: Some(q.into()),
        locked: None,
        after: None,
        limit: 50,
    };
    assert_eq!(
        ok(s.list_logins(&q("YAMADA")).await).len(),
        1,
        "case-insensitive on display name"
    );
    assert_eq!(
        ok(s.list_logins(&q("_100%")).await).len(),
        1,
        "LIKE wildcards are literal"
    );
    assert_eq!(ok(s.list_logins(&q("%")).await).len(), 1);
    assert_eq!(
        ok(s.list_logins(&q("user04@example")).await).len(),
        1,
        "e-mail"
    );
    assert_eq!(ok(s.list_logins(&q("user")).await).len(), 7);
    let locked = LoginQuery {
        q: None,
        locked: Some(true),
        after: None,
        limit: 50,
    };
    assert!(ok(s.list_logins(&locked).await).is_empty());
}

pub(crate) async fn concurrent_failures_count_and_lock_exactly(db: Db) {
    let login = ok(db
        .store
        .create_login(
            &new_login("target"),
            &ev(1, EventType::LoginCreated, "target"),
        )
        .await);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move {
            s.record_password_failure(
                login.id,
                5,
                Timestamp(100 + i),
                &ev(100 + i, EventType::LoginFailed, "target"),
                &ev(100 + i, EventType::LoginLocked, "target"),
            )
            .await
        }));
    }
    let mut newly = 0;
    let mut counts = Vec::new();
    for t in tasks {
        let out = ok(ok(t.await));
        newly += usize::from(out.newly_locked);
        counts.push(out.failed_logins);
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=50).collect::<Vec<_>>(),
        "each failure saw its own count"
    );
    assert_eq!(newly, 1, "exactly one failure locked the login");
    let l = ok(db.store.get_login("target").await).unwrap_or_else(|| unreachable!());
    assert_eq!(l.failed_logins, 50);
    assert!(l.locked_at.is_some());
    let by = |t| AuditFilter {
        login_id: Some("target".into()),
        event_type: Some(t),
        ..Default::default()
    };
    assert_eq!(count(&db, by(EventType::LoginFailed)).await, 50);
    assert_eq!(count(&db, by(EventType::LoginLocked)).await, 1);

    let unlocked = ok(db
        .store
        .unlock_login(
            "target",
            Timestamp(500),
            &ev(500, EventType::LoginUnlocked, "target"),
        )
        .await);
    assert_eq!(unlocked, Some(true));
    let l = ok(db.store.get_login("target").await).unwrap_or_else(|| unreachable!());
    assert_eq!((l.failed_logins, l.locked_at), (0, None));
    assert_eq!(
        ok(db
            .store
            .unlock_login(
                "target",
                Timestamp(501),
                &ev(501, EventType::LoginUnlocked, "target")
            )
            .await),
        Some(false)
    );
    assert_eq!(
        ok(db
            .store
            .unlock_login(
                "ghost",
                Timestamp(501),
                &ev(501, EventType::LoginUnlocked, "ghost")
            )
            .await),
        None
    );
}
