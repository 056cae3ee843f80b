//! Client authentication at the PAR and token endpoints: `private_key_jwt` (RFC 7523 §2.2 with
//! FAPI 2.0's audience rule), `client_secret_basic` / `client_secret_post`, and `none` for
//! public clients. A client authenticates only with the method it registered.

use super::client_keys::{ClientJwk, ClientJwks};
use super::clients::{self, Client};
use super::metadata::{AuthMethod, Profile};
use super::request::OAuthError;
use super::CLIENT_SIGNING_ALGS;
use crate::error::AppError;
use crate::keys::Alg;
use crate::state::App;
use jsonwebtoken::{DecodingKey, Validation};
use sekisho_core::Timestamp;
use sekisho_store::JtiUse;
use serde::Deserialize;

/// The `client_assertion_type` of `private_key_jwt`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Longest lifetime (`exp` − now) of a client assertion that is accepted.
pub const MAX_ASSERTION_SECS: i64 = 300;

/// What a request brought to authenticate its client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// `Authorization: Basic` (client ID and secret, already form-decoded).
    pub basic: Option<(String, String)>,
    /// `client_id` of the body.
    pub client_id: Option<String>,
    /// `client_secret` of the body.
    pub client_secret: Option<String>,
    /// `client_assertion_type` of the body.
    pub assertion_type: Option<String>,
    /// `client_assertion` of the body.
    pub assertion: Option<String>,
}

/// The claims of a client assertion that are checked.
#[derive(Debug, Deserialize)]
struct Assertion {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Audience,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
    jti: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn names(&self, allowed: &[&str]) -> bool {
        match self {
            Audience::None => false,
            Audience::One(a) => allowed.contains(&a.as_str()),
            Audience::Many(v) => v.iter().any(|a| allowed.contains(&a.as_str())),
        }
    }
}

/// Authenticates the client of a request. `audiences` are what an assertion's `aud` may name:
/// the issuer and the endpoint's URL. Every refusal is `invalid_client`. Writes nothing: a
/// `private_key_jwt` assertion's `jti` comes back to be used once, by [`record_jti`] or with
/// the request's other writes (the token endpoint's code exchange); until it is, the client is
/// not authenticated.
pub async fn authenticate(
    state: &App,
    creds: &Credentials,
    audiences: &[&str],
) -> Result<Result<(Client, Option<JtiUse>), OAuthError>, AppError> {
    let now = state.clock.now();
    let (method, client_id) = match used_method(creds) {
        Ok(m) => m,
        Err(e) => return Ok(Err(e)),
    };
    let client = match clients::get(state, &client_id).await {
        Ok(c) if !c.disabled => c,
        Ok(_) => return Ok(Err(OAuthError::client("the client is disabled"))),
        Err(e) if e.error == sekisho_core::Error::OidcClientNotFound => {
            return Ok(Err(OAuthError::client("unknown client")))
        }
        Err(e) => return Err(e),
    };
    let registered = client.metadata.token_endpoint_auth_method;
    if method != registered {
        return Ok(Err(OAuthError::client(format!(
            "the client authenticates with {}, not {}",
            registered.as_str(),
            method.as_str()
        ))));
    }
    let verdict = match method {
        AuthMethod::None => Ok(None),
        AuthMethod::ClientSecretBasic | AuthMethod::ClientSecretPost => {
            let secret = match (&creds.basic, &creds.client_secret) {
                (Some((_, s)), _) | (None, Some(s)) => s.as_str(),
                (None, None) => "",
            };
            if clients::secret_matches(state, &client_id, secret).await? {
                Ok(None)
            } else {
                Err(OAuthError::client("wrong client secret"))
            }
        }
        AuthMethod::PrivateKeyJwt => {
            let jwt = creds.assertion.as_deref().unwrap_or_default();
            let keys = match (&client.metadata.jwks, &client.metadata.jwks_uri) {
                (Some(set), _) => Ok(set.clone()),
                (None, Some(uri)) => {
                    let kid = jsonwebtoken::decode_header(jwt).ok().and_then(|h| h.kid);
                    super::jwks_uri::keys_for(state, &client, uri, kid.as_deref())
                        .await
                        .map_err(|why| {
                            OAuthError::client(format!("client assertion: jwks_uri: {why}"))
                        })
                }
                (None, None) => Err(OAuthError::client(
                    "client assertion: the client registered no keys",
                )),
            };
            keys.and_then(|k| check_assertion(&client, &k, jwt, audiences, now))
                .map(|(jti, exp)| {
                    Some(JtiUse {
                        key: client.client_id.clone(),
                        jti,
                        expires_at: exp,
                    })
                })
        }
    };
    Ok(verdict.map(|jti| (client, jti)))
}

/// Uses a client assertion's `jti` on its own; false if it was used before (a replay, refused
/// with [`replayed`]).
pub async fn record_jti(state: &App, jti: &JtiUse) -> Result<bool, AppError> {
    Ok(state
        .store
        .use_client_jti(&jti.key, &jti.jti, jti.expires_at, state.clock.now())
        .await?)
}

/// The refusal of an assertion whose `jti` was used before.
pub fn replayed() -> OAuthError {
    OAuthError::client("the client assertion was used before (jti)")
}

/// The method the request used and the client it names; a request naming two different
/// clients, or using two methods, is refused.
fn used_method(c: &Credentials) -> Result<(AuthMethod, String), OAuthError> {
    let mut methods = Vec::new();
    if c.basic.is_some() {
        methods.push(AuthMethod::ClientSecretBasic);
    }
    if c.client_secret.is_some() {
        methods.push(AuthMethod::ClientSecretPost);
    }
    if c.assertion.is_some() || c.assertion_type.is_some() {
        methods.push(AuthMethod::PrivateKeyJwt);
    }
    if methods.len() > 1 {
        return Err(OAuthError::client(
            "more than one client authentication method",
        ));
    }
    let method = methods.pop().unwrap_or(AuthMethod::None);
    let mut named: Vec<String> = c.client_id.iter().cloned().collect();
    if let Some((id, _)) = &c.basic {
        named.push(id.clone());
    }
    if method == AuthMethod::PrivateKeyJwt {
        if c.assertion_type.as_deref() != Some(JWT_BEARER) {
            return Err(OAuthError::client(format!(
                "client_assertion_type must be {JWT_BEARER}"
            )));
        }
        let jwt = c.assertion.as_deref().unwrap_or_default();
        match unverified_issuer(jwt) {
            Some(iss) => named.push(iss),
            None => {
                return Err(OAuthError::client(
                    "the client assertion is no JWT with iss",
                ))
            }
        }
    }
    let Some(first) = named.first().cloned() else {
        return Err(OAuthError::client("no client_id"));
    };
    if named.iter().any(|n| *n != first) {
        return Err(OAuthError::client(
            "the request names two different clients",
        ));
    }
    Ok((method, first))
}

/// The `iss` of a JWT before its signature is checked (only to find the client's keys).
fn unverified_issuer(jwt: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    #[derive(Deserialize)]
    struct Iss {
        iss: String,
    }
    serde_json::from_slice::<Iss>(&bytes).ok().map(|i| i.iss)
}

/// The decoding key of a client's JWK.
fn decoding_key(k: &ClientJwk) -> Option<DecodingKey> {
    match k.kty.as_str() {
        "EC" => DecodingKey::from_ec_components(k.x.as_deref()?, k.y.as_deref()?).ok(),
        "OKP" => DecodingKey::from_ed_components(k.x.as_deref()?).ok(),
        "RSA" => DecodingKey::from_rsa_components(k.n.as_deref()?, k.e.as_deref()?).ok(),
        _ => None,
    }
}

fn key_fits(k: &ClientJwk, alg: Alg) -> bool {
    let kty = match alg {
        Alg::EdDSA => "OKP",
        Alg::ES256 => "EC",
        Alg::PS256 | Alg::RS256 => "RSA",
    };
    k.kty == kty && k.alg.as_deref().is_none_or(|a| a == alg.as_str())
}

/// Verifies a client assertion's signature with the client's registered keys and its claims
/// at `now`; answers its `jti` and `exp` (for the replay check).
fn check_assertion(
    client: &Client,
    jwks: &ClientJwks,
    jwt: &str,
    audiences: &[&str],
    now: Timestamp,
) -> Result<(String, Timestamp), OAuthError> {
    let bad = |why: &str| OAuthError::client(format!("client assertion: {why}"));
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| bad("not a JWS"))?;
    let alg = Alg::parse(&format!("{:?}", header.alg)).ok_or_else(|| bad("algorithm"))?;
    let fapi = client.metadata.profile == Profile::Fapi2;
    if fapi && !CLIENT_SIGNING_ALGS.contains(&alg) {
        return Err(bad("algorithm not allowed for fapi2 clients"));
    }
    let candidates: Vec<&ClientJwk> = jwks
        .keys
        .iter()
        .filter(|k| key_fits(k, alg))
        .filter(|k| header.kid.is_none() || k.kid == header.kid)
        .collect();
    let mut validation = Validation::new(header.alg);
    // Times are checked below against the injected clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = candidates
        .iter()
        .filter_map(|k| decoding_key(k))
        .find_map(|key| jsonwebtoken::decode::<Assertion>(jwt, &key, &validation).ok())
        .ok_or_else(|| bad("the signature does not verify with the client's keys"))?
        .claims;
    if claims.iss.as_deref() != Some(client.client_id.as_str())
        || claims.sub.as_deref() != Some(client.client_id.as_str())
    {
        return Err(bad("iss and sub must be the client_id"));
    }
    if !claims.aud.names(audiences) {
        return Err(bad("aud must be the issuer or this endpoint's URL"));
    }
    let exp = claims.exp.ok_or_else(|| bad("exp is required"))?;
    if exp <= now.0 {
        return Err(bad("expired"));
    }
    if exp - now.0 > MAX_ASSERTION_SECS {
        return Err(bad("exp is too far ahead"));
    }
    if claims.iat.is_some_and(|i| i > now.0 + 60) || claims.nbf.is_some_and(|n| n > now.0 + 60) {
        return Err(bad("issued in the future"));
    }
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| bad("jti is required"))?;
    Ok((jti, Timestamp(exp)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::metadata::{parse, validate};
    use jsonwebtoken::{EncodingKey, Header};
    use ring::signature::{Ed25519KeyPair, KeyPair};
    use serde_json::json;

    const SEED: [u8; 32] = [9; 32];
    const ISS: &str = "https://login.example.co.jp";
    const TOKEN_URL: &str = "https://login.example.co.jp/oidc/token";

    fn client() -> Client {
        let public = Ed25519KeyPair::from_seed_unchecked(&SEED)
            .map(|k| URL_SAFE_NO_PAD.encode(k.public_key().as_ref()))
            .unwrap_or_default();
        let doc = json!({
            "client_name": "トレードWeb",
            "redirect_uris": ["https://trade.example.co.jp/cb"],
            "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": public, "kid": "c1"}]},
        });
        let metadata = validate(parse(&doc.to_string()).unwrap_or_else(|e| unreachable!("{e}")))
            .unwrap_or_else(|e| unreachable!("{e}"));
        Client {
            client_id: "skc_a".into(),
            metadata,
            disabled: false,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn assertion(claims: serde_json::Value) -> String {
        let key = EncodingKey::from_ed_der(&crate::keys::ed_pkcs8(&SEED));
        let mut h = Header::new(jsonwebtoken::Algorithm::EdDSA);
        h.kid = Some("c1".into());
        jsonwebtoken::encode(&h, &claims, &key).unwrap_or_default()
    }

    fn claims(now: i64) -> serde_json::Value {
        json!({"iss": "skc_a", "sub": "skc_a", "aud": ISS, "exp": now + 60, "iat": now, "jti": "j1"})
    }

    fn with(now: i64, k: &str, v: serde_json::Value) -> String {
        let mut c = claims(now);
        c[k] = v;
        assertion(c)
    }

    fn check(jwt: &str, now: i64) -> Result<(String, Timestamp), String> {
        let c = client();
        let keys = c
            .metadata
            .jwks
            .clone()
            .unwrap_or(ClientJwks { keys: Vec::new() });
        check_assertion(&c, &keys, jwt, &[ISS, TOKEN_URL], Timestamp(now))
            .map_err(|e| e.description)
    }

    #[test]
    fn an_assertion_signed_by_the_client_with_the_issuer_as_audience_is_accepted() {
        let now = 1_000;
        assert_eq!(
            check(&assertion(claims(now)), now),
            Ok(("j1".into(), Timestamp(now + 60)))
        );
        // The audience as an array, or the endpoint's URL.
        assert!(check(&with(now, "aud", json!(["x", ISS])), now).is_ok());
        assert!(check(&with(now, "aud", json!(TOKEN_URL)), now).is_ok());
    }

    #[test]
    fn a_wrong_assertion_is_refused() {
        let now = 1_000;
        for (k, v) in [
            ("aud", json!("https://other.example")),
            ("aud", json!([])),
            ("iss", json!("skc_b")),
            ("sub", json!("skc_b")),
            ("exp", json!(now)),
            ("exp", json!(now + MAX_ASSERTION_SECS + 1)),
            ("iat", json!(now + 120)),
            ("jti", json!("")),
        ] {
            assert!(check(&with(now, k, v.clone()), now).is_err(), "{k} {v}");
        }
        // Expired by the time it arrives.
        assert!(check(&assertion(claims(now)), now + 61).is_err());
        // Another key's signature.
        let other = EncodingKey::from_ed_der(&crate::keys::ed_pkcs8(&[8; 32]));
        let mut h = Header::new(jsonwebtoken::Algorithm::EdDSA);
        h.kid = Some("c1".into());
        let forged = jsonwebtoken::encode(&h, &claims(now), &other).unwrap_or_default();
        assert!(check(&forged, now).is_err());
        assert!(check("not.a.jwt", now).is_err());
    }

    #[test]
    fn one_method_and_one_client_per_request() {
        let basic = Credentials {
            basic: Some(("skc_a".into(), "s".into())),
            ..Credentials::default()
        };
        assert_eq!(
            used_method(&basic).map(|(m, id)| (m.as_str(), id)),
            Ok(("client_secret_basic", "skc_a".to_owned()))
        );
        let two_methods = Credentials {
            client_secret: Some("s".into()),
            ..basic.clone()
        };
        assert!(used_method(&two_methods).is_err());
        let two_clients = Credentials {
            client_id: Some("skc_b".into()),
            ..basic
        };
        assert!(used_method(&two_clients).is_err());
        let public = Credentials {
            client_id: Some("skc_n".into()),
            ..Credentials::default()
        };
        assert_eq!(
            used_method(&public).map(|(m, id)| (m.as_str(), id)),
            Ok(("none", "skc_n".to_owned()))
        );
        assert!(used_method(&Credentials::default()).is_err());
        let jwt = Credentials {
            assertion_type: Some(JWT_BEARER.into()),
            assertion: Some(assertion(claims(5))),
            ..Credentials::default()
        };
        assert_eq!(
            used_method(&jwt).map(|(m, id)| (m.as_str(), id)),
            Ok(("private_key_jwt", "skc_a".to_owned()))
        );
        let wrong_type = Credentials {
            assertion_type: Some("jwt".into()),
            ..jwt
        };
        assert!(used_method(&wrong_type).is_err());
    }
}
