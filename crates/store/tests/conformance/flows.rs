//! Conformance cases for the hosted pages' shared state (run on both backends by `on_both!`).

use super::{ev, new_login, new_session, ok, open, Db};
use sekisho_core::audit::EventType;
use sekisho_core::Timestamp;

pub(crate) async fn login_flows_are_shared_expire_and_finish_once(db: Db) {
    let s = &db.store;
    let made = ok(s
        .create_flow("f1", "sealed-1", Timestamp(100), Timestamp(400))
        .await);
    assert_eq!(made.payload, "sealed-1");
    assert_eq!(made.expires_at, Timestamp(400));
    // A second connection to the same database (another instance) sees it.
    let other = open(db.url.clone(), None).await;
    let seen = ok(other.store.open_flow("f1", Timestamp(150)).await);
    assert_eq!(seen.as_ref(), Some(&made));
    assert_eq!(ok(s.open_flow("nope", Timestamp(150)).await), None);
    // Expired at its end (the injected clock decides).
    assert_eq!(ok(s.open_flow("f1", Timestamp(400)).await), None);
    assert!(!ok(s.finish_flow("f1", Timestamp(400)).await));
    // Finished once, by one of many concurrent callers; then it is gone.
    let mut joins = Vec::new();
    for i in 0..8 {
        let st = if i % 2 == 0 {
            s.clone()
        } else {
            other.store.clone()
        };
        joins.push(tokio::spawn(async move {
            st.finish_flow("f1", Timestamp(200)).await
        }));
    }
    let mut wins = 0;
    for j in joins {
        if ok(ok(j.await)) {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    assert_eq!(ok(s.open_flow("f1", Timestamp(201)).await), None);
    assert!(!ok(other.store.finish_flow("f1", Timestamp(202)).await));
    // Expired flows are purged when new ones are made; the hash stays unique.
    ok(
        s.create_flow("f2", "sealed-2", Timestamp(500), Timestamp(800))
            .await,
    );
    assert!(s
        .create_flow("f2", "again", Timestamp(501), Timestamp(800))
        .await
        .is_err());
    ok(
        s.create_flow("f1", "reused", Timestamp(900), Timestamp(1000))
            .await,
    );
    let again = ok(s.open_flow("f1", Timestamp(901)).await);
    assert_eq!(again.map(|f| f.payload).as_deref(), Some("reused"));
}

pub(crate) async fn fresh_reauthentication_is_shared_and_expires(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("fresh"),
            &ev(1, EventType::LoginCreated, "fresh"),
        )
        .await);
    let session = ok(s
        .create_session(
            &new_session(login.id, "sess-fresh", 1_000),
            &ev(1_000, EventType::LoginSucceeded, "fresh"),
        )
        .await)
    .unwrap_or_else(|| unreachable!("session"));
    assert!(!ok(s.session_is_fresh(session.id, Timestamp(1_000)).await));
    ok(s.mark_session_fresh(session.id, Timestamp(1_300)).await);
    let other = open(db.url.clone(), None).await;
    assert!(ok(other
        .store
        .session_is_fresh(session.id, Timestamp(1_299))
        .await));
    assert!(!ok(other
        .store
        .session_is_fresh(session.id, Timestamp(1_300))
        .await));
    // A new re-authentication moves the mark.
    ok(other
        .store
        .mark_session_fresh(session.id, Timestamp(1_600))
        .await);
    assert!(ok(s.session_is_fresh(session.id, Timestamp(1_500)).await));
    assert!(!ok(s
        .session_is_fresh(session.id + 1, Timestamp(1_500))
        .await));
}
