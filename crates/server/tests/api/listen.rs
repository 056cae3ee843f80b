//! `admin_listen`: the admin API only on the second address; the public one answers 404.

use crate::common::{expect_error, ok, spawn_with, Options};
use reqwest::{Method, StatusCode};

#[tokio::test]
async fn the_admin_api_is_served_only_on_admin_listen() {
    let app = spawn_with(Options {
        admin_listen: true,
        ..Options::default()
    })
    .await;
    assert_ne!(app.url, app.admin_url);
    // On the admin address: the admin API (and health), not the customer API.
    app.create_login("lsn00001", "abc12345").await;
    let r = app.admin(Method::GET, "/logins", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = ok(app
        .http
        .get(format!("{}/healthz", app.admin_url))
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    let r = ok(app
        .http
        .post(format!("{}/api/v1/login", app.admin_url))
        .json(&serde_json::json!({ "login_id": "lsn00001", "password": "abc12345" }))
        .send()
        .await);
    expect_error(r, StatusCode::NOT_FOUND, "not_found", "SKS-GEN-0004").await;

    // On the public address: customers log in, the admin API does not exist.
    assert_eq!(
        app.login("lsn00001", "abc12345").await.status(),
        StatusCode::OK
    );
    for path in [
        "/api/admin/v1/logins",
        "/api/admin/v1/audit",
        "/api/admin/v1/session",
    ] {
        let r = ok(app
            .http
            .get(format!("{}{path}", app.url))
            .bearer_auth(&app.admin_token)
            .send()
            .await);
        expect_error(r, StatusCode::NOT_FOUND, "not_found", "SKS-GEN-0004").await;
    }
}
