//! Malformed input gets a clear 4xx with a stable code, never a 500.

use crate::common::*;
use reqwest::StatusCode;

async fn raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> reqwest::Response {
    let mut r = app.http.post(format!("{}{path}", app.url)).body(body);
    if let Some(ct) = content_type {
        r = r.header("content-type", ct);
    }
    ok(r.send().await)
}

#[tokio::test]
async fn malformed_requests_get_clear_errors() {
    let app = spawn_app().await;
    let json = Some("application/json");
    type Case<'a> = (Option<&'a str>, Vec<u8>, StatusCode, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            json,
            b"{\"login_id\": \"a\",".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "SKS-GEN-0001",
        ),
        (
            json,
            b"{\"login_id\": \"abcd\", \"password\": \"x\", \"extra\": 1}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "SKS-GEN-0001",
        ),
        (
            json,
            b"{\"login_id\": 12345, \"password\": \"x\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "SKS-GEN-0001",
        ),
        (
            json,
            b"{\"login_id\": \"abcd\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "SKS-GEN-0001",
        ),
        (
            json,
            b"{\"login_id\": \"ab\xff\xfecd\", \"password\": \"x\"}".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "SKS-GEN-0001",
        ),
        (
            json,
            b"[]".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "SKS-GEN-0001",
        ),
        (
            None,
            b"{\"login_id\": \"abcd\", \"password\": \"x\"}".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "SKS-GEN-0003",
        ),
        (
            Some("text/plain"),
            b"hello".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "SKS-GEN-0003",
        ),
        (
            json,
            vec![b' '; 70 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "SKS-GEN-0002",
        ),
    ];
    for (ct, body, status, error, code) in cases {
        let r = raw(&app, "/api/v1/login", ct, body).await;
        let v = expect_error(r, status, error, code).await;
        if error == "invalid_request" {
            assert!(v["detail"].as_str().is_some_and(|d| !d.is_empty()), "{v}");
        }
    }
    let r = app.get("/api/v1/nothing-here", None).await;
    expect_error(r, StatusCode::NOT_FOUND, "not_found", "SKS-GEN-0004").await;
    let r = app.get("/api/v1/login", None).await;
    expect_error(
        r,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "SKS-GEN-0005",
    )
    .await;
    let r = ok(app
        .http
        .get(format!("{}/api/admin/v1/audit?limit=abc", app.url))
        .bearer_auth(&app.admin_token)
        .send()
        .await);
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    let r = ok(app
        .http
        .get(format!("{}/api/admin/v1/audit?since=yesterday", app.url))
        .bearer_auth(&app.admin_token)
        .send()
        .await);
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    let r = ok(app
        .http
        .get(format!("{}/api/admin/v1/audit?colour=red", app.url))
        .bearer_auth(&app.admin_token)
        .send()
        .await);
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    let r = ok(app
        .http
        .delete(format!("{}/api/admin/v1/api-tokens/abc", app.url))
        .bearer_auth(&app.admin_token)
        .send()
        .await);
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    // The server is still fine.
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn bearer_credentials_are_checked() {
    let app = spawn_app().await;
    let r = app.get("/api/admin/v1/logins", None).await;
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;
    let r = app
        .get("/api/admin/v1/logins", Some("sksa_not-a-real-token"))
        .await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;
    let r = app.get("/api/v1/me", None).await;
    expect_error(r, StatusCode::UNAUTHORIZED, "unauthorized", "SKS-AUT-0001").await;
    let r = app.get("/api/v1/me", Some("skss_forged")).await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "session_invalid",
        "SKS-AUT-0003",
    )
    .await;
}

/// `detail` says what is wrong in the request's terms, not the parsers' (issue 16 item 8:
/// ``Cannot parse `abc` to a `i64` ``, Rust type names, "deserialize").
#[tokio::test]
async fn details_speak_of_the_request_not_the_parser() {
    let app = spawn_app().await;
    let detail = |v: serde_json::Value| v["detail"].as_str().unwrap_or_default().to_owned();
    let internals = [
        "Cannot parse",
        "deserialize",
        "i64",
        "u32",
        "struct ",
        "Failed to",
    ];
    let mut seen = Vec::new();

    let r = app
        .admin(reqwest::Method::DELETE, "/api-tokens/abc", None)
        .await;
    let d = detail(
        expect_error(
            r,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "SKS-GEN-0001",
        )
        .await,
    );
    assert_eq!(d, "`abc` in the URL is not a whole number.");
    seen.push(d);

    let r = app
        .admin(reqwest::Method::GET, "/audit?limit=abc", None)
        .await;
    let d = detail(
        expect_error(
            r,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "SKS-GEN-0001",
        )
        .await,
    );
    assert_eq!(d, "`limit` must be a whole number.");
    seen.push(d);

    let cases: [(&[u8], &str); 4] = [
        (
            b"{\"login_id\": 12345, \"password\": \"x\"}",
            "`login_id` must be text",
        ),
        (b"{\"login_id\": \"abcd\"}", "`password` is missing"),
        (b"[]", "must be a JSON object"),
        (b"{\"login_id\": \"a\",", "not valid JSON"),
    ];
    for (body, says) in cases {
        let r = raw(
            &app,
            "/api/v1/login",
            Some("application/json"),
            body.to_vec(),
        )
        .await;
        let d = detail(
            expect_error(
                r,
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "SKS-GEN-0001",
            )
            .await,
        );
        assert!(d.contains(says), "{d} should say {says}");
        seen.push(d);
    }
    for d in seen {
        for bad in internals {
            assert!(!d.contains(bad), "{d:?} names parser internals ({bad})");
        }
    }
}
