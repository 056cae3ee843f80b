//! Conformance cases for sessions (run on both backends by `on_both!`): created, touched,
//! listed and revoked, and the password history with the revocation a change brings.

use super::{ev, new_login, new_session, ok, Db};
use sekisho_core::audit::EventType;
use sekisho_core::Timestamp;
use sekisho_store::LoginPatch;

pub(crate) async fn sessions_lifecycle(db: Db) {
    let s = &db.store;
    assert_eq!(ok(s.newest_session_id().await), 0, "no session yet");
    let login = ok(s
        .create_login(&new_login("sato"), &ev(1, EventType::LoginCreated, "sato"))
        .await);
    ok(s.record_password_failure(
        login.id,
        5,
        Timestamp(5),
        &ev(5, EventType::LoginFailed, "sato"),
        &ev(5, EventType::LoginLocked, "sato"),
    )
    .await);
    let sess = ok(s
        .create_session(
            &new_session(login.id, "h1", 10),
            &ev(10, EventType::LoginSucceeded, "sato"),
        )
        .await)
    .unwrap_or_else(|| unreachable!("not locked"));
    assert_eq!(sess.login_id, "sato");
    assert_eq!(ok(s.newest_session_id().await), sess.id);
    let l = ok(s.get_login("sato").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        l.failed_logins, 0,
        "a successful login resets the failure count"
    );
    assert_eq!(l.last_login_at, Some(Timestamp(10)));

    let got = ok(s.get_session("h1").await).unwrap_or_else(|| unreachable!());
    assert_eq!(got.methods, ["pwd"]);
    assert_eq!(got.user_agent.as_deref(), Some("TradingApp/1.0"));
    ok(s.touch_session(got.id, Timestamp(20)).await);
    assert_eq!(
        ok(s.get_session("h1").await).map(|x| x.last_seen_at),
        Some(Timestamp(20))
    );
    assert_eq!(ok(s.list_sessions(login.id, Timestamp(30)).await).len(), 1);
    assert!(ok(s
        .revoke_session(
            got.id,
            Timestamp(30),
            &ev(30, EventType::SessionRevoked, "sato")
        )
        .await));
    assert!(!ok(s
        .revoke_session(
            got.id,
            Timestamp(31),
            &ev(31, EventType::SessionRevoked, "sato")
        )
        .await));
    assert_eq!(
        ok(s.get_session("h1").await).and_then(|x| x.revoked_at),
        Some(Timestamp(30))
    );
    assert!(ok(s.list_sessions(login.id, Timestamp(32)).await).is_empty());

    // A login locked (or disabled) while its password was being checked gets no session.
    for i in 0..5 {
        ok(s.record_password_failure(
            login.id,
            5,
            Timestamp(40 + i),
            &ev(40, EventType::LoginFailed, "sato"),
            &ev(40, EventType::LoginLocked, "sato"),
        )
        .await);
    }
    assert!(ok(s
        .create_session(
            &new_session(login.id, "h2", 50),
            &ev(50, EventType::LoginSucceeded, "sato")
        )
        .await)
    .is_none());
    assert!(ok(s.get_session("h2").await).is_none());
    let l = ok(s.get_login("sato").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        l.failed_logins, 5,
        "refused session creation changed nothing"
    );

    ok(s.unlock_login(
        "sato",
        Timestamp(60),
        &ev(60, EventType::LoginUnlocked, "sato"),
    )
    .await);
    let a = ok(s
        .create_session(
            &new_session(login.id, "h3", 61),
            &ev(61, EventType::LoginSucceeded, "sato"),
        )
        .await);
    let b = ok(s
        .create_session(
            &new_session(login.id, "h4", 62),
            &ev(62, EventType::LoginSucceeded, "sato"),
        )
        .await);
    assert!(a.is_some() && b.is_some());
    assert_eq!(
        ok(s.revoke_login_sessions(
            login.id,
            Timestamp(63),
            &ev(63, EventType::SessionRevoked, "sato")
        )
        .await),
        2
    );
    let disable = LoginPatch {
        disabled: Some(true),
        ..Default::default()
    };
    ok(s.create_session(
        &new_session(login.id, "h5", 64),
        &ev(64, EventType::LoginSucceeded, "sato"),
    )
    .await);
    ok(s.update_login(
        "sato",
        &disable,
        Timestamp(65),
        &ev(65, EventType::LoginUpdated, "sato"),
    )
    .await);
    assert!(
        ok(s.get_session("h5").await)
            .and_then(|x| x.revoked_at)
            .is_some(),
        "disabling revokes sessions"
    );
    assert!(ok(s
        .create_session(
            &new_session(login.id, "h6", 66),
            &ev(66, EventType::LoginSucceeded, "sato")
        )
        .await)
    .is_none());
}

pub(crate) async fn password_history_and_session_revocation(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("suzuki"),
            &ev(1, EventType::LoginCreated, "suzuki"),
        )
        .await);
    let keep = ok(s
        .create_session(
            &new_session(login.id, "keep", 2),
            &ev(2, EventType::LoginSucceeded, "suzuki"),
        )
        .await)
    .unwrap_or_else(|| unreachable!());
    ok(s.create_session(
        &new_session(login.id, "other", 3),
        &ev(3, EventType::LoginSucceeded, "suzuki"),
    )
    .await);
    for i in 0..30 {
        ok(s.set_password(
            login.id,
            &format!("hash{i}"),
            i == 0,
            Timestamp(10 + i),
            Some(keep.id),
            &ev(10, EventType::PasswordChanged, "suzuki"),
        )
        .await);
    }
    assert_eq!(
        ok(s.password_history(login.id, 2).await),
        ["hash29", "hash28"]
    );
    assert_eq!(
        ok(s.password_history(login.id, 100).await).len(),
        24,
        "history is bounded"
    );
    assert!(ok(s.password_history(login.id, 0).await).is_empty());
    let l = ok(s.get_login("suzuki").await).unwrap_or_else(|| unreachable!());
    assert_eq!(l.password_hash.as_deref(), Some("hash29"));
    assert_eq!(l.password_changed_at, Some(Timestamp(39)));
    assert!(!l.password_temporary);
    assert!(
        ok(s.get_session("keep").await).is_some_and(|x| x.revoked_at.is_none()),
        "the current session stays"
    );
    assert!(
        ok(s.get_session("other").await).is_some_and(|x| x.revoked_at.is_some()),
        "other sessions end"
    );
    ok(s.set_password(
        login.id,
        "tmp",
        true,
        Timestamp(50),
        None,
        &ev(50, EventType::PasswordSet, "suzuki"),
    )
    .await);
    let l = ok(s.get_login("suzuki").await).unwrap_or_else(|| unreachable!());
    assert!(l.password_temporary);
    assert!(ok(s.get_session("keep").await).is_some_and(|x| x.revoked_at.is_some()));
}
