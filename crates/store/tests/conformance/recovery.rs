//! Conformance cases for recovery codes (run on both backends by `on_both!`).

use super::{count, ev, new_login, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::Timestamp;

fn hashes(prefix: &str) -> Vec<String> {
    (0..10).map(|i| format!("{prefix}-{i:02}")).collect()
}

pub(crate) async fn recovery_codes_replace_and_consume_once(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("rc1"), &ev(1, EventType::LoginCreated, "rc1"))
        .await);
    assert_eq!(ok(s.recovery_status(login.id).await), None);
    let gen = ev(2, EventType::RecoveryCodesGenerated, "rc1");
    ok(
        s.replace_recovery_codes(login.id, &hashes("a"), Timestamp(2), &gen)
            .await,
    );
    let st = ok(s.recovery_status(login.id).await).unwrap_or_else(|| unreachable!("no set"));
    assert_eq!(
        (st.remaining, st.created_at, st.locked_at),
        (10, Timestamp(2), None)
    );
    // A new set replaces the old one whole.
    ok(
        s.replace_recovery_codes(login.id, &hashes("b"), Timestamp(3), &gen)
            .await,
    );
    let used = ev(4, EventType::RecoveryCodeUsed, "rc1");
    assert_eq!(
        ok(
            s.consume_recovery_code(login.id, "a-00", Timestamp(4), &used)
                .await
        ),
        None,
        "the old set is gone"
    );
    assert_eq!(
        ok(
            s.consume_recovery_code(login.id, "b-00", Timestamp(4), &used)
                .await
        ),
        Some(9)
    );
    assert_eq!(
        ok(
            s.consume_recovery_code(login.id, "b-00", Timestamp(5), &used)
                .await
        ),
        None,
        "each code once"
    );
    // Concurrent uses of one code: exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let st = s.clone();
        let used = ev(10 + i, EventType::RecoveryCodeUsed, "rc1");
        tasks.push(tokio::spawn(async move {
            st.consume_recovery_code(login.id, "b-05", Timestamp(10 + i), &used)
                .await
        }));
    }
    let mut wins = Vec::new();
    for t in tasks {
        if let Some(left) = ok(ok(t.await)) {
            wins.push(left);
        }
    }
    assert_eq!(wins, vec![8]);
    let by = |t| AuditFilter {
        login_id: Some("rc1".into()),
        event_type: Some(t),
        ..Default::default()
    };
    assert_eq!(count(&db, by(EventType::RecoveryCodeUsed)).await, 2);
    assert_eq!(count(&db, by(EventType::RecoveryCodesGenerated)).await, 2);
    let st = ok(s.recovery_status(login.id).await).unwrap_or_else(|| unreachable!("no set"));
    assert_eq!(st.remaining, 8);
}

pub(crate) async fn recovery_code_failures_lock_until_unlock(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("rc2"), &ev(1, EventType::LoginCreated, "rc2"))
        .await);
    let gen = ev(2, EventType::RecoveryCodesGenerated, "rc2");
    ok(
        s.replace_recovery_codes(login.id, &hashes("c"), Timestamp(2), &gen)
            .await,
    );
    let fail = ev(3, EventType::SecondFactorFailed, "rc2");
    let lock = ev(3, EventType::SecondFactorLocked, "rc2");
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let st = s.clone();
        let (fail, lock) = (fail.clone(), lock.clone());
        tasks.push(tokio::spawn(async move {
            st.fail_recovery_code(login.id, 10, Timestamp(3), &fail, &lock)
                .await
        }));
    }
    let mut newly = 0;
    for t in tasks {
        newly += usize::from(ok(ok(t.await)).newly_locked);
    }
    assert_eq!(newly, 1);
    let st = ok(s.recovery_status(login.id).await).unwrap_or_else(|| unreachable!("no set"));
    assert_eq!((st.failed_attempts, st.locked_at), (12, Some(Timestamp(3))));
    let used = ev(4, EventType::RecoveryCodeUsed, "rc2");
    assert_eq!(
        ok(
            s.consume_recovery_code(login.id, "c-01", Timestamp(4), &used)
                .await
        ),
        None,
        "a locked set refuses even a right code"
    );
    let unlocked = ok(s
        .unlock_login("rc2", Timestamp(5), &ev(5, EventType::LoginUnlocked, "rc2"))
        .await);
    assert_eq!(unlocked, Some(true));
    assert_eq!(
        ok(
            s.consume_recovery_code(login.id, "c-01", Timestamp(6), &used)
                .await
        ),
        Some(9)
    );
    let st = ok(s.recovery_status(login.id).await).unwrap_or_else(|| unreachable!("no set"));
    assert_eq!((st.failed_attempts, st.locked_at), (0, None));
}
