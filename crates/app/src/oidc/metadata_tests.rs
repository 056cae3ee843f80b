use super::*;

const EC_KEY: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"k1",
  "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

fn doc(extra: &str) -> String {
    format!(
        r#"{{"client_name":"トレードWeb","redirect_uris":["https://trade.example.co.jp/cb"],"jwks":{EC_KEY}{extra}}}"#
    )
}

fn check(json: &str) -> Result<ClientMetadata, Error> {
    validate(parse(json)?)
}

fn refused(json: &str) -> (String, String) {
    match check(json) {
        Ok(m) => unreachable!("accepted: {m:?}"),
        Err(e) => (
            e.name().to_owned(),
            e.detail().unwrap_or_default().to_owned(),
        ),
    }
}

#[test]
fn a_minimal_document_is_a_fapi2_client_with_its_defaults() {
    let m = check(&doc("")).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(m.profile, Profile::Fapi2);
    assert_eq!(m.token_endpoint_auth_method, AuthMethod::PrivateKeyJwt);
    assert!(m.dpop_bound_access_tokens && m.require_pushed_authorization_requests);
    assert_eq!(m.id_token_signed_response_alg, Alg::ES256);
    assert_eq!(m.grant_types, [GrantType::AuthorizationCode]);
    assert_eq!(m.response_types, ["code"]);
    assert_eq!(m.scope, "openid");
    assert_eq!(m.subject_type, SubjectType::Public);
    assert!(!m.first_party);
}

#[test]
fn a_basic_client_defaults_to_a_secret_and_rs256() {
    let m = check(
        r#"{"client_name":"CRM","redirect_uris":["https://crm.example.co.jp/cb"],"profile":"basic",
            "scope":"openid email openid login_id","grant_types":["authorization_code","refresh_token"]}"#,
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(m.token_endpoint_auth_method, AuthMethod::ClientSecretBasic);
    assert_eq!(m.id_token_signed_response_alg, Alg::RS256);
    assert!(!m.dpop_bound_access_tokens && !m.require_pushed_authorization_requests);
    assert_eq!(m.scope, "openid email login_id");
}

#[test]
fn redirect_uris_are_https_without_fragment_or_wildcard() {
    for (uri, why) in [
        ("http://trade.example.co.jp/cb", "loopback"),
        ("http://127.0.0.1:8080/cb", "native apps"),
        ("https://trade.example.co.jp/cb#x", "fragment"),
        ("https://trade.example.co.jp/cb#", "fragment"),
        ("https://*.example.co.jp/cb", "wildcard"),
        ("https://trade.example.co.jp/*", "wildcard"),
        ("/cb", "absolute"),
        ("com.example.app:/cb", "https"),
        ("https://user:pw@trade.example.co.jp/cb", "user information"),
    ] {
        let json = format!(r#"{{"client_name":"x","redirect_uris":["{uri}"],"jwks":{EC_KEY}}}"#);
        let (name, detail) = refused(&json);
        assert_eq!(name, "invalid_redirect_uri", "{uri}");
        assert!(detail.starts_with("redirect_uris: "), "{detail}");
        assert!(detail.contains(why), "{uri}: {detail}");
    }
}

#[test]
fn native_apps_may_use_http_on_the_loopback_address_only() {
    let native = |uri: &str| {
        format!(
            r#"{{"client_name":"デスクトップ","profile":"basic","token_endpoint_auth_method":"none",
                "redirect_uris":["{uri}"]}}"#
        )
    };
    for ok in [
        "http://127.0.0.1/cb",
        "http://[::1]:5000/cb",
        "https://app.example.co.jp/cb",
    ] {
        assert!(check(&native(ok)).is_ok(), "{ok}");
    }
    for bad in [
        "http://localhost/cb",
        "http://127.0.0.2/cb",
        "http://10.0.0.1/cb",
    ] {
        assert_eq!(refused(&native(bad)).0, "invalid_redirect_uri", "{bad}");
    }
    // The same rules for the post-logout redirects.
    let (name, detail) = refused(&doc(
        r#","post_logout_redirect_uris":["http://127.0.0.1/bye"]"#,
    ));
    assert_eq!(name, "invalid_redirect_uri");
    assert!(
        detail.starts_with("post_logout_redirect_uris: "),
        "{detail}"
    );
}

#[test]
fn fapi2_clients_use_private_key_jwt_par_dpop_and_no_rs256() {
    for (extra, field) in [
        (
            r#","token_endpoint_auth_method":"client_secret_basic""#,
            "token_endpoint_auth_method",
        ),
        (
            r#","token_endpoint_auth_method":"none""#,
            "token_endpoint_auth_method",
        ),
        (
            r#","id_token_signed_response_alg":"RS256""#,
            "id_token_signed_response_alg",
        ),
        (
            r#","dpop_bound_access_tokens":false"#,
            "dpop_bound_access_tokens",
        ),
        (
            r#","require_pushed_authorization_requests":false"#,
            "require_pushed_authorization_requests",
        ),
    ] {
        let (name, detail) = refused(&doc(extra));
        assert_eq!(name, "invalid_client_metadata");
        assert!(detail.starts_with(&format!("{field}: ")), "{detail}");
    }
}

#[test]
fn each_refused_field_is_named() {
    for (json, field) in [
        (doc(r#","software_id":"x""#), "software_id"),
        (
            format!(r#"{{"client_name":" ","redirect_uris":["https://a.example/cb"],"jwks":{EC_KEY}}}"#),
            "client_name",
        ),
        (doc(r#","response_types":["code","token"]"#), "response_types"),
        (doc(r#","grant_types":["refresh_token"]"#), "grant_types"),
        (doc(r#","grant_types":["client_credentials","authorization_code"]"#), "grant_types"),
        (doc(r#","scope":"openid admin""#), "scope"),
        (doc(r#","scope":"profile""#), "scope"),
        (doc(r#","profile":"fapi1""#), "profile"),
        (doc(r#","subject_type":"secret""#), "subject_type"),
        (doc(r#","jwks_uri":"https://trade.example.co.jp/jwks""#), "jwks_uri"),
        (doc(r#","backchannel_logout_uri":"http://trade.example.co.jp/bc""#), "backchannel_logout_uri"),
        (
            r#"{"client_name":"x","redirect_uris":["https://a.example/cb"]}"#.into(),
            "jwks",
        ),
        (
            r#"{"client_name":"x","redirect_uris":["https://a.example/cb"],"jwks":{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}]}}"#.into(),
            "jwks",
        ),
        (
            r#"{"client_name":"x","redirect_uris":["https://a.example/cb"],"jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}"#.into(),
            "jwks",
        ),
        (
            r#"{"client_name":"x","profile":"basic","subject_type":"pairwise","redirect_uris":["https://a.example/cb","https://b.example/cb"]}"#.into(),
            "subject_type",
        ),
    ] {
        let (name, detail) = refused(&json);
        assert_eq!(name, "invalid_client_metadata", "{json}");
        assert!(detail.starts_with(&format!("{field}: ")), "{field}: {detail}");
    }
}

#[test]
fn a_change_keeps_what_it_does_not_name_and_null_restores_the_default() {
    let m = check(&doc(
        r#","first_party":true,"backchannel_logout_uri":"https://trade.example.co.jp/bc""#,
    ))
    .unwrap_or_else(|e| unreachable!("{e}"));
    let changed = validate(
        parse(r#"{"client_name":"Trade Web","backchannel_logout_uri":null}"#)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .over(&m),
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(changed.client_name, "Trade Web");
    assert_eq!(changed.backchannel_logout_uri, None);
    assert!(changed.first_party);
    assert_eq!(changed.redirect_uris, m.redirect_uris);
    assert_eq!(changed.jwks, m.jwks);
    // A change is validated as a whole.
    let bad = parse(r#"{"token_endpoint_auth_method":"client_secret_post"}"#)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .over(&m);
    assert!(validate(bad).is_err());
}

#[test]
fn the_stored_document_reads_back_the_same() {
    let m = check(&doc(
        r#","post_logout_redirect_uris":["https://trade.example.co.jp/bye"]"#,
    ))
    .unwrap_or_else(|e| unreachable!("{e}"));
    let text = serde_json::to_string(&m).unwrap_or_default();
    let back: ClientMetadata = serde_json::from_str(&text).unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(back, m);
    assert!(!text.contains("\"d\""));
}
