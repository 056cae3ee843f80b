//! The back-channel logout outbox as operators read it (`GET /api/admin/v1/oidc/logouts`, the
//! console's `/admin/oidc/logouts`): each logout's client, login, state, attempts and last
//! error, filtered by state and client, paged.

use crate::common::{ok, spawn_with, Options, TestApp};
use reqwest::{Method, StatusCode};
use sekisho_core::{Clock, Timestamp};
use sekisho_store::SessionSignIn;
use serde_json::{json, Value};

/// A test server whose back-channel sender looks at the outbox only at start, so that the
/// logouts a test prepares stay as it left them.
pub(crate) async fn quiet_sender() -> TestApp {
    spawn_with(Options {
        settings: vec![("oidc.backchannel_poll_interval_ms", 3_600_000.into())],
        ..Options::default()
    })
    .await
}

async fn client(app: &TestApp, name: &str, bc: &str) -> String {
    let r = app
        .admin(
            Method::POST,
            "/oidc/clients",
            Some(json!({
                "client_name": name,
                "profile": "basic",
                "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": [format!("https://{bc}/callback")],
                "backchannel_logout_uri": format!("https://{bc}/backchannel-logout"),
                "scope": "openid",
                "first_party": true,
            })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = ok(r.json().await);
    v["client_id"].as_str().unwrap_or_default().to_owned()
}

/// Login `login_id` signs in to the partner's app in a first session and to the trading app in
/// two more, logging out of each in turn. Of the three logouts queued, the first (partner) is
/// given up, the second (trading) delivered and the third (trading) waits for its second
/// attempt. Answers the two client IDs (trading, partner).
pub(crate) async fn three_logouts(app: &TestApp, login_id: &str) -> (String, String) {
    let trade = client(app, "関所トレード", "trade.example.co.jp").await;
    let partner = client(app, "パートナー資産管理", "partner.example.co.jp").await;
    app.create_login(login_id, "abc12345").await;
    let login = ok(app.state.store.get_login(login_id).await).unwrap_or_else(|| unreachable!());
    let now = app.clock.now();
    for c in [&partner, &trade, &trade] {
        let r = app.login(login_id, "abc12345").await;
        assert_eq!(r.status(), StatusCode::OK);
        let v: Value = ok(r.json().await);
        let token = v["session_token"].as_str().unwrap_or_default().to_owned();
        let session_id = ok(app.state.store.newest_session_id().await);
        let sign_in = SessionSignIn {
            session_id,
            client_id: c.clone(),
            login_pk: login.id,
            sid: format!("sid-{session_id}"),
            backchannel: true,
            first_at: now,
            last_at: now,
        };
        ok(app.state.store.record_sign_in(&sign_in).await);
        let r = app
            .post("/api/v1/logout", Some(token.as_str()), json!({}))
            .await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
    }
    let s = &app.state.store;
    let ev = |ty| {
        sekisho_core::audit::NewAuditEvent::new(
            now,
            ty,
            Some(login_id),
            sekisho_core::audit::Actor::System,
            &Default::default(),
            "test",
        )
    };
    use sekisho_core::audit::EventType::{OidcBackchannelDelivered, OidcBackchannelFailed};
    let lease = Timestamp(now.0 + 120);
    let claim =
        || async move { ok(s.claim_logout(now, lease).await).unwrap_or_else(|| unreachable!()) };
    let first = claim().await;
    let refused = "https://partner.example.co.jp/backchannel-logout answered 503";
    ok(
        s.logout_failed(first.id, refused, now, &ev(OidcBackchannelFailed))
            .await,
    );
    let second = claim().await;
    ok(s.logout_sent(second.id, now, &ev(OidcBackchannelDelivered))
        .await);
    let third = claim().await;
    let error = "https://trade.example.co.jp/backchannel-logout: connection refused";
    ok(s.logout_retry(third.id, error, Timestamp(now.0 + 40)).await);
    (trade, partner)
}

async fn list(app: &TestApp, query: &str) -> (StatusCode, Value) {
    let r = app
        .admin(Method::GET, &format!("/oidc/logouts{query}"), None)
        .await;
    let status = r.status();
    (status, ok(r.json().await))
}

fn states(v: &Value) -> Vec<(String, String)> {
    v["logouts"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    let s = |k: &str| l[k].as_str().unwrap_or_default().to_owned();
                    (s("client_id"), s("state"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn operators_list_the_logout_outbox_by_state_and_client() {
    let app = quiet_sender().await;
    let (trade, partner) = three_logouts(&app, "bo0001").await;
    let pair = |c: &str, s: &str| (c.to_owned(), s.to_owned());

    let (status, all) = list(&app, "").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        states(&all),
        [
            pair(&trade, "pending"),
            pair(&trade, "sent"),
            pair(&partner, "failed")
        ]
    );
    assert_eq!(all["next_before"], Value::Null);
    let waiting = &all["logouts"][0];
    assert_eq!(waiting["login_id"], "bo0001");
    assert_eq!(waiting["attempts"], 1);
    assert!(waiting["last_error"]
        .as_str()
        .is_some_and(|e| e.contains("connection refused")));
    assert!(waiting["next_attempt_at"].is_string());
    let given_up = &all["logouts"][2];
    assert_eq!(given_up["next_attempt_at"], Value::Null);
    assert!(given_up["failed_at"].is_string());

    let (_, failed) = list(&app, "?state=failed").await;
    assert_eq!(states(&failed), [pair(&partner, "failed")]);
    let (_, of_trade) = list(&app, &format!("?client_id={trade}")).await;
    assert_eq!(
        states(&of_trade),
        [pair(&trade, "pending"), pair(&trade, "sent")]
    );
    let (_, sent) = list(&app, &format!("?client_id={trade}&state=sent")).await;
    assert_eq!(states(&sent), [pair(&trade, "sent")]);

    // A page at a time.
    let (_, p1) = list(&app, "?limit=2").await;
    assert_eq!(states(&p1).len(), 2);
    let before = p1["next_before"]
        .as_i64()
        .unwrap_or_else(|| unreachable!("{p1}"));
    let (_, p2) = list(&app, &format!("?limit=2&before={before}")).await;
    assert_eq!(states(&p2), [pair(&partner, "failed")]);
    assert_eq!(p2["next_before"], Value::Null);

    let (status, bad) = list(&app, "?state=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"], "invalid_request");
}
