use super::*;
use crate::oidc::metadata::{parse, validate};

/// [`super::check`] with the default `acr` values.
fn check(client_id: &str, m: &ClientMetadata, params: &Params) -> Result<AuthRequest, Refusal> {
    super::check(client_id, m, params, &AcrNames::default())
}

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn client() -> ClientMetadata {
    let doc = r#"{"client_name":"CRM","profile":"basic","scope":"openid email login_id",
        "token_endpoint_auth_method":"none",
        "redirect_uris":["https://crm.example.co.jp/cb","http://127.0.0.1/desktop"]}"#;
    validate(parse(doc).unwrap_or_else(|e| unreachable!("{e}")))
        .unwrap_or_else(|e| unreachable!("{e}"))
}

fn params(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("response_type", "code"),
        ("redirect_uri", "https://crm.example.co.jp/cb"),
        ("scope", "openid email"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
        ("state", "st-1"),
        ("nonce", "n-0S6_WzA2Mj"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        p.retain(|(n, _)| n != k);
        if !v.is_empty() {
            p.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    p
}

fn refused(extra: &[(&str, &str)]) -> Refusal {
    match check("skc_a", &client(), &params(extra)) {
        Ok(r) => unreachable!("accepted: {r:?}"),
        Err(e) => e,
    }
}

fn to_client(extra: &[(&str, &str)]) -> &'static str {
    match refused(extra) {
        Refusal::ToClient(e) => e.error,
        Refusal::RedirectUriNotRegistered => unreachable!("not redirected: {extra:?}"),
    }
}

#[test]
fn a_good_request_is_kept_with_what_the_login_must_satisfy() {
    let r = check(
        "skc_a",
        &client(),
        &params(&[
            ("prompt", "login"),
            ("max_age", "300"),
            ("login_hint", "yamada01"),
            ("ui_locales", "en-US ja"),
            (
                "acr_values",
                "urn:example:unknown http://schemas.openid.net/pape/policies/2007/06/multi-factor",
            ),
        ]),
    )
    .unwrap_or_else(|e| unreachable!("{e:?}"));
    assert_eq!(r.redirect_uri, "https://crm.example.co.jp/cb");
    assert_eq!(r.scope, "openid email");
    assert_eq!(r.state.as_deref(), Some("st-1"));
    assert_eq!(r.nonce.as_deref(), Some("n-0S6_WzA2Mj"));
    assert_eq!(r.code_challenge, CHALLENGE);
    assert!(r.prompt_login && !r.prompt_none);
    assert_eq!(r.max_age, Some(300));
    assert_eq!(r.login_hint.as_deref(), Some("yamada01"));
    assert_eq!(r.ui_locale.as_deref(), Some("en"));
    assert_eq!(
        r.acr_values,
        ["http://schemas.openid.net/pape/policies/2007/06/multi-factor"]
    );
}

#[test]
fn a_redirect_uri_not_registered_is_never_redirected_to() {
    for uri in [
        "",
        "https://crm.example.co.jp/cb/other",
        "https://crm.example.co.jp/cb?x=1",
        "https://evil.example/cb",
        "http://crm.example.co.jp/cb",
        "http://127.0.0.1:8080/other",
        "http://localhost:8080/desktop",
    ] {
        assert_eq!(
            refused(&[("redirect_uri", uri)]),
            Refusal::RedirectUriNotRegistered,
            "{uri}"
        );
    }
    // Even with other mistakes, the redirect URI is what decides.
    assert_eq!(
        refused(&[
            ("redirect_uri", "https://evil.example/cb"),
            ("response_type", "token")
        ]),
        Refusal::RedirectUriNotRegistered
    );
}

#[test]
fn a_native_loopback_redirect_may_use_any_port() {
    let reg = vec![
        "http://127.0.0.1/desktop".to_owned(),
        "http://[::1]/cb".to_owned(),
    ];
    assert!(redirect_uri_matches(&reg, "http://127.0.0.1:51234/desktop"));
    assert!(redirect_uri_matches(&reg, "http://127.0.0.1/desktop"));
    assert!(redirect_uri_matches(&reg, "http://[::1]:8080/cb"));
    assert!(!redirect_uri_matches(
        &reg,
        "http://127.0.0.1:51234/desktop2"
    ));
    assert!(!redirect_uri_matches(
        &reg,
        "http://127.0.0.1:51234/desktop#f"
    ));
    assert!(!redirect_uri_matches(&reg, "http://[::1]:8080/desktop"));
    assert!(!redirect_uri_matches(
        &reg,
        "https://127.0.0.1:51234/desktop"
    ));
    // Any other URI only exactly.
    let web = vec!["https://crm.example.co.jp:8443/cb".to_owned()];
    assert!(redirect_uri_matches(
        &web,
        "https://crm.example.co.jp:8443/cb"
    ));
    assert!(!redirect_uri_matches(
        &web,
        "https://crm.example.co.jp:9443/cb"
    ));
}

#[test]
fn pkce_is_s256_only_and_required() {
    assert_eq!(
        to_client(&[("code_challenge_method", "plain")]),
        "invalid_request"
    );
    assert_eq!(
        to_client(&[("code_challenge_method", "")]),
        "invalid_request"
    );
    assert_eq!(to_client(&[("code_challenge", "")]), "invalid_request");
    assert_eq!(to_client(&[("code_challenge", "short")]), "invalid_request");
    // RFC 7636 appendix B.
    assert_eq!(s256(VERIFIER), CHALLENGE);
    assert!(pkce_verifies(VERIFIER, CHALLENGE));
    assert!(!pkce_verifies(&VERIFIER.replace('d', "e"), CHALLENGE));
    // A verifier is 43 to 128 unreserved characters, whatever it hashes to.
    assert!(!pkce_verifies("abc", &s256("abc")));
    let spaced = format!("{} ", &VERIFIER[..43]);
    assert!(!pkce_verifies(&spaced, &s256(&spaced)));
}

#[test]
fn other_mistakes_go_back_to_the_client_with_their_error() {
    assert_eq!(
        to_client(&[("response_type", "token")]),
        "unsupported_response_type"
    );
    assert_eq!(to_client(&[("response_type", "")]), "invalid_request");
    assert_eq!(to_client(&[("scope", "email")]), "invalid_scope");
    assert_eq!(to_client(&[("scope", "openid profile")]), "invalid_scope");
    assert_eq!(to_client(&[("prompt", "none login")]), "invalid_request");
    assert_eq!(to_client(&[("prompt", "bogus")]), "invalid_request");
    assert_eq!(to_client(&[("max_age", "-1")]), "invalid_request");
    assert_eq!(to_client(&[("request", "eyJ")]), "request_not_supported");
    assert_eq!(
        to_client(&[("response_mode", "fragment")]),
        "invalid_request"
    );
    let long = "n".repeat(MAX_STATE_LEN + 1);
    assert_eq!(to_client(&[("nonce", &long)]), "invalid_request");
    // A nonce of 64 characters and more is kept.
    let r = check("skc_a", &client(), &params(&[("nonce", &"n".repeat(128))]));
    assert_eq!(r.map(|r| r.nonce.map(|n| n.len())), Ok(Some(128)));
    // A parameter sent twice.
    let mut twice = params(&[]);
    twice.push(("state".into(), "again".into()));
    assert_eq!(
        check("skc_a", &client(), &twice),
        Err(Refusal::ToClient(OAuthError::request("state is repeated")))
    );
}

#[test]
fn the_claims_parameter_can_make_the_level_essential() {
    let pr = "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant";
    let mfa = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";
    let ok = |claims: &str, acr_values: Option<&str>| {
        let mut extra = vec![("claims", claims)];
        if let Some(a) = acr_values {
            extra.push(("acr_values", a));
        }
        check("skc_a", &client(), &params(&extra)).unwrap_or_else(|e| unreachable!("{e:?}"))
    };
    let r = ok(
        &format!(r#"{{"id_token":{{"acr":{{"essential":true,"value":"{pr}"}}}}}}"#),
        Some(mfa),
    );
    // Essential wins over the voluntary acr_values.
    assert_eq!(r.acr_values, [pr]);
    assert!(r.acr_essential && r.wants_passkey(&AcrNames::default()));
    let r = ok(
        &format!(r#"{{"id_token":{{"acr":{{"values":["urn:x","{mfa}","{pr}"]}}}}}}"#),
        None,
    );
    assert_eq!(r.acr_values, [mfa, pr]);
    assert!(!r.acr_essential && !r.wants_passkey(&AcrNames::default()));
    // Voluntary claims do not replace acr_values; other claims are ignored.
    let r = ok(
        &format!(r#"{{"id_token":{{"acr":{{"value":"{pr}"}}}},"userinfo":{{"email":null}}}}"#),
        Some(mfa),
    );
    assert_eq!(r.acr_values, [mfa]);
    let r = ok(
        r#"{"id_token":{"acr":null,"auth_time":{"essential":true}}}"#,
        None,
    );
    assert!(r.acr_values.is_empty() && !r.acr_essential);

    for bad in ["not json", "[1]", "\"x\""] {
        assert_eq!(to_client(&[("claims", bad)]), "invalid_request", "{bad}");
    }
    assert_eq!(
        to_client(&[(
            "claims",
            r#"{"id_token":{"acr":{"essential":true,"value":"urn:example:gold"}}}"#
        )]),
        "unmet_authentication_requirements"
    );
}
