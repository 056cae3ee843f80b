//! A real relying party against Sekisho over HTTPS (issue 15, "Tests that must exist"): the
//! example trading app in `examples/relying-app` (npm `openid-client` v6, certified as a FAPI 2
//! RP) is started twice, once as a `fapi2` client (PAR + PKCE + DPoP + `private_key_jwt`) and
//! once as a `basic` one (`client_secret_basic` + PKCE), and chromium walks the customer through
//! Sekisho's hosted pages with an app code from oathtool (`tests/browser/oidc_rp.mjs`). At the
//! end the trading app asks for a withdrawal in `authorization_details` (RFC 9396) through PAR;
//! the customer confirms it with a passkey on the step-up page, and the app receives it in the
//! token response.
//!
//! Sekisho serves HTTPS with a certificate of a test CA; the relying apps trust that CA
//! (`NODE_EXTRA_CA_CERTS`) and serve HTTPS themselves with the same certificate (redirect URIs of
//! web clients must be https).

use crate::browser::{browser_available, run_script};
use crate::common::*;
use crate::pki::{ec_key, pki};
use crate::step_up::stepper;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::pkey::{PKey, Private};
use reqwest::{Method, StatusCode};
use sekisho_core::otp::base32_encode;
use sekisho_server::{Tls, Transport};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

fn example_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/relying-app")
}

/// The public half of a P-256 key as a JWK.
fn public_jwk(key: &PKey<Private>, kid: &str) -> Value {
    let ec = ok(key.ec_key());
    let (mut x, mut y) = (ok(BigNum::new()), ok(BigNum::new()));
    let mut ctx = ok(BigNumContext::new());
    ok(ec
        .public_key()
        .affine_coordinates(ec.group(), &mut x, &mut y, &mut ctx));
    let b64 = |n: &BigNum| URL_SAFE_NO_PAD.encode(ok(n.to_vec_padded(32)));
    json!({ "kty": "EC", "crv": "P-256", "x": b64(&x), "y": b64(&y), "kid": kid,
            "use": "sig", "alg": "ES256" })
}

/// A free port on 127.0.0.1 for a relying app.
async fn free_port() -> u16 {
    let l = ok(tokio::net::TcpListener::bind("127.0.0.1:0").await);
    ok(l.local_addr()).port()
}

/// One running relying app (killed when dropped).
struct RelyingApp {
    url: String,
    _child: tokio::process::Child,
}

struct Tlsfiles<'a> {
    cert: &'a Path,
    key: &'a Path,
    ca: &'a Path,
}

async fn start_rp(
    issuer: &str,
    port: u16,
    tls: &Tlsfiles<'_>,
    env: &[(&str, String)],
) -> RelyingApp {
    let url = format!("https://localhost:{port}");
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(example_dir().join("app.mjs"))
        .current_dir(example_dir())
        .env("SEKISHO_ISSUER", issuer)
        .env("RP_BASE_URL", &url)
        .env("RP_PORT", port.to_string())
        .env("RP_TLS_CERT", tls.cert)
        .env("RP_TLS_KEY", tls.key)
        .env("NODE_EXTRA_CA_CERTS", tls.ca)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = ok(cmd.spawn());
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return RelyingApp { url, _child: child };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!("the relying app did not start on port {port}");
}

async fn register(app: &TestApp, body: Value) -> Value {
    let r = app.admin(Method::POST, "/oidc/clients", Some(body)).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    ok(r.json().await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_signs_in_through_the_hosted_pages_over_https() {
    if !browser_available() {
        return;
    }
    if !example_dir().join("node_modules/openid-client").exists() {
        assert!(
            std::env::var("SEKISHO_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "examples/relying-app/node_modules missing (cd examples/relying-app && npm ci)"
        );
        return;
    }
    let dir = ok(tempfile::tempdir());
    let (cert, key, ca_pem) = pki(dir.path());
    let ca = dir.path().join("ca.pem");
    ok(std::fs::write(&ca, &ca_pem));
    let files = Tlsfiles {
        cert: &cert,
        key: &key,
        ca: &ca,
    };
    // The relying parties check times against their own clocks: the server's test clock starts
    // just behind the real time (and moves only when the test says so: 30 s before the second
    // login, so its app code is a new one).
    let now = sekisho_core::Clock::now(&sekisho_app::system::SystemClock).0;
    let app = Arc::new(
        spawn_with(Options {
            clock: Some(Arc::new(TestClock::at(now - 30))),
            transport: Transport {
                tls: Some(ok(Tls::from_pem_files(&cert, &key, 0))),
                ..Transport::default()
            },
            https_ca: Some(ca_pem.clone()),
            // Back-channel logouts go to the relying apps, whose certificates the test CA signed.
            settings: vec![
                ("oidc.backchannel_ca_file", ca.display().to_string().into()),
                ("oidc.backchannel_poll_interval_ms", 100.into()),
            ],
            ..Options::default()
        })
        .await,
    );
    let issuer = app.state.settings.public_url.clone();
    assert!(issuer.starts_with("https://localhost:"), "{issuer}");
    let s = stepper(&app, "rp-tanaka").await;

    // The trading site: a FAPI 2.0 client with a P-256 key.
    let (trade_port, crm_port) = (free_port().await, free_port().await);
    let rp_key = ec_key();
    let rp_key_file = dir.path().join("rp-key.pem");
    ok(std::fs::write(
        &rp_key_file,
        ok(rp_key.private_key_to_pem_pkcs8()),
    ));
    let trade_url = format!("https://localhost:{trade_port}");
    let trade = register(
        &app,
        json!({
            "client_name": "トレードWeb",
            "profile": "fapi2",
            "token_endpoint_auth_method": "private_key_jwt",
            "redirect_uris": [format!("{trade_url}/callback")],
            "post_logout_redirect_uris": [format!("{trade_url}/logged-out")],
            "id_token_signed_response_alg": "ES256",
            "jwks": { "keys": [public_jwk(&rp_key, "trade-1")] },
            "grant_types": ["authorization_code", "refresh_token"],
            "scope": "openid profile email login_id",
            "first_party": true,
        }),
    )
    .await;
    let trade_id = trade["client_id"].as_str().unwrap_or_default().to_owned();
    // The CRM site: a basic client with a secret.
    let crm_url = format!("https://localhost:{crm_port}");
    let crm = register(
        &app,
        json!({
            "client_name": "CRM ポータル",
            "profile": "basic",
            "token_endpoint_auth_method": "client_secret_basic",
            "redirect_uris": [format!("{crm_url}/callback")],
            "post_logout_redirect_uris": [format!("{crm_url}/logged-out")],
            "backchannel_logout_uri": format!("{crm_url}/backchannel-logout"),
            "backchannel_logout_session_required": true,
            "id_token_signed_response_alg": "ES256",
            "scope": "openid profile email",
            "first_party": true,
        }),
    )
    .await;
    let crm_id = crm["client_id"].as_str().unwrap_or_default().to_owned();

    let trade_rp = start_rp(
        &issuer,
        trade_port,
        &files,
        &[
            ("RP_CLIENT_ID", trade_id.clone()),
            ("RP_PRIVATE_KEY", rp_key_file.display().to_string()),
            ("RP_KEY_ID", "trade-1".into()),
            // fapi2 clients get DPoP-bound tokens only.
            ("RP_DPOP", "1".into()),
        ],
    )
    .await;
    let crm_rp = start_rp(
        &issuer,
        crm_port,
        &files,
        &[
            ("RP_CLIENT_ID", crm_id.clone()),
            (
                "RP_CLIENT_SECRET",
                crm["client_secret"].as_str().unwrap_or_default().to_owned(),
            ),
            ("RP_SCOPE", "openid profile email".into()),
        ],
    )
    .await;

    run_script(
        app.clone(),
        "oidc_rp.mjs",
        &[
            ("SEKISHO_TOTP_KEY", &base32_encode(&s.secret)),
            ("SEKISHO_LOGIN", "rp-tanaka"),
            ("SEKISHO_PASSWORD", "abc12345"),
            ("RP_TRADE_URL", &trade_rp.url),
            ("RP_CRM_URL", &crm_rp.url),
        ],
    )
    .await;

    // The withdrawal the trading app asked for was confirmed with the passkey inside the flow.
    let audit = app.audit("rp-tanaka").await;
    assert!(
        audit.iter().any(|e| e["event_type"] == "step_up_confirmed"
            && e["description"]
                .as_str()
                .is_some_and(|d| d.contains("withdrawal") && d.contains("passkey"))),
        "{audit:?}"
    );
    // What the relying parties did is in the audit trail, naming each client.
    assert!(app.count_events("rp-tanaka", "login_succeeded").await >= 1);
    for client in [&trade_id, &crm_id] {
        let r = app
            .admin(Method::GET, "/audit?login_id=rp-tanaka&limit=200", None)
            .await;
        let v: Value = ok(r.json().await);
        let text = v.to_string();
        assert!(
            text.contains(client.as_str()),
            "no audit record names {client}"
        );
    }
}
