//! Conformance cases for the tamper-evident audit chain (run on both backends by `on_both!`).

use super::{ev, new_login, ok, open, Db};
use sekisho_core::audit::EventType;
use sekisho_store::ChainReport;

pub(crate) async fn exec(db: &Db, sql: &str) {
    sqlx::any::install_default_drivers();
    let pool = ok(sqlx::AnyPool::connect(&db.url).await);
    ok(sqlx::query(sql).execute(&pool).await);
    pool.close().await;
}

pub(crate) async fn drop_append_only_triggers(db: &Db) {
    if db.url.starts_with("sqlite:") {
        exec(db, "DROP TRIGGER audit_events_no_update").await;
        exec(db, "DROP TRIGGER audit_events_no_delete").await;
    } else {
        exec(db, "DROP TRIGGER audit_events_no_change ON audit_events").await;
    }
}

fn clean(r: &ChainReport, n: u64) {
    assert!(r.broken.is_none(), "unexpected break: {:?}", r.broken);
    assert_eq!(r.verified, n);
    assert_eq!(
        r.unchained, 0,
        "a fresh database has no records before the chain"
    );
}

pub(crate) async fn audit_chain_verifies_and_names_the_first_broken_record(db: Db) {
    let s = &db.store;
    ok(
        s.create_login(&new_login("u1"), &ev(1_000, EventType::LoginCreated, "u1"))
            .await,
    );
    for i in 0..9 {
        ok(s.append_audit(&ev(2_000 + i, EventType::LoginFailed, "u1"))
            .await);
    }
    // Small pages: the walk crosses page boundaries.
    clean(&ok(s.verify_audit_chain(3).await), 10);
    clean(&ok(s.verify_audit_chain(1000).await), 10);

    drop_append_only_triggers(&db).await;
    exec(
        &db,
        "UPDATE audit_events SET description = 'nothing happened' WHERE id = 4",
    )
    .await;
    let r = ok(s.verify_audit_chain(3).await);
    let b = r
        .broken
        .unwrap_or_else(|| unreachable!("tampering not detected"));
    assert_eq!(b.id, 4);
    assert_eq!(b.time.map(|t| t.0), Some(2_002));
    assert_eq!(r.verified, 3);

    // Put it back: the chain verifies again.
    exec(
        &db,
        "UPDATE audit_events SET description = 'login_failed' WHERE id = 4",
    )
    .await;
    clean(&ok(s.verify_audit_chain(3).await), 10);

    // A removed record breaks the chain at the record after it.
    exec(&db, "DELETE FROM audit_events WHERE id = 6").await;
    let b = ok(s.verify_audit_chain(4).await)
        .broken
        .unwrap_or_else(|| unreachable!("deletion not detected"));
    assert_eq!(b.id, 7);
    assert!(b.reason.contains("missing"), "{}", b.reason);

    // Removing the newest record is detected against the chain head.
    let fresh = open_again(&db).await;
    exec(&fresh, "DELETE FROM audit_events WHERE id >= 6").await;
    let b = ok(s.verify_audit_chain(4).await)
        .broken
        .unwrap_or_else(|| unreachable!("truncation not detected"));
    assert_eq!(b.id, 6);
    assert!(b.reason.contains("end of the chain"), "{}", b.reason);

    // New records after a verified walk keep chaining.
    exec(&db, "DELETE FROM audit_events").await;
    exec(&db, "UPDATE audit_head SET last_id = 0, last_hash = '0000000000000000000000000000000000000000000000000000000000000000', chain_start = 1").await;
    ok(s.append_audit(&ev(9_000, EventType::LoginUnlocked, "u1"))
        .await);
    clean(&ok(s.verify_audit_chain(3).await), 1);
}

async fn open_again(db: &Db) -> Db {
    open(db.url.clone(), None).await
}

pub(crate) async fn concurrent_writers_on_two_instances_make_one_chain(db: Db) {
    // Two stores on one database stand for two server instances.
    let other = open_again(&db).await;
    ok(db
        .store
        .create_login(&new_login("c1"), &ev(1, EventType::LoginCreated, "c1"))
        .await);
    let mut tasks = Vec::new();
    for (k, store) in [db.store.clone(), other.store.clone()]
        .into_iter()
        .enumerate()
    {
        for j in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..15 {
                    let t = 10_000 + (k as i64) * 1000 + j * 100 + i;
                    if i % 5 == 0 {
                        let l = ok(store.get_login("c1").await)
                            .unwrap_or_else(|| unreachable!("login"));
                        ok(store
                            .record_password_failure(
                                l.id,
                                1_000,
                                sekisho_core::Timestamp(t),
                                &ev(t, EventType::LoginFailed, "c1"),
                                &ev(t, EventType::LoginLocked, "c1"),
                            )
                            .await);
                    } else {
                        ok(store
                            .append_audit(&ev(t, EventType::OtpValidated, "c1"))
                            .await);
                    }
                }
            }));
        }
    }
    for t in tasks {
        ok(t.await);
    }
    clean(&ok(db.store.verify_audit_chain(7).await), 1 + 2 * 4 * 15);
    clean(
        &ok(other.store.verify_audit_chain(500).await),
        1 + 2 * 4 * 15,
    );
}

/// The group commit of accepted codes (many audit records in one statement) appends to the same
/// chain as everything else.
pub(crate) async fn accepted_codes_in_group_commits_are_chained(db: Db) {
    let s = &db.store;
    let mut factors = Vec::new();
    for i in 0..12 {
        let id = format!("grp{i}");
        let login = ok(s
            .create_login(&new_login(&id), &ev(1, EventType::LoginCreated, &id))
            .await);
        let f = ok(s
            .put_pending_totp(
                &super::pending_totp(login.id, &format!("g{i}")),
                &ev(2, EventType::LoginUpdated, &id),
            )
            .await);
        assert!(ok(s
            .accept_otp(f.id, 10, 0, sekisho_core::Timestamp(3), true, None)
            .await));
        factors.push((id, f.id));
    }
    let mut tasks = Vec::new();
    for (id, fid) in factors.iter().cloned() {
        for step in [11, 12] {
            let (s, id) = (db.store.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let audit = ev(20, EventType::OtpValidated, &id);
                s.accept_otp(
                    fid,
                    step,
                    0,
                    sekisho_core::Timestamp(20),
                    false,
                    Some(&audit),
                )
                .await
            }));
        }
        ok(s.append_audit(&ev(21, EventType::LoginFailed, &id)).await);
    }
    for t in tasks {
        ok(ok(t.await));
    }
    let r = ok(s.verify_audit_chain(5).await);
    assert!(r.broken.is_none(), "{:?}", r.broken);
    // 12 creations, 12 enrolments, 12 failures, and one record per accepted code (12 to 24).
    assert!((48..=60).contains(&r.verified), "{} records", r.verified);
}

/// A database migrated with records in it: the migration leaves them unchained and starts the
/// chain after them (as `0007_operators.sql` sets up `audit_head`); `verify` counts them apart.
pub(crate) async fn records_from_before_the_chain_are_counted_apart(db: Db) {
    for id in 1..=3 {
        exec(
            &db,
            &format!(
                "INSERT INTO audit_events (id, time, login_id, actor_kind, actor_id, event_group, \
                 event_type, description) VALUES ({id}, {id}, 'old', 'system', '', 'authentication', \
                 'login_failed', 'before the chain')"
            ),
        )
        .await;
    }
    exec(&db, "UPDATE audit_head SET chain_start = 4, last_id = 3").await;
    let s = &db.store;
    for i in 0..4 {
        ok(s.append_audit(&ev(100 + i, EventType::LoginFailed, "new"))
            .await);
    }
    let r = ok(s.verify_audit_chain(2).await);
    assert!(r.broken.is_none(), "{:?}", r.broken);
    assert_eq!((r.chain_start, r.unchained, r.verified), (4, 3, 4));
}
