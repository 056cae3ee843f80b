//! Issue 16 item 8: the OpenAPI description's `security` sections say what the server does.
//! Every documented operation is called without credentials and with each kind the server
//! knows (a customer session, an API token of each scope, an operator of each role); a refusal
//! (`unauthorized`, `session_invalid`, `insufficient_scope`, `admin_role_required`) must happen
//! exactly where the description does not list the credential.

use crate::common::*;
use crate::operators::{login as operator_login, operator, PASSWORD as OPERATOR_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A credential the walk presents, and how the description names it.
struct Credential {
    label: String,
    bearer: Option<String>,
    /// (`session` | `apiToken` | `operatorSession`, scope or role)
    kind: Option<(&'static str, String)>,
}

fn accepts(security: Option<&Value>, doc_default: Option<&Value>, c: &Credential) -> bool {
    let requirements = match security.or(doc_default) {
        None => return true,
        Some(Value::Array(r)) if r.is_empty() => return true,
        Some(Value::Array(r)) => r.clone(),
        Some(_) => return true,
    };
    let Some((scheme, scope)) = &c.kind else {
        // No credential: accepted only where one of the alternatives is empty (`{}`).
        return requirements
            .iter()
            .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
    };
    requirements.iter().any(|r| match r.get(*scheme) {
        Some(Value::Array(scopes)) => scopes.is_empty() || scopes.iter().any(|s| s == scope),
        _ => false,
    })
}

fn refused(status: StatusCode, body: &str) -> bool {
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_default();
    matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        && matches!(
            error.as_str(),
            "unauthorized" | "session_invalid" | "insufficient_scope" | "admin_role_required"
        )
}

async fn api_token(app: &TestApp, scope: &str) -> String {
    let r = app
        .admin(
            Method::POST,
            "/api-tokens",
            Some(json!({ "name": format!("walk-{scope}"), "scope": scope })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    v["token"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn every_documented_operation_refuses_exactly_the_credentials_it_does_not_list() {
    let app = spawn_app().await;
    let doc: Value = ok(app.get("/api/openapi.json", None).await.json().await);
    app.create_login("walker01", "abc12345").await;
    let v: Value = ok(app.login("walker01", "abc12345").await.json().await);
    let session = v["session_token"].as_str().unwrap_or_default().to_owned();
    let mut credentials = vec![
        Credential {
            label: "no credential".into(),
            bearer: None,
            kind: None,
        },
        Credential {
            label: "customer session".into(),
            bearer: Some(session),
            kind: Some(("session", String::new())),
        },
    ];
    for scope in ["admin", "validate", "step_up", "metrics"] {
        let bearer = if scope == "admin" {
            app.admin_token.clone()
        } else {
            api_token(&app, scope).await
        };
        credentials.push(Credential {
            label: format!("API token ({scope})"),
            bearer: Some(bearer),
            kind: Some(("apiToken", scope.into())),
        });
    }
    for role in ["admin", "support"] {
        let op = operator(&app, &format!("walk-{role}"), role).await;
        app.clock.advance(30);
        let r = operator_login(&app, &op, OPERATOR_PASSWORD).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = ok(r.json().await);
        credentials.push(Credential {
            label: format!("operator ({role})"),
            bearer: v["token"].as_str().map(str::to_owned),
            kind: Some(("operatorSession", role.into())),
        });
    }

    // Operations that end the credential they are called with go last.
    let mut ops: Vec<(String, String, Option<Value>)> = Vec::new();
    for (path, item) in doc["paths"].as_object().cloned().unwrap_or_default() {
        for (method, op) in item.as_object().cloned().unwrap_or_default() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                ops.push((
                    method.to_uppercase(),
                    path.clone(),
                    op.get("security").cloned(),
                ));
            }
        }
    }
    let ends_credential = |m: &str, p: &str| {
        (m, p) == ("POST", "/api/v1/logout") || (m, p) == ("DELETE", "/api/admin/v1/session")
    };
    ops.sort_by_key(|(m, p, _)| ends_credential(m, p));

    let mut mismatches = Vec::new();
    for (method, path, security) in &ops {
        let concrete = path
            .replace("{login_id}", "nosuchlogin")
            .replace("{id}", "999999")
            .replace("{token_id}", "NOSUCHTOKEN")
            .replace("{name}", "nosuchop")
            .replace("{token}", "skst_nosuchtoken");
        for c in &credentials {
            let mut req = app
                .http
                .request(
                    ok(Method::from_bytes(method.as_bytes())),
                    format!("{}{concrete}", app.url),
                )
                .header("content-type", "application/json")
                .body("{}");
            if let Some(b) = &c.bearer {
                req = req.bearer_auth(b);
            }
            let r = ok(req.send().await);
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            let documented = accepts(security.as_ref(), doc.get("security"), c);
            if documented == refused(status, &body) {
                mismatches.push(format!(
                    "{method} {path} with {}: the description says {}, the server answered {status} {}",
                    c.label,
                    if documented { "accepted" } else { "refused" },
                    body.chars().take(120).collect::<String>()
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
