//! OpenID Connect clients registered by operators: the secret shown once and kept as a hash,
//! each refusal with its code, the admin role, change, disable, rotation, deletion, audit.

use crate::common::{expect_error, ok, postgres, spawn_app, spawn_with, Options, TestApp};
use crate::operators::{login, operator, PASSWORD};
use reqwest::{Method, Response, StatusCode};
use sekisho_app::oidc::clients::secret_matches;
use serde_json::{json, Value};

const EC_KEY: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"k1",
  "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

fn jwks() -> Value {
    ok(serde_json::from_str(EC_KEY))
}

fn basic() -> Value {
    json!({
        "client_name": "CRM ポータル",
        "profile": "basic",
        "token_endpoint_auth_method": "client_secret_basic",
        "redirect_uris": ["https://crm.example.co.jp/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "scope": "openid email login_id",
        "first_party": true,
    })
}

fn fapi2() -> Value {
    json!({
        "client_name": "トレードWeb",
        "redirect_uris": ["https://trade.example.co.jp/callback"],
        "post_logout_redirect_uris": ["https://trade.example.co.jp/bye"],
        "jwks": jwks(),
        "backchannel_logout_uri": "https://trade.example.co.jp/backchannel",
        "backchannel_logout_session_required": true,
        "subject_type": "pairwise",
    })
}

async fn json_of(r: Response) -> Value {
    ok(r.json().await)
}

async fn create(app: &TestApp, body: Value) -> Value {
    let r = app.admin(Method::POST, "/oidc/clients", Some(body)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    json_of(r).await
}

fn str_of(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_default().to_owned()
}

async fn events(app: &TestApp, ty: &str) -> Vec<Value> {
    let r = app
        .admin(
            Method::GET,
            &format!("/audit?event_type={ty}&limit=100"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    json_of(r).await["events"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_registration_answers_the_document_and_the_secret_once() {
    let app = spawn_app().await;
    let c = create(&app, basic()).await;
    let id = str_of(&c, "client_id");
    let secret = str_of(&c, "client_secret");
    assert!(id.starts_with("skc_") && id.len() > 20, "{id}");
    assert!(secret.starts_with("skcs_") && secret.len() > 40, "{secret}");
    // Unreserved URL characters only: client_secret_basic needs no escaping.
    for s in [&id, &secret] {
        assert!(
            s.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-._~".contains(ch)),
            "{s}"
        );
    }
    assert_eq!(c["client_secret_expires_at"], 0);
    assert_eq!(c["client_name"], "CRM ポータル");
    assert_eq!(c["profile"], "basic");
    assert_eq!(c["id_token_signed_response_alg"], "RS256");
    assert_eq!(c["response_types"], json!(["code"]));
    assert_eq!(c["disabled"], false);
    assert!(c["client_id_issued_at"].as_i64().is_some());
    assert!(ok(secret_matches(app.state.app(), &id, &secret).await));

    // Never again: not when read, not in the list, not in the audit trail.
    let r = app
        .admin(Method::GET, &format!("/oidc/clients/{id}"), None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let read = json_of(r).await;
    assert!(read.get("client_secret").is_none(), "{read}");
    assert_eq!(read["scope"], "openid email login_id");
    let list = json_of(app.admin(Method::GET, "/oidc/clients", None).await).await;
    assert!(!list.to_string().contains(&secret));
    assert_eq!(list["clients"][0]["client_id"], id.as_str());
    let created = events(&app, "oidc_client_created").await;
    assert_eq!(created.len(), 1);
    assert!(str_of(&created[0], "description").contains(&id));
    assert!(!created[0].to_string().contains(&secret));

    // A fapi2 client (the default profile) authenticates with its key: no secret.
    let f = create(&app, fapi2()).await;
    assert!(f.get("client_secret").is_none(), "{f}");
    assert_eq!(f["profile"], "fapi2");
    assert_eq!(f["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(f["dpop_bound_access_tokens"], true);
    assert_eq!(f["require_pushed_authorization_requests"], true);
    assert_eq!(f["id_token_signed_response_alg"], "ES256");
    assert_eq!(f["jwks"]["keys"][0]["kid"], "k1");
}

#[tokio::test]
async fn bad_metadata_is_refused_with_a_code_naming_the_field() {
    let app = spawn_app().await;
    let with = |k: &str, v: Value| {
        let mut b = fapi2();
        b[k] = v;
        b
    };
    for (body, error, code, field) in [
        (
            with("redirect_uris", json!(["http://trade.example.co.jp/cb"])),
            "invalid_redirect_uri",
            "SKS-OIC-0001",
            "redirect_uris",
        ),
        (
            with(
                "redirect_uris",
                json!(["https://trade.example.co.jp/cb#top"]),
            ),
            "invalid_redirect_uri",
            "SKS-OIC-0001",
            "redirect_uris",
        ),
        (
            with("redirect_uris", json!(["https://*.example.co.jp/cb"])),
            "invalid_redirect_uri",
            "SKS-OIC-0001",
            "redirect_uris",
        ),
        (
            with("post_logout_redirect_uris", json!(["http://127.0.0.1/bye"])),
            "invalid_redirect_uri",
            "SKS-OIC-0001",
            "post_logout_redirect_uris",
        ),
        (
            with("token_endpoint_auth_method", json!("client_secret_post")),
            "invalid_client_metadata",
            "SKS-OIC-0002",
            "token_endpoint_auth_method",
        ),
        (
            with("id_token_signed_response_alg", json!("RS256")),
            "invalid_client_metadata",
            "SKS-OIC-0002",
            "id_token_signed_response_alg",
        ),
        (
            with("software_statement", json!("eyJ...")),
            "invalid_client_metadata",
            "SKS-OIC-0002",
            "software_statement",
        ),
        (
            with("response_types", json!(["code id_token"])),
            "invalid_client_metadata",
            "SKS-OIC-0002",
            "response_types",
        ),
        (
            with("jwks", Value::Null),
            "invalid_client_metadata",
            "SKS-OIC-0002",
            "jwks",
        ),
    ] {
        let r = app
            .admin(Method::POST, "/oidc/clients", Some(body.clone()))
            .await;
        let v = expect_error(r, StatusCode::BAD_REQUEST, error, code).await;
        assert!(
            str_of(&v, "detail").starts_with(&format!("{field}: ")),
            "{body}: {v}"
        );
    }
    // A native app may use the loopback address over http, without a secret.
    let native = create(
        &app,
        json!({
            "client_name": "デスクトップ取引",
            "profile": "basic",
            "token_endpoint_auth_method": "none",
            "redirect_uris": ["http://127.0.0.1/callback", "http://[::1]/callback"],
        }),
    )
    .await;
    assert!(native.get("client_secret").is_none(), "{native}");
    // Nothing refused was registered.
    let list = json_of(app.admin(Method::GET, "/oidc/clients", None).await).await;
    assert_eq!(list["clients"].as_array().map(Vec::len), Some(1));
}

/// An operator of `role`, logged in: its session token.
async fn operator_session(app: &TestApp, name: &str, role: &str) -> String {
    let op = operator(app, name, role).await;
    app.clock.advance(30);
    let r = login(app, &op, PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    str_of(&json_of(r).await, "token")
}

async fn call(app: &TestApp, token: &str, m: Method, path: &str, body: Option<Value>) -> Response {
    let mut r = app
        .http
        .request(m, format!("{}/api/admin/v1{path}", app.url))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    ok(r.send().await)
}

#[tokio::test]
async fn only_the_admin_role_manages_clients() {
    let app = spawn_app().await;
    let id = str_of(&create(&app, basic()).await, "client_id");
    let support = operator_session(&app, "suzuki", "support").await;
    for (m, path, body) in [
        (Method::GET, "/oidc/clients".to_owned(), None),
        (Method::POST, "/oidc/clients".to_owned(), Some(basic())),
        (Method::GET, format!("/oidc/clients/{id}"), None),
        (
            Method::PATCH,
            format!("/oidc/clients/{id}"),
            Some(json!({"first_party": false})),
        ),
        (Method::POST, format!("/oidc/clients/{id}/disable"), None),
        (
            Method::POST,
            format!("/oidc/clients/{id}/rotate-secret"),
            None,
        ),
        (Method::DELETE, format!("/oidc/clients/{id}"), None),
    ] {
        let r = call(&app, &support, m, &path, body).await;
        expect_error(
            r,
            StatusCode::FORBIDDEN,
            "admin_role_required",
            "SKS-OPR-0001",
        )
        .await;
    }
    // An admin operator may, and is named as the actor.
    let admin = operator_session(&app, "sato", "admin").await;
    let r = call(
        &app,
        &admin,
        Method::POST,
        &format!("/oidc/clients/{id}/disable"),
        None,
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let disabled = events(&app, "oidc_client_disabled").await;
    assert_eq!(disabled.len(), 1);
    assert_eq!(
        disabled[0]["actor"],
        json!({"kind": "operator", "id": "sato"})
    );
}

#[tokio::test]
async fn change_disable_rotate_and_delete_are_each_audited() {
    lifecycle(spawn_app().await).await;
}

#[tokio::test]
async fn change_disable_rotate_and_delete_are_each_audited_postgres() {
    let Some(url) = postgres("api_oidc_clients").await else {
        return;
    };
    lifecycle(
        spawn_with(Options {
            database_url: Some(url),
            ..Options::default()
        })
        .await,
    )
    .await;
}

async fn lifecycle(app: TestApp) {
    let state = app.state.app().clone();
    let c = create(&app, basic()).await;
    let id = str_of(&c, "client_id");
    let first = str_of(&c, "client_secret");
    let path = format!("/oidc/clients/{id}");

    // A change names only what changes; the rest stays, the secret too.
    let r = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"client_name": "CRM", "post_logout_redirect_uris": ["https://crm.example.co.jp/bye"]})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(r).await;
    assert_eq!(v["client_name"], "CRM");
    assert_eq!(v["scope"], "openid email login_id");
    assert!(v.get("client_secret").is_none(), "{v}");
    assert!(ok(secret_matches(&state, &id, &first).await));
    // A change is validated like a registration.
    let r = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"redirect_uris": ["https://crm.example.co.jp/cb#x"]})),
        )
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_redirect_uri",
        "SKS-OIC-0001",
    )
    .await;

    // Rotation: a new secret, shown once; the old one no longer matches.
    let r = app
        .admin(Method::POST, &format!("{path}/rotate-secret"), None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let second = str_of(&json_of(r).await, "client_secret");
    assert!(second.starts_with("skcs_") && second != first);
    assert!(!ok(secret_matches(&state, &id, &first).await));
    assert!(ok(secret_matches(&state, &id, &second).await));

    // Disabled: shown, and its secret no longer authenticates; enabled again, it does.
    for _ in 0..2 {
        let r = app
            .admin(Method::POST, &format!("{path}/disable"), None)
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(json_of(r).await["disabled"], true);
    }
    assert!(!ok(secret_matches(&state, &id, &second).await));
    let r = app
        .admin(Method::POST, &format!("{path}/enable"), None)
        .await;
    assert_eq!(json_of(r).await["disabled"], false);
    assert!(ok(secret_matches(&state, &id, &second).await));

    // Moving to private_key_jwt drops the secret; back to a secret method makes a new one.
    let r = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"token_endpoint_auth_method": "private_key_jwt", "jwks": jwks()})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!ok(secret_matches(&state, &id, &second).await));
    let r = app
        .admin(Method::POST, &format!("{path}/rotate-secret"), None)
        .await;
    expect_error(
        r,
        StatusCode::CONFLICT,
        "oidc_client_no_secret",
        "SKS-OIC-0004",
    )
    .await;
    let r = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"token_endpoint_auth_method": "client_secret_post", "jwks": null})),
        )
        .await;
    let v = json_of(r).await;
    let third = str_of(&v, "client_secret");
    assert!(third.starts_with("skcs_"), "{v}");
    assert!(v.get("jwks").is_none(), "{v}");
    assert!(ok(secret_matches(&state, &id, &third).await));

    // Deleted: gone, and its secret with it.
    let r = app.admin(Method::DELETE, &path, None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for m in [Method::GET, Method::DELETE] {
        let r = app.admin(m, &path, None).await;
        expect_error(
            r,
            StatusCode::NOT_FOUND,
            "oidc_client_not_found",
            "SKS-OIC-0003",
        )
        .await;
    }
    assert!(!ok(secret_matches(&state, &id, &third).await));

    // One record per action, each naming the client; a repeated disable wrote none.
    for (ty, n) in [
        ("oidc_client_created", 1),
        ("oidc_client_updated", 3),
        ("oidc_client_secret_rotated", 1),
        ("oidc_client_disabled", 1),
        ("oidc_client_enabled", 1),
        ("oidc_client_deleted", 1),
    ] {
        let evs = events(&app, ty).await;
        assert_eq!(evs.len(), n, "{ty}");
        assert!(
            evs.iter().all(|e| str_of(e, "description").contains(&id)),
            "{ty}"
        );
        assert!(evs.iter().all(|e| e["event_group"] == "api_token"), "{ty}");
    }
}
