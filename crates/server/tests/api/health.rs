use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_readiness_metrics() {
    let app = spawn_app().await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    app.create_login("tanaka01", "abc12345").await;
    app.login("tanaka01", "abc12345").await;
    app.login("tanaka01", "wrong1234").await;
    let r = app.get("/metrics", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/plain"));
    assert_eq!(
        app.metric("sekisho_logins_total{result=\"succeeded\"}")
            .await,
        1.0
    );
    assert_eq!(
        app.metric("sekisho_logins_total{result=\"invalid_credentials\"}")
            .await,
        1.0
    );
    assert!(app.metric("sekisho_password_hash_seconds_count").await >= 3.0);
}

/// Every path in the OpenAPI document answers (no 404 "not_found" / 405 from the router).
#[tokio::test]
async fn openapi_documents_existing_endpoints() {
    let app = spawn_app().await;
    let r = app.get("/api/openapi.json", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = ok(r.json().await);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    assert!(paths.len() >= 17, "{} paths", paths.len());
    for (path, ops) in &paths {
        let concrete = path
            .replace("{login_id}", "nosuchlogin")
            .replace("{id}", "999999")
            .replace("{token_id}", "NOSUCHTOKEN");
        for method in ops
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let Ok(m) = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()) else {
                continue;
            };
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                continue;
            }
            let r = ok(app
                .http
                .request(m.clone(), format!("{}{concrete}", app.url))
                .bearer_auth(&app.admin_token)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await);
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{m} {path}");
            let error = serde_json::from_str::<Value>(&body)
                .ok()
                .map(|v| v["error"].clone());
            assert_ne!(
                error,
                Some(Value::from("not_found")),
                "{m} {path} is documented but not routed"
            );
            assert!(
                status != StatusCode::INTERNAL_SERVER_ERROR,
                "{m} {path}: {body}"
            );
        }
    }
}
