//! Issue 16 item 2: the throttle every door that checks a secret calls, kept in the database
//! (shared by every instance), a token bucket rather than fixed windows; the delay that grows
//! with a login ID's consecutive wrong passwords; and `password.lockout_mode`.

use crate::common::{expect_error, ok, postgres, spawn_with, Options, TestApp};
use reqwest::{Response, StatusCode};
use sekisho_core::password::Preset;
use sekisho_core::Clock;
use serde_json::json;

pub(crate) fn tight(settings: &[(&'static str, i64)]) -> Options {
    Options {
        settings: settings.iter().map(|(k, v)| (*k, (*v).into())).collect(),
        ..Options::default()
    }
}

pub(crate) async fn refused(r: Response) -> i64 {
    let wait = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or_else(|| unreachable!("no Retry-After: {:?}", r.headers()));
    let v = expect_error(
        r,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_attempts",
        "SKS-WEB-0002",
    )
    .await;
    assert_eq!(v["retry_after_secs"], wait, "{v}");
    wait
}

async fn login(app: &TestApp, id: &str, pw: &str) -> Response {
    app.post(
        "/api/v1/login",
        None,
        json!({ "login_id": id, "password": pw }),
    )
    .await
}

#[tokio::test]
async fn one_address_gets_its_burst_then_the_rate_whatever_the_login_ids() {
    let app = spawn_with(tight(&[
        ("throttle.per_address_per_minute", 3),
        ("throttle.per_address_burst", 3),
    ]))
    .await;
    for i in 0..3 {
        let r = login(&app, &format!("guess{i:05}"), "x1234567").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    // The fourth ID from the same address waits one interval (20 s).
    assert_eq!(
        refused(login(&app, "guess00003", "x1234567").await).await,
        20
    );
    app.clock.advance(19);
    refused(login(&app, "guess00004", "x1234567").await).await;
    app.clock.advance(1);
    let r = login(&app, "guess00005", "x1234567").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    refused(login(&app, "guess00006", "x1234567").await).await;
    // The operators' session and the passwordless begin draw on the same address.
    app.clock.advance(20);
    let r = app
        .post("/api/v1/login/passkey/begin", None, json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    refused(
        app.post(
            "/api/admin/v1/session",
            None,
            json!({ "name": "root", "password": "x", "otp": "000000" }),
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn one_login_id_gets_its_burst_whatever_the_address_and_spelling() {
    let app = spawn_with(tight(&[
        ("throttle.per_login_per_minute", 2),
        ("throttle.per_login_burst", 2),
    ]))
    .await;
    app.create_login("tanaka", "kabu2026xyz").await;
    assert_eq!(
        login(&app, "tanaka", "wrong1234").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // The same ID in another spelling shares the bucket.
    assert_eq!(
        login(&app, "TANAKA", "wrong1234").await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Spent: even the right password waits (30 s, one interval).
    assert_eq!(
        refused(login(&app, "tanaka", "kabu2026xyz").await).await,
        30
    );
    // Another login ID is not affected.
    assert_eq!(
        login(&app, "sato", "wrong1234").await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.clock.advance(30);
    assert_eq!(
        login(&app, "tanaka", "kabu2026xyz").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_burst_across_a_minute_boundary_is_refused() {
    // The old fixed one-minute window let a full burst through on each side of a boundary.
    let app = spawn_with(tight(&[
        ("throttle.per_address_per_minute", 5),
        ("throttle.per_address_burst", 5),
    ]))
    .await;
    let now = app.clock.now().0;
    app.clock.advance(59 - now.rem_euclid(60));
    let mut through = 0;
    for i in 0..5 {
        if login(&app, &format!("edge{i}"), "x1234567").await.status() == StatusCode::UNAUTHORIZED {
            through += 1;
        }
    }
    assert_eq!(through, 5);
    // The next minute begins.
    app.clock.advance(1);
    assert_eq!(app.clock.now().0.rem_euclid(60), 0);
    for i in 5..10 {
        refused(login(&app, &format!("edge{i}"), "x1234567").await).await;
    }
}

async fn shared_by_two_servers(url: String) {
    let limits = [
        ("throttle.per_login_per_minute", 1),
        ("throttle.per_login_burst", 4),
    ];
    let a = spawn_with(Options {
        database_url: Some(url.clone()),
        ..tight(&limits)
    })
    .await;
    let b = spawn_with(Options {
        database_url: Some(url),
        clock: Some(a.clock.clone()),
        ..tight(&limits)
    })
    .await;
    a.create_login("kobayashi", "kabu2026xyz").await;
    for app in [&a, &b, &a, &b] {
        let r = login(app, "kobayashi", "wrong1234").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    refused(login(&a, "kobayashi", "kabu2026xyz").await).await;
    refused(login(&b, "kobayashi", "kabu2026xyz").await).await;
    a.clock.advance(60);
    assert_eq!(
        login(&b, "kobayashi", "kabu2026xyz").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn two_servers_on_one_sqlite_file_share_the_limits() {
    let dir = ok(tempfile::tempdir());
    shared_by_two_servers(sekisho_store::testing::sqlite_url(dir.path())).await;
}

#[tokio::test]
async fn two_servers_on_one_postgresql_database_share_the_limits() {
    let Some(url) = postgres("api_throttle_shared").await else {
        return;
    };
    shared_by_two_servers(url).await;
}

#[tokio::test]
async fn the_delay_grows_with_consecutive_wrong_passwords_is_capped_and_names_no_login() {
    let opts = Options {
        preset: Preset::Nist80063b4,
        ..tight(&[
            ("throttle.delay_free_failures", 1),
            ("throttle.delay_base_secs", 2),
            ("throttle.delay_cap_secs", 8),
        ])
    };
    let app = spawn_with(opts).await;
    app.create_login("watanabe", "a-long-passphrase-2026").await;
    // The same waits for an existing login and an unknown ID.
    for id in ["watanabe", "nobody99"] {
        assert_eq!(
            login(&app, id, "wrong-guess-0000").await.status(),
            StatusCode::UNAUTHORIZED
        );
        let mut waits = Vec::new();
        for _ in 0..5 {
            assert_eq!(
                login(&app, id, "wrong-guess-0000").await.status(),
                StatusCode::UNAUTHORIZED
            );
            let wait = refused(login(&app, id, "wrong-guess-0000").await).await;
            waits.push(wait);
            app.clock.advance(wait);
        }
        assert_eq!(waits, [2, 4, 8, 8, 8], "{id}");
    }
    // The right password after the wait goes through and forgives the count.
    assert_eq!(
        login(&app, "watanabe", "a-long-passphrase-2026")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        login(&app, "watanabe", "wrong-guess-0000").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "watanabe", "wrong-guess-0000").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(refused(login(&app, "watanabe", "x").await).await, 2);
}

async fn lock(app: &TestApp, id: &str) {
    app.create_login(id, "kabu2026xyz").await;
    for _ in 0..5 {
        login(app, id, "wrong1234").await;
    }
    let r = app
        .admin(reqwest::Method::GET, &format!("/logins/{id}"), None)
        .await;
    let v: serde_json::Value = ok(r.json().await);
    assert_eq!(v["locked"], true, "{v}");
}

#[tokio::test]
async fn a_timed_lock_lifts_by_itself_after_its_duration() {
    let app = spawn_with(Options {
        settings: vec![
            ("password.lockout_mode", "timed".into()),
            ("password.lockout_duration_secs", 600.into()),
        ],
        ..Options::default()
    })
    .await;
    lock(&app, "kimura").await;
    app.clock.advance(599);
    assert_ne!(
        login(&app, "kimura", "kabu2026xyz").await.status(),
        StatusCode::OK
    );
    app.clock.advance(1);
    assert_eq!(
        login(&app, "kimura", "kabu2026xyz").await.status(),
        StatusCode::OK
    );
    let events = app.audit("kimura").await;
    assert!(
        events.iter().any(|e| e["event_type"] == "login_unlocked"
            && e["actor"]["kind"] == "system"
            && e["description"]
                .as_str()
                .is_some_and(|d| d.contains("lockout_mode timed"))),
        "{events:?}"
    );
}

#[tokio::test]
async fn an_operator_lock_does_not_lift_by_itself() {
    let app = spawn_with(Options::default()).await;
    lock(&app, "hayashi").await;
    app.clock.advance(30 * 86_400);
    assert_ne!(
        login(&app, "hayashi", "kabu2026xyz").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.count_events("hayashi", "login_unlocked").await, 0);
}

#[tokio::test]
async fn the_console_sign_in_counts_operator_names_apart_from_login_ids() {
    let app = spawn_with(tight(&[
        ("throttle.per_login_per_minute", 1),
        ("throttle.per_login_burst", 2),
    ]))
    .await;
    app.create_login("desk9", "kabu2026xyz").await;
    let mut b = crate::pages::Browser::new();
    let (_, _, html) = b.get(&app, "/admin/login").await;
    let t = crate::pages::csrf(&html);
    for _ in 0..2 {
        let (status, _, _) = b
            .post(
                &app,
                "/admin/login",
                &[
                    ("csrf", &t),
                    ("name", "desk9"),
                    ("password", "wrong"),
                    ("otp", "000000"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, html) = b
        .post(
            &app,
            "/admin/login",
            &[
                ("csrf", &t),
                ("name", "desk9"),
                ("password", "wrong"),
                ("otp", "000000"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{html}");
    // The operator's spent bucket is not the customer's of the same name.
    assert_eq!(
        login(&app, "desk9", "kabu2026xyz").await.status(),
        StatusCode::OK
    );
}
