//! A client's own public keys (`jwks` in its metadata): what its `private_key_jwt` assertions
//! and DPoP proofs will be verified with. Only public signing keys of the algorithms FAPI 2.0
//! allows (and RS256 for clients outside FAPI) are accepted; a private key is refused.

use crate::keys::Alg;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

/// A client's JWK Set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientJwks {
    /// The keys.
    pub keys: Vec<ClientJwk>,
}

/// One public key of a client. Members other than these (`x5c`, `key_ops`, …) are not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientJwk {
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// The private exponent or scalar: read only to refuse it, never kept.
    #[serde(default, skip_serializing)]
    pub d: Option<String>,
}

fn bytes(v: &Option<String>, what: &str) -> Result<Vec<u8>, String> {
    let v = v.as_deref().ok_or_else(|| format!("a key lacks {what}"))?;
    URL_SAFE_NO_PAD
        .decode(v)
        .map_err(|_| format!("{what} of a key is not base64url"))
}

/// Checks a client's key set; `Err` says what is wrong (the caller names the field).
pub fn check_jwks(set: &ClientJwks, fapi: bool) -> Result<(), String> {
    if set.keys.is_empty() || set.keys.len() > 10 {
        return Err("1 to 10 keys".into());
    }
    for k in &set.keys {
        if k.d.is_some() {
            return Err("a private key was given; register only the public key".into());
        }
        if k.key_use.as_deref().is_some_and(|u| u != "sig") {
            return Err("keys must be for signing (use \"sig\")".into());
        }
        if let Some(a) = &k.alg {
            let alg = Alg::parse(a)
                .ok_or_else(|| format!("alg {a:?} is not EdDSA, ES256, PS256 or RS256"))?;
            if fapi && !alg.fapi() {
                return Err("RS256 is not allowed for fapi2 clients".into());
            }
        }
        match (k.kty.as_str(), k.crv.as_deref()) {
            ("EC", Some("P-256")) => {
                if bytes(&k.x, "x")?.len() != 32 || bytes(&k.y, "y")?.len() != 32 {
                    return Err("a P-256 key needs 32-byte x and y".into());
                }
            }
            ("OKP", Some("Ed25519")) => {
                if bytes(&k.x, "x")?.len() != 32 {
                    return Err("an Ed25519 key needs a 32-byte x".into());
                }
            }
            ("RSA", _) => {
                let n = bytes(&k.n, "n")?;
                bytes(&k.e, "e")?;
                let bits = (n.len() * 8)
                    .saturating_sub(n.first().map_or(8, |b| b.leading_zeros() as usize));
                if bits < 2048 {
                    return Err("RSA keys must have at least 2048 bits".into());
                }
            }
            (kty, crv) => {
                return Err(format!(
                    "kty {kty:?}{} is not supported (EC P-256, OKP Ed25519, RSA)",
                    crv.map(|c| format!(" crv {c:?}")).unwrap_or_default()
                ))
            }
        }
    }
    Ok(())
}
