//! Conformance cases for the audit trail at scale: bulk seeding, verification from a checkpoint,
//! and archiving a prefix of the chain (run on both backends by `on_both!`).

use super::audit_chain::{drop_append_only_triggers, exec};
use super::{ev, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::audit_chain::{ChainPoint, ChainWalk};
use sekisho_core::Timestamp;
use sekisho_store::StoreError;

fn unbroken(r: &sekisho_store::ChainReport) {
    assert!(r.broken.is_none(), "unexpected break: {:?}", r.broken);
}

/// Seeded records chain like any others (the records after them link to them), are read newest
/// first by login, and a walk from a checkpoint verifies only what came after it, still finding
/// tampering there.
pub(crate) async fn seeded_records_chain_and_verify_from_a_checkpoint(db: Db) {
    let s = &db.store;
    ok(s.append_audit(&ev(1, EventType::LoginCreated, "u0")).await);
    let batch = |from: i64, n: i64| -> Vec<_> {
        (from..from + n)
            .map(|i| {
                let mut e = ev(i, EventType::OtpValidated, &format!("u{}", i % 7));
                // Text that COPY must escape.
                e.description = format!("code\t{i}\\ok\nline");
                e
            })
            .collect()
    };
    ok(s.seed_audit(&batch(10, 1_500)).await);
    ok(s.seed_audit(&batch(1_510, 700)).await);
    ok(s.append_audit(&ev(5_000, EventType::LoginFailed, "u3"))
        .await);
    let full = ok(s.verify_audit_chain(500).await);
    unbroken(&full);
    assert_eq!(full.verified, 2_202);
    assert_eq!(full.last.id, 2_202);
    let u3 = ok(s
        .query_audit(&AuditFilter {
            login_id: Some("u3".into()),
            limit: 5,
            ..AuditFilter::default()
        })
        .await);
    assert_eq!(u3.len(), 5);
    assert_eq!(u3[0].event_id, 2_202, "newest first");
    assert!(u3[1].description.starts_with("code\t"), "{:?}", u3[1]);

    // From the checkpoint: only the records after it.
    let checkpoint = full.last.clone();
    for i in 0..4 {
        ok(s.append_audit(&ev(6_000 + i, EventType::LoginFailed, "u3"))
            .await);
    }
    let r = ok(s.verify_audit_chain_from(Some(&checkpoint), 2).await);
    unbroken(&r);
    assert_eq!((r.verified, r.from.id, r.last.id), (4, 2_202, 2_206));

    // Tampering after the checkpoint is found; tampering before it is only found by a full
    // walk (the checkpoint vouches for it), or when it touches the checkpoint's record itself.
    drop_append_only_triggers(&db).await;
    exec(
        &db,
        "UPDATE audit_events SET login_id = 'u4' WHERE id = 2205",
    )
    .await;
    let b = ok(s.verify_audit_chain_from(Some(&checkpoint), 2).await)
        .broken
        .unwrap_or_else(|| unreachable!("tampering after the checkpoint not found"));
    assert_eq!(b.id, 2_205);
    exec(
        &db,
        "UPDATE audit_events SET login_id = 'u3' WHERE id = 2205",
    )
    .await;
    exec(&db, "UPDATE audit_events SET time = 11 WHERE id = 100").await;
    unbroken(&ok(s.verify_audit_chain_from(Some(&checkpoint), 100).await));
    let b = ok(s.verify_audit_chain(1_000).await)
        .broken
        .unwrap_or_else(|| unreachable!("tampering not found by the full walk"));
    assert_eq!(b.id, 100);
    let forged = ChainPoint {
        id: 2_000,
        hash: "0".repeat(64),
    };
    let b = ok(s.verify_audit_chain_from(Some(&forged), 100).await)
        .broken
        .unwrap_or_else(|| unreachable!("a checkpoint that does not match"));
    assert_eq!(b.id, 2_000);
    assert!(b.reason.contains("checkpoint"), "{}", b.reason);
    let beyond = ChainPoint {
        id: 9_999,
        hash: checkpoint.hash.clone(),
    };
    assert!(ok(s.verify_audit_chain_from(Some(&beyond), 100).await)
        .broken
        .is_some_and(|b| b.reason.contains("past the chain head")));
}

/// Archiving: the records before a date are read (and verified) as a prefix of the chain, then
/// removed with the archived head kept, so the remaining trail verifies from it; only archived
/// records can be deleted, and tampering with what remains is still found.
pub(crate) async fn archiving_removes_a_prefix_and_the_rest_still_verifies(db: Db) {
    let s = &db.store;
    for t in 100..120 {
        ok(s.append_audit(&ev(t, EventType::LoginFailed, "a1")).await);
    }
    let head = ok(s.audit_head().await);
    assert_eq!(
        (head.chain_start, head.last.id, head.archived),
        (1, 20, None)
    );
    let from = ChainPoint::genesis(head.chain_start);
    let cut = ok(s.first_audit_since(from.id, Timestamp(110)).await);
    assert_eq!(cut, Some(11));
    assert_eq!(ok(s.first_audit_since(from.id, Timestamp(500)).await), None);
    let records = ok(s.audit_records(from.id, 10, 4).await);
    assert_eq!(
        records.iter().map(|r| r.id).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    let mut walk = ChainWalk::from(from.clone());
    let mut after = from.id;
    loop {
        let page = ok(s.audit_records(after, 10, 4).await);
        let Some(last) = page.last() else { break };
        after = last.id;
        for r in &page {
            ok(walk.step(r));
        }
    }
    let through = walk.last().clone();
    assert_eq!(through.id, 10);

    // A stale or forged starting point changes nothing.
    let wrong = ChainPoint {
        id: 10,
        hash: "f".repeat(64),
    };
    let archived_ev = ev(200, EventType::AuditArchived, "");
    assert!(matches!(
        s.drop_archived_audit(&from, &wrong, &archived_ev).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        ok(s.drop_archived_audit(&from, &through, &archived_ev).await),
        10
    );
    assert!(matches!(
        s.drop_archived_audit(&from, &through, &archived_ev).await,
        Err(StoreError::Conflict)
    ));
    let head = ok(s.audit_head().await);
    assert_eq!(head.archived.as_ref(), Some(&through));
    assert_eq!(head.last.id, 21, "the archiving is itself a record");
    let r = ok(s.verify_audit_chain(3).await);
    unbroken(&r);
    assert_eq!((r.from.id, r.verified), (10, 11));
    assert!(ok(s.audit_records(0, 10, 100).await).is_empty());

    // What remains is still append-only.
    sqlx::any::install_default_drivers();
    let pool = ok(sqlx::AnyPool::connect(&db.url).await);
    for sql in [
        "DELETE FROM audit_events WHERE id = 11",
        "UPDATE audit_events SET description = 'x' WHERE id = 12",
    ] {
        assert!(sqlx::query(sql).execute(&pool).await.is_err(), "{sql}");
    }
    pool.close().await;

    // The first remaining record is tied to the archived head: altering it is found.
    drop_append_only_triggers(&db).await;
    exec(
        &db,
        "UPDATE audit_events SET client_ip = '203.0.113.9' WHERE id = 11",
    )
    .await;
    let b = ok(s.verify_audit_chain(3).await)
        .broken
        .unwrap_or_else(|| unreachable!("tampering after the archived head not found"));
    assert_eq!(b.id, 11);
}
