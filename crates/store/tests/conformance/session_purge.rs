//! Conformance cases for the purge of ended sessions (run on both backends by `on_both!`):
//! sessions past their absolute end before the cut go, a bounded number at a time, with the
//! clients they signed in to; live ones, their audit records and the logouts queued for their
//! clients stay.

use super::{count, ev, new_login, new_session, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::Timestamp;
use sekisho_store::{LogoutQuery, SessionSignIn};

pub(crate) async fn ended_sessions_are_purged_with_their_sign_ins(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("endo"), &ev(1, EventType::LoginCreated, "endo"))
        .await);
    let mut ids = Vec::new();
    // Absolute ends at 3610, 3700 (revoked at 200) and 8600 (live at the cut).
    for (h, t) in [("p1", 10), ("p2", 100), ("p3", 5000)] {
        let sess = ok(s
            .create_session(
                &new_session(login.id, h, t),
                &ev(t, EventType::LoginSucceeded, "endo"),
            )
            .await)
        .unwrap_or_else(|| unreachable!());
        let sign_in = SessionSignIn {
            session_id: sess.id,
            client_id: "skc_p".into(),
            login_pk: login.id,
            sid: format!("sid-{}", sess.id),
            backchannel: true,
            first_at: Timestamp(t),
            last_at: Timestamp(t),
        };
        ok(s.record_sign_in(&sign_in).await);
        ids.push(sess.id);
    }
    ok(s.revoke_session(
        ids[1],
        Timestamp(200),
        &ev(200, EventType::SessionRevoked, "endo"),
    )
    .await);
    assert_eq!(ok(s.list_logouts(&LogoutQuery::newest(10)).await).len(), 1);

    // Only the session past its end before the cut goes, and its sign-in with it.
    assert_eq!(ok(s.purge_sessions(Timestamp(3650), 10).await), 1);
    assert!(ok(s.session_sign_ins(ids[0]).await).is_empty());
    assert_eq!(ok(s.session_sign_ins(ids[1]).await).len(), 1);
    assert!(ok(s.get_session("p1").await).is_none());
    assert!(ok(s.get_session("p2").await).is_some());

    // A bounded number at a time; a session not yet at its end stays.
    assert_eq!(ok(s.purge_sessions(Timestamp(8000), 1).await), 1);
    assert_eq!(ok(s.purge_sessions(Timestamp(8000), 10).await), 0);
    assert!(ok(s.get_session("p3").await).is_some());
    assert_eq!(
        ok(s.list_sessions(login.id, Timestamp(8000)).await).len(),
        1
    );

    // The audit trail and the queued logout keep what happened.
    let logins = AuditFilter {
        event_type: Some(EventType::LoginSucceeded),
        ..Default::default()
    };
    assert_eq!(count(&db, logins).await, 3);
    assert_eq!(ok(s.list_logouts(&LogoutQuery::newest(10)).await).len(), 1);
}
