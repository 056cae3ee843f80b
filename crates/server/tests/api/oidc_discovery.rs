//! OpenID Connect discovery and keys: the discovery document names only endpoints that answer,
//! the JWK Set has a key of every algorithm, and a JWT signed with each verifies with the
//! published set alone.

use crate::common::{ok, spawn_app, spawn_with, Options};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use sekisho_app::keys::{self, Alg};
use sekisho_core::Clock;
use sekisho_store::testing::sqlite_url;
use serde_json::{json, Value};
use std::collections::BTreeSet;

#[tokio::test]
async fn discovery_names_the_issuer_the_keys_and_only_live_endpoints() {
    let app = spawn_app().await;
    let r = app.get("/.well-known/openid-configuration", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .headers()
        .get("cache-control")
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("max-age"))));
    let d: Value = ok(r.json().await);
    assert_eq!(d["issuer"], "http://sekisho.test");
    assert_eq!(d["jwks_uri"], "http://sekisho.test/oidc/jwks");
    assert_eq!(d["response_types_supported"], json!(["code"]));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        d["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        json!([
            "private_key_jwt",
            "client_secret_basic",
            "client_secret_post",
            "none"
        ])
    );
    assert_eq!(
        d["id_token_signing_alg_values_supported"],
        json!(["EdDSA", "ES256", "PS256", "RS256"])
    );
    // FAPI 2.0: no RS256 for what clients sign.
    assert_eq!(
        d["token_endpoint_auth_signing_alg_values_supported"],
        json!(["EdDSA", "ES256", "PS256"])
    );
    // DPoP proofs: the FAPI 2.0 algorithms.
    assert_eq!(
        d["dpop_signing_alg_values_supported"],
        json!(["ES256", "EdDSA", "PS256"])
    );
    // A resource server authenticates at introspection; a public client may revoke its own.
    assert_eq!(
        d["introspection_endpoint_auth_methods_supported"],
        json!([
            "private_key_jwt",
            "client_secret_basic",
            "client_secret_post"
        ])
    );
    assert_eq!(
        d["revocation_endpoint_auth_methods_supported"],
        d["token_endpoint_auth_methods_supported"]
    );
    // What does not work yet is not advertised: a relying party would act on it.
    // Sessions and logout (items 7 and 8): RP-initiated and back-channel, with `sid`.
    assert_eq!(d["end_session_endpoint"], "http://sekisho.test/oidc/logout");
    assert_eq!(d["backchannel_logout_supported"], true);
    assert_eq!(d["backchannel_logout_session_supported"], true);
    assert_eq!(d["claims_parameter_supported"], true);
    assert_eq!(d["require_pushed_authorization_requests"], false);
    assert_eq!(d["authorization_response_iss_parameter_supported"], true);
    assert_eq!(d["subject_types_supported"], json!(["public", "pairwise"]));
    assert!(d["scopes_supported"]
        .as_array()
        .is_some_and(|s| s.contains(&json!("openid")) && s.contains(&json!("login_id"))));
    for claim in ["sub", "acr", "amr", "auth_time", "sid", "login_id"] {
        assert!(
            d["claims_supported"]
                .as_array()
                .is_some_and(|s| s.contains(&json!(claim))),
            "{claim}"
        );
    }
    assert_eq!(d["acr_values_supported"].as_array().map(Vec::len), Some(3));

    // No endpoint that does not answer yet is advertised; every URL that is answers.
    let doc = d.as_object().cloned().unwrap_or_default();
    for (k, path) in [
        ("authorization_endpoint", "/oidc/authorize"),
        ("token_endpoint", "/oidc/token"),
        ("userinfo_endpoint", "/oidc/userinfo"),
        ("pushed_authorization_request_endpoint", "/oidc/par"),
        ("introspection_endpoint", "/oidc/introspect"),
        ("revocation_endpoint", "/oidc/revoke"),
        ("end_session_endpoint", "/oidc/logout"),
    ] {
        assert_eq!(d[k], format!("http://sekisho.test{path}"), "{k}");
    }
    assert!(
        !doc.contains_key("registration_endpoint"),
        "registration_endpoint advertised before it exists"
    );
    for (k, v) in &doc {
        let Some(url) = v
            .as_str()
            .and_then(|s| s.strip_prefix("http://sekisho.test"))
        else {
            continue;
        };
        assert!(
            k.ends_with("_uri") || k.ends_with("_endpoint") || k == "issuer",
            "{k}"
        );
        if k == "issuer" {
            continue;
        }
        let r = app.get(url, None).await;
        if k.ends_with("_uri") {
            assert_eq!(r.status(), StatusCode::OK, "{k} {url}");
        } else {
            // Endpoints answer (POST-only ones with 405, the others refuse a bare GET).
            assert_ne!(r.status(), StatusCode::NOT_FOUND, "{k} {url}");
        }
    }
}

fn algorithm(alg: &str) -> Algorithm {
    match alg {
        "EdDSA" => Algorithm::EdDSA,
        "ES256" => Algorithm::ES256,
        "PS256" => Algorithm::PS256,
        _ => Algorithm::RS256,
    }
}

/// What a relying party does with an ID token: fetch the set (no credentials), pick the key
/// the header names, check the signature with the header's algorithm only.
fn verify(set: &JwkSet, jws: &str) -> Result<Value, String> {
    let header = decode_header(jws).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = set.find(&kid).ok_or("kid not published")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut v = Validation::new(header.alg);
    v.set_audience(&["skc_test"]);
    v.set_issuer(&["http://sekisho.test"]);
    // The test servers' clock is not the real time (the claims' `exp` is from it).
    v.validate_exp = false;
    decode::<Value>(jws, &key, &v)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_jwks_has_a_key_per_algorithm_and_each_signature_verifies_with_it_alone() {
    let dir = ok(tempfile::tempdir());
    let url = sqlite_url(dir.path());
    let app = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Options::default()
    })
    .await;
    let r = app.get("/oidc/jwks", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/jwk-set+json")
    );
    let raw: Value = ok(r.json().await);
    let keys = raw["keys"].as_array().cloned().unwrap_or_default();
    let algs: BTreeSet<&str> = keys.iter().filter_map(|k| k["alg"].as_str()).collect();
    assert_eq!(algs, BTreeSet::from(["EdDSA", "ES256", "PS256", "RS256"]));
    assert_eq!(keys.len(), 4, "one key per algorithm: {raw}");
    for k in &keys {
        assert_eq!(k["use"], "sig", "{k}");
        assert!(
            k["kid"].as_str().is_some_and(|s| s.starts_with("sks-")),
            "{k}"
        );
        assert!(k.get("d").is_none(), "no private part: {k}");
        let kty = match k["alg"].as_str() {
            Some("EdDSA") => "OKP",
            Some("ES256") => "EC",
            _ => "RSA",
        };
        assert_eq!(k["kty"], kty, "{k}");
    }
    let set: JwkSet = ok(serde_json::from_value(raw.clone()));
    // Asking again makes no new keys, and the step-up set is the same set.
    let again: Value = ok(app.get("/oidc/jwks", None).await.json().await);
    assert_eq!(again, raw);
    let step_up: Value = ok(app.get("/.well-known/jwks.json", None).await.json().await);
    assert_eq!(step_up["keys"].as_array().map(Vec::len), Some(4));

    // The server's own signing code (on the same database), one JWT per algorithm.
    let store = ok(sekisho_store::connect(&sekisho_store::ConnectOptions {
        url,
        max_connections: 2,
        sqlite_synchronous: Default::default(),
    })
    .await);
    let secrets = sekisho_core::secret_box::SecretBox::new("k1", &[7; 32]);
    let now = app.clock.now().0;
    let claims = json!({
        "iss": "http://sekisho.test", "sub": "s1", "aud": "skc_test",
        "iat": now, "exp": now + 300,
    });
    for alg in Alg::ALL {
        let key = ok(keys::current_key(
            store.as_ref(),
            &secrets,
            &sekisho_app::system::OsRandom,
            app.clock.now(),
            &Default::default(),
            alg,
        )
        .await);
        let jws = ok(keys::sign_with(&key, &secrets, "JWT", &claims));
        let header = ok(decode_header(&jws));
        assert_eq!(header.alg, algorithm(alg.as_str()));
        let got = verify(&set, &jws).unwrap_or_else(|e| unreachable!("{alg}: {e}"));
        assert_eq!(got["sub"], "s1");
        // A changed signature does not verify.
        let forged = format!(
            "{}.AAAA",
            jws.rsplit_once('.').map(|(h, _)| h).unwrap_or_default()
        );
        assert!(verify(&set, &forged).is_err(), "{alg}");
    }
}

#[tokio::test]
async fn configured_acr_values_are_the_ones_discovery_lists() {
    let app = spawn_with(Options {
        settings: vec![
            ("oidc.acr_values.password", "urn:example-sec:pwd".into()),
            ("oidc.acr_values.multi_factor", "urn:example-sec:mfa".into()),
            (
                "oidc.acr_values.phishing_resistant",
                "urn:example-sec:pr".into(),
            ),
        ],
        ..Options::default()
    })
    .await;
    let r = ok(app
        .http
        .get(format!("{}/.well-known/openid-configuration", app.url))
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::OK);
    let d: Value = ok(r.json().await);
    assert_eq!(
        d["acr_values_supported"],
        json!([
            "urn:example-sec:pwd",
            "urn:example-sec:mfa",
            "urn:example-sec:pr"
        ])
    );
}
