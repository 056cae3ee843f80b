use crate::common::*;
use reqwest::{Method, StatusCode};
use serde_json::Value;

#[tokio::test]
async fn five_failures_lock_until_an_operator_unlocks() {
    let app = spawn_app().await;
    app.create_login("yamada01", "abc12345").await;
    for _ in 0..5 {
        let r = app.login("yamada01", "wrong1234").await;
        expect_error(
            r,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "SKS-LGN-0001",
        )
        .await;
    }
    // The right password now reveals the lock; a wrong one still says only "invalid".
    let r = app.login("yamada01", "abc12345").await;
    let v = expect_error(r, StatusCode::FORBIDDEN, "login_locked", "SKS-LGN-0002").await;
    assert!(v["message"].as_str().unwrap_or("").contains("ロック"));
    let r = app.login("yamada01", "wrong1234").await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "SKS-LGN-0001",
    )
    .await;

    let l: Value = ok(app
        .admin(Method::GET, "/logins/yamada01", None)
        .await
        .json()
        .await);
    assert_eq!(l["locked"], true);
    assert_eq!(l["failed_logins"], 6);
    assert_eq!(app.count_events("yamada01", "login_locked").await, 1);

    let r = app
        .admin(Method::POST, "/logins/yamada01/unlock", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = ok(r.json().await);
    assert_eq!(v["was_locked"], true);
    assert_eq!(
        app.login("yamada01", "abc12345").await.status(),
        StatusCode::OK
    );
    let unlock = app
        .audit("yamada01")
        .await
        .into_iter()
        .find(|e| e["event_type"] == "login_unlocked");
    let unlock = unlock.unwrap_or_default();
    assert_eq!(unlock["actor"]["kind"], "api_token");
    assert!(unlock["actor"]["id"]
        .as_str()
        .unwrap_or("")
        .ends_with(":tests"));
}

#[tokio::test]
async fn a_success_resets_the_failure_count() {
    let app = spawn_app().await;
    app.create_login("abe00001", "abc12345").await;
    for _ in 0..4 {
        app.login("abe00001", "wrong1234").await;
    }
    assert_eq!(
        app.login("abe00001", "abc12345").await.status(),
        StatusCode::OK
    );
    for _ in 0..4 {
        app.login("abe00001", "wrong1234").await;
    }
    assert_eq!(
        app.login("abe00001", "abc12345").await.status(),
        StatusCode::OK,
        "4 + 4 failures with a success between do not lock"
    );
}

async fn concurrent_wrong_passwords(apps: &[TestApp]) {
    apps[0].create_login("target01", "abc12345").await;
    let mut tasks = Vec::new();
    for i in 0..50 {
        let app = &apps[i % apps.len()];
        let (http, url) = (app.http.clone(), app.url.clone());
        tasks.push(tokio::spawn(async move {
            ok(http.post(format!("{url}/api/v1/login"))
                .json(&serde_json::json!({ "login_id": "target01", "password": format!("wrong{i:04}") }))
                .send().await).status()
        }));
    }
    for t in tasks {
        assert_eq!(ok(t.await), StatusCode::UNAUTHORIZED);
    }
    let l: Value = ok(apps[1 % apps.len()]
        .admin(Method::GET, "/logins/target01", None)
        .await
        .json()
        .await);
    assert_eq!(l["failed_logins"], 50, "every failure counted exactly once");
    assert_eq!(l["locked"], true);
    assert_eq!(apps[0].count_events("target01", "login_failed").await, 50);
    assert_eq!(
        apps[0].count_events("target01", "login_locked").await,
        1,
        "locked exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_failures_sqlite() {
    let app = spawn_app().await;
    concurrent_wrong_passwords(&[app]).await;
}

/// Two server instances on one PostgreSQL database, 50 concurrent wrong passwords between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_failures_two_instances_postgres() {
    let Some(url) = postgres("api_lock_two_instances").await else {
        return;
    };
    let a = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Default::default()
    })
    .await;
    let b = spawn_with(Options {
        database_url: Some(url),
        ..Default::default()
    })
    .await;
    concurrent_wrong_passwords(&[a, b]).await;
}
