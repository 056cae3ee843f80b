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
    let r = app.get("/metrics", Some(&app.admin_token)).await;
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

/// `/metrics` tells how the service is used: on a listener that serves customers it needs a
/// `metrics` (or `admin`) API token or an operator; with `admin_listen` it and the API
/// description are served only on the internal address.
#[tokio::test]
async fn metrics_need_a_credential_or_the_admin_address() {
    let app = spawn_app().await;
    let r = app.get("/metrics", None).await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;
    let validate = api_token(&app, "validate").await;
    let r = app.get("/metrics", Some(&validate)).await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "SKS-AUT-0002",
    )
    .await;
    let scraper = api_token(&app, "metrics").await;
    let r = app.get("/metrics", Some(&scraper)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(ok(r.text().await).contains("sekisho_password_hash_running"));
    // The scraper's token reads numbers only: not who is logged in, not the admin API.
    let r = app
        .post(
            "/api/v1/introspect",
            Some(&scraper),
            serde_json::json!({ "token": "x" }),
        )
        .await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "SKS-AUT-0002",
    )
    .await;
    let r = app.get("/api/admin/v1/logins", Some(&scraper)).await;
    expect_error(
        r,
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        "SKS-AUT-0002",
    )
    .await;
    // The API description is public information on a single listener.
    assert_eq!(
        app.get("/api/openapi.json", None).await.status(),
        StatusCode::OK
    );

    let split = spawn_with(Options {
        admin_listen: true,
        ..Options::default()
    })
    .await;
    for path in ["/metrics", "/api/openapi.json"] {
        let r = split.get(path, Some(&split.admin_token)).await;
        expect_error(r, StatusCode::NOT_FOUND, "not_found", "SKS-GEN-0004").await;
        let r = ok(split
            .http
            .get(format!("{}{path}", split.admin_url))
            .send()
            .await);
        assert_eq!(r.status(), StatusCode::OK, "{path} on admin_listen");
    }
}

async fn api_token(app: &TestApp, scope: &str) -> String {
    let r = app
        .admin(
            reqwest::Method::POST,
            "/api-tokens",
            Some(serde_json::json!({ "name": scope, "scope": scope })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    v["token"].as_str().unwrap_or_default().to_owned()
}

/// The documented audit event types are exactly the server's, in its order (the OpenID Connect
/// events were missing once).
#[test]
fn openapi_lists_every_audit_event_type() {
    let doc: Value = ok(serde_json::from_str(sekisho_server::OPENAPI_JSON));
    let listed: Vec<&str> = doc["components"]["schemas"]["EventType"]["enum"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let known: Vec<&str> = sekisho_core::audit::EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect();
    assert_eq!(listed, known);
    let groups = doc["components"]["schemas"]["EventType"]["description"]
        .as_str()
        .unwrap_or_default();
    for t in sekisho_core::audit::EventType::ALL {
        let entry = format!("`{}` → `{}`", t.as_str(), t.group());
        assert!(
            groups.contains(&entry),
            "{entry} missing from the description"
        );
    }
}
