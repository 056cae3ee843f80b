//! DPoP (RFC 9449): proofs of possession of a client's key, checked at the token endpoint (and
//! PAR) and at UserInfo. A proof is a JWT of `typ` `dpop+jwt` signed with the public key it
//! carries (`jwk`, never a private one), for one method (`htm`) and URL (`htu`, compared without
//! query and fragment to the endpoint's public URL), made within the `iat` window, used once
//! (its `jti`, per key, kept in the database with the client-assertion `jti`s so any instance
//! refuses a replay) and, at a resource, for one access token (`ath`). Tokens are bound to the
//! key's thumbprint (RFC 7638, `jkt`).
//!
//! Server nonces (`oidc.dpop_nonce`) are derived from the master key and a time window, so
//! every instance issues and accepts the same ones without storing them.

use super::clients::Client;
use super::request::OAuthError;
use crate::error::AppError;
use crate::state::App;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sekisho_core::Timestamp;
use sekisho_store::JtiUse;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The `typ` of a proof.
pub const TYP: &str = "dpop+jwt";
/// The algorithms proofs may use (FAPI 2.0's).
pub const ALGS: &[&str] = &["ES256", "EdDSA", "PS256"];
/// The error for a bad proof (RFC 9449 §5, §7.1).
pub const INVALID: &str = "invalid_dpop_proof";
/// The error asking the client to use a server nonce (RFC 9449 §8).
pub const USE_NONCE: &str = "use_dpop_nonce";
/// How long a server nonce window lasts; the previous window's nonce is still accepted.
pub const NONCE_WINDOW_SECS: i64 = 300;
/// Members of a JWK that only a private key has.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What the request a proof came with was.
#[derive(Debug, Clone, Copy)]
pub struct Expect<'a> {
    /// The HTTP method (`POST`, `GET`).
    pub method: &'a str,
    /// The endpoint's public URL.
    pub url: &'a str,
    /// At a resource: the access token presented (its hash is `ath`).
    pub access_token: Option<&'a str>,
}

/// A proof whose signature and claims were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    /// The key's thumbprint.
    pub jkt: String,
    /// The proof's `jti`.
    pub jti: String,
    /// The proof's `nonce`, if any.
    pub nonce: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<i64>,
    ath: Option<String>,
    nonce: Option<String>,
}

fn bad(why: &str) -> OAuthError {
    OAuthError::new(INVALID, format!("DPoP proof: {why}"))
}

/// Whether a client's access tokens must be DPoP-bound (every `fapi2` client, and clients
/// registered with `dpop_bound_access_tokens`).
pub fn required(c: &Client) -> bool {
    c.metadata.dpop_bound_access_tokens
}

/// The JWK SHA-256 thumbprint (RFC 7638 §3): the required members in lexicographic order,
/// without whitespace.
pub fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let s = |k: &str| jwk.get(k).and_then(Value::as_str);
    let members: &[&str] = match s("kty")? {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (i, m) in members.iter().enumerate() {
        if i > 0 {
            canonical.push(',');
        }
        let v = serde_json::to_string(s(m)?).ok()?;
        canonical.push_str(&format!("\"{m}\":{v}"));
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// `ath`: the base64url SHA-256 of an access token.
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// The key of a proof's `jwk` for `alg`, if the key is public and fits the algorithm.
fn decoding_key(alg: &str, jwk: &Map<String, Value>) -> Result<DecodingKey, OAuthError> {
    if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(bad("the jwk holds a private key"));
    }
    let s = |k: &str| jwk.get(k).and_then(Value::as_str);
    let key = match (alg, s("kty"), s("crv")) {
        ("ES256", Some("EC"), Some("P-256")) => s("x")
            .zip(s("y"))
            .and_then(|(x, y)| DecodingKey::from_ec_components(x, y).ok()),
        ("EdDSA", Some("OKP"), Some("Ed25519")) => {
            s("x").and_then(|x| DecodingKey::from_ed_components(x).ok())
        }
        ("PS256", Some("RSA"), _) => s("n")
            .zip(s("e"))
            .and_then(|(n, e)| DecodingKey::from_rsa_components(n, e).ok()),
        _ => None,
    };
    key.ok_or_else(|| bad("the jwk does not fit alg"))
}

/// The URL without query and fragment (RFC 9449 §4.3, check 9).
fn without_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// Checks a proof's form, signature and claims at `now` (`window`: the accepted distance of
/// `iat`, seconds). The nonce and the `jti` replay are checked by [`check`].
pub fn verify(
    proof: &str,
    expect: Expect<'_>,
    now: Timestamp,
    window: i64,
) -> Result<Checked, OAuthError> {
    let head = proof.split('.').next().unwrap_or_default();
    let header: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(head)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("not a JWT"))?;
    if header.get("typ").and_then(Value::as_str) != Some(TYP) {
        return Err(bad("typ must be dpop+jwt"));
    }
    let alg_name = header
        .get("alg")
        .and_then(Value::as_str)
        .filter(|a| ALGS.contains(a))
        .ok_or_else(|| bad("alg must be ES256, EdDSA or PS256"))?;
    let alg = match alg_name {
        "ES256" => Algorithm::ES256,
        "EdDSA" => Algorithm::EdDSA,
        _ => Algorithm::PS256,
    };
    let jwk = header
        .get("jwk")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("the header has no jwk"))?;
    let key = decoding_key(alg_name, jwk)?;
    let jkt = thumbprint(jwk).ok_or_else(|| bad("the jwk has no thumbprint"))?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &v)
        .map_err(|_| bad("the signature does not verify with its jwk"))?
        .claims;
    let jti = claims
        .jti
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| bad("jti is required"))?;
    if claims.htm.as_deref() != Some(expect.method) {
        return Err(bad(&format!("htm must be {}", expect.method)));
    }
    let htu = claims.htu.ok_or_else(|| bad("htu is required"))?;
    if without_query(&htu) != without_query(expect.url) {
        return Err(bad(&format!("htu must be {}", expect.url)));
    }
    let iat = claims.iat.ok_or_else(|| bad("iat is required"))?;
    if (iat - now.0).abs() > window {
        return Err(bad("iat is outside the accepted window"));
    }
    match (expect.access_token, claims.ath) {
        (Some(t), Some(a)) if a == ath(t) => {}
        (Some(_), _) => return Err(bad("ath must be the hash of the access token")),
        (None, _) => {}
    }
    Ok(Checked {
        jkt,
        jti,
        nonce: claims.nonce,
    })
}

fn nonce_for(state: &App, window: i64) -> String {
    let h = state
        .secrets
        .code_hash("oidc-dpop-nonce", &window.to_string());
    h.chars().take(32).collect()
}

/// The server nonce to hand out now (`DPoP-Nonce`), if nonces are required.
pub fn nonce(state: &App) -> Option<String> {
    state
        .settings
        .oidc
        .dpop_nonce
        .then(|| nonce_for(state, state.clock.now().0.div_euclid(NONCE_WINDOW_SECS)))
}

fn nonce_fresh(state: &App, n: &str) -> bool {
    let w = state.clock.now().0.div_euclid(NONCE_WINDOW_SECS);
    n == nonce_for(state, w) || n == nonce_for(state, w - 1)
}

/// Checks a proof fully: [`verify`], the server nonce when `oidc.dpop_nonce` asks for one
/// (`use_dpop_nonce`), and its `jti` once per key (a replay is refused on any instance).
/// Answers the key's thumbprint.
pub async fn check(
    state: &App,
    proof: &str,
    expect: Expect<'_>,
) -> Result<Result<String, OAuthError>, AppError> {
    let (jkt, jti) = match check_unrecorded(state, proof, expect) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    if !record_jti(state, &jti).await? {
        return Ok(Err(replayed()));
    }
    Ok(Ok(jkt))
}

/// [`check`] but its last step: answers the key's thumbprint and the proof's `jti`, to be used
/// once with the request's other writes (the token endpoint's code exchange) or by
/// [`record_jti`]; until it is, the proof is not accepted.
pub fn check_unrecorded(
    state: &App,
    proof: &str,
    expect: Expect<'_>,
) -> Result<(String, JtiUse), OAuthError> {
    let now = state.clock.now();
    let window = state.settings.oidc.dpop_iat_window_secs;
    let c = verify(proof, expect, now, window)?;
    if state.settings.oidc.dpop_nonce && !c.nonce.as_deref().is_some_and(|n| nonce_fresh(state, n))
    {
        return Err(OAuthError::new(
            USE_NONCE,
            "DPoP proof: use the server's nonce (DPoP-Nonce)",
        ));
    }
    // Kept until no proof with this `iat` could be accepted any more.
    let jti = JtiUse {
        key: format!("dpop:{}", c.jkt),
        jti: c.jti,
        expires_at: now.plus_secs(2 * window),
    };
    Ok((c.jkt, jti))
}

/// Uses a proof's `jti` on its own; false if it was used before (a replay, refused with
/// [`replayed`]).
pub async fn record_jti(state: &App, jti: &JtiUse) -> Result<bool, AppError> {
    Ok(state
        .store
        .use_client_jti(&jti.key, &jti.jti, jti.expires_at, state.clock.now())
        .await?)
}

/// The refusal of a proof whose `jti` was used before.
pub fn replayed() -> OAuthError {
    bad("the jti was used before (a replay)")
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;
