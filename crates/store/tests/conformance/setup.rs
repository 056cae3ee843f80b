//! Conformance cases for setup links (run on both backends by `on_both!`).

use super::{ev, new_login, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::Timestamp;
use sekisho_store::NewSetupLink;

fn link(hash: &str, login_pk: i64, now: i64) -> NewSetupLink {
    NewSetupLink {
        token_hash: hash.into(),
        login_pk,
        set_password: true,
        set_second_factor: true,
        created_by: "api_token:1:ops".into(),
        now: Timestamp(now),
        expires_at: Timestamp(now + 100),
    }
}

pub(crate) async fn setup_links_are_single_use_and_replaced(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("newbie"),
            &ev(1, EventType::LoginCreated, "newbie"),
        )
        .await);
    let created = |t| ev(t, EventType::SetupLinkCreated, "newbie");
    let first = ok(s
        .create_setup_link(&link("h1", login.id, 10), &created(10))
        .await);
    assert!(first.set_password && first.set_second_factor && first.is_open(Timestamp(10)));
    assert_eq!(first.created_by, "api_token:1:ops");
    assert_eq!(first.login_id, "newbie");
    let other = ok(s
        .create_login(
            &new_login("nolink"),
            &ev(2, EventType::LoginCreated, "nolink"),
        )
        .await);
    let latest = ok(s.latest_setup_links(&[login.id, other.id]).await);
    assert_eq!(latest, vec![first.clone()]);
    assert!(ok(s.latest_setup_links(&[]).await).is_empty());
    let found = ok(s.find_setup_link("h1").await);
    assert_eq!(found.as_ref(), Some(&first));
    assert_eq!(ok(s.find_setup_link("nope").await), None);
    // A newer link revokes the older unused one.
    let second = ok(s
        .create_setup_link(&link("h2", login.id, 20), &created(20))
        .await);
    let old = ok(s.find_setup_link("h1").await);
    assert_eq!(old.as_ref().and_then(|l| l.revoked_at), Some(Timestamp(20)));
    assert!(!old.is_some_and(|l| l.is_open(Timestamp(21))));
    let used = |t| ev(t, EventType::SetupLinkUsed, "newbie");
    assert!(!ok(s
        .finish_setup_link(first.id, Timestamp(21), &used(21))
        .await));
    // Single use; and not after its end.
    assert!(ok(s
        .finish_setup_link(second.id, Timestamp(30), &used(30))
        .await));
    assert!(!ok(s
        .finish_setup_link(second.id, Timestamp(31), &used(31))
        .await));
    let third = ok(s
        .create_setup_link(&link("h3", login.id, 40), &created(40))
        .await);
    assert!(!ok(s
        .finish_setup_link(third.id, Timestamp(140), &used(140))
        .await));
    // The newest link is the one the flags read, whatever its state.
    let latest = ok(s.latest_setup_links(&[login.id, other.id]).await);
    assert_eq!(latest.len(), 1);
    assert_eq!(latest.first().map(|l| l.id), Some(third.id));
    assert!(latest.first().is_some_and(|l| !l.is_open(Timestamp(140))));
    // The used link stays used (a newer link does not touch it).
    let second_now = ok(s.find_setup_link("h2").await);
    assert_eq!(
        second_now.as_ref().and_then(|l| l.used_at),
        Some(Timestamp(30))
    );
    assert_eq!(second_now.and_then(|l| l.revoked_at), None);
    // Each change wrote its event; refused finishes wrote none.
    let events = ok(s
        .query_audit(&AuditFilter {
            login_id: Some("newbie".into()),
            limit: 1000,
            ..AuditFilter::default()
        })
        .await);
    let count = |t: EventType| events.iter().filter(|e| e.event_type == t.as_str()).count();
    assert_eq!(count(EventType::SetupLinkCreated), 3);
    assert_eq!(count(EventType::SetupLinkUsed), 1);
}
