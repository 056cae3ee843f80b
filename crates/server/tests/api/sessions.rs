use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn idle_and_absolute_lifetimes_follow_the_clock() {
    let app = spawn_app().await;
    app.create_login("hayashi1", "abc12345").await;
    let token = app.session("hayashi1", "abc12345").await;
    // Used every 20 minutes, the session lives until its absolute end (12 h).
    for _ in 0..35 {
        app.clock.advance(20 * 60);
        assert_eq!(
            app.get("/api/v1/me", Some(&token)).await.status(),
            StatusCode::OK
        );
    }
    app.clock.advance(20 * 60 + 1);
    let r = app.get("/api/v1/me", Some(&token)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;

    let token = app.session("hayashi1", "abc12345").await;
    app.clock.advance(30 * 60);
    let r = app.get("/api/v1/me", Some(&token)).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;
}

#[tokio::test]
async fn operator_revokes_sessions_and_password_reset_ends_them() {
    let app = spawn_app().await;
    app.create_login("endo0001", "abc12345").await;
    let a = app.session("endo0001", "abc12345").await;
    let b = app.session("endo0001", "abc12345").await;
    let list: Value = ok(app
        .admin(Method::GET, "/logins/endo0001/sessions", None)
        .await
        .json()
        .await);
    assert_eq!(list["sessions"].as_array().map(Vec::len), Some(2));
    let r = app
        .admin(Method::DELETE, "/logins/endo0001/sessions", None)
        .await;
    let v: Value = ok(r.json().await);
    assert_eq!(v["revoked"], 2);
    for t in [&a, &b] {
        assert_eq!(
            app.get("/api/v1/me", Some(t)).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let c = app.session("endo0001", "abc12345").await;
    let r = app
        .admin(
            Method::PUT,
            "/logins/endo0001/password",
            Some(serde_json::json!({ "password": "reset999", "temporary": true })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/me", Some(&c)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = app.login("endo0001", "reset999").await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "password_change_required",
        "SKS-LGN-0004",
    )
    .await;
}

/// `session.retain_days` (30): the background worker deletes sessions that ended long ago, with
/// the clients they signed in to, and keeps live ones and every audit record.
#[tokio::test]
async fn ended_sessions_are_deleted_after_the_retention() {
    let app = spawn_app().await;
    app.create_login("hayashi3", "abc12345").await;
    let stored = |token: String| {
        let store = app.state.store.clone();
        async move {
            let hash = sekisho_core::token::hash(&token);
            ok(store.get_session(&hash).await).is_some()
        }
    };
    let gone = app.session("hayashi3", "abc12345").await;
    let id = ok(app.state.store.newest_session_id().await);
    let login = ok(app.state.store.get_login("hayashi3").await).unwrap_or_else(|| unreachable!());
    let now = sekisho_core::Clock::now(app.clock.as_ref());
    ok(app
        .state
        .store
        .record_sign_in(&sekisho_store::SessionSignIn {
            session_id: id,
            client_id: "skc_gone".into(),
            login_pk: login.id,
            sid: "sid-gone".into(),
            backchannel: false,
            first_at: now,
            last_at: now,
        })
        .await);
    let r = app
        .post("/api/v1/logout", Some(gone.as_str()), serde_json::json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let idle = app.session("hayashi3", "abc12345").await;

    // 29 days after their end both are still there.
    app.clock.advance(12 * 3600 + 29 * 86_400);
    let purged = ok(sekisho_app::sessions::purge_ended(app.state.app()).await);
    assert_eq!(purged, 0);
    assert!(stored(gone.clone()).await && stored(idle.clone()).await);

    // After 30 days the worker (once a minute) deletes them, the sign-in with them; a session
    // opened now lives on.
    app.clock.advance(86_400 + 60);
    let live = app.session("hayashi3", "abc12345").await;
    let mut left = true;
    for _ in 0..100 {
        left = stored(gone.clone()).await || stored(idle.clone()).await;
        if !left {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(!left, "ended sessions deleted");
    assert!(ok(app.state.store.session_sign_ins(id).await).is_empty());
    assert!(stored(live.clone()).await);
    assert_eq!(
        app.get("/api/v1/me", Some(&live)).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.count_events("hayashi3", "login_succeeded").await, 3);
}
