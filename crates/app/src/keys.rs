//! The signing keys: one store of keys sealed with the master key, for step-up proofs (EdDSA)
//! and OpenID Connect (EdDSA and ES256 for FAPI clients, PS256 and RS256 for clients that need
//! them). The newest key of an algorithm that is not retired signs with it; every key not
//! retired is published in one JWK Set. Keys are made on first need and by `sekisho keys
//! rotate`, always from the injected randomness.

use crate::error::AppError;
use crate::state::App;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::clock::random_bytes;
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{Error, Random, Timestamp};
use sekisho_store::{SigningKey, Store};
use serde::{Deserialize, Serialize};

mod cache;
pub use cache::{KeyCache, LIST_SECS};

/// A JWS algorithm Sekisho signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Alg {
    /// Ed25519 (RFC 8037): step-up proofs, FAPI clients.
    EdDSA,
    /// ECDSA with P-256 and SHA-256: FAPI clients.
    ES256,
    /// RSASSA-PSS with SHA-256 (2048-bit keys): FAPI clients that need RSA.
    PS256,
    /// RSASSA-PKCS1-v1_5 with SHA-256: only clients outside FAPI (its default for ID tokens).
    RS256,
}

impl Alg {
    /// Every algorithm, in the order the JWK Set and the discovery document list them.
    pub const ALL: [Alg; 4] = [Alg::EdDSA, Alg::ES256, Alg::PS256, Alg::RS256];

    /// The JWS name.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::EdDSA => "EdDSA",
            Alg::ES256 => "ES256",
            Alg::PS256 => "PS256",
            Alg::RS256 => "RS256",
        }
    }

    /// Parses a JWS name (exact case).
    pub fn parse(s: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether the FAPI 2.0 Security Profile allows it (PS256, ES256, EdDSA).
    pub fn fapi(self) -> bool {
        self != Alg::RS256
    }

    fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Alg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Alg::ES256 => jsonwebtoken::Algorithm::ES256,
            Alg::PS256 => jsonwebtoken::Algorithm::PS256,
            Alg::RS256 => jsonwebtoken::Algorithm::RS256,
        }
    }
}

impl std::fmt::Display for Alg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A JWK Set (RFC 7517 §5) as published.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JwkSet {
    /// The keys, newest first.
    pub keys: Vec<PublicJwk>,
}

/// The public half of a key as a JWK (RFC 7517): `OKP` (RFC 8037), `EC` or `RSA` (RFC 7518).
/// The fields are in alphabetical order so the stored text of the first Ed25519 keys stays as
/// it was written.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublicJwk {
    /// The JWS algorithm.
    pub alg: String,
    /// The curve (`Ed25519`, `P-256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// RSA public exponent, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// The key ID that signatures name in their header.
    pub kid: String,
    /// The key type (`OKP`, `EC`, `RSA`).
    pub kty: String,
    /// RSA modulus, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// What the key is for (`sig`).
    #[serde(rename = "use")]
    pub key_use: String,
    /// The public key (OKP) or its x coordinate (EC), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// The y coordinate (EC), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

pub(crate) fn key_aad(kid: &str) -> Vec<u8> {
    format!("signing-key:{kid}").into_bytes()
}

/// PKCS#8 v1 (RFC 8410) wrapping of an Ed25519 seed, the form ring and jsonwebtoken take.
pub(crate) fn ed_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(seed);
    der
}

/// The injected randomness as the RNG the `rsa` crate draws primes from.
struct Draw<'a>(&'a dyn Random);

impl rand::RngCore for Draw<'_> {
    fn next_u32(&mut self) -> u32 {
        u32::from_le_bytes(random_bytes(self.0))
    }
    fn next_u64(&mut self) -> u64 {
        u64::from_le_bytes(random_bytes(self.0))
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.0.fill(dest);
        Ok(())
    }
}

impl rand::CryptoRng for Draw<'_> {}

/// A new key pair: the private half as stored (sealed) and the public JWK without its `kid`.
struct Made {
    private: Vec<u8>,
    jwk: PublicJwk,
}

fn jwk(alg: Alg, kty: &str) -> PublicJwk {
    PublicJwk {
        alg: alg.as_str().into(),
        crv: None,
        e: None,
        kid: String::new(),
        kty: kty.into(),
        n: None,
        key_use: "sig".into(),
        x: None,
        y: None,
    }
}

fn make_ed25519(rng: &dyn Random) -> Result<Made, Error> {
    let seed: [u8; 32] = random_bytes(rng);
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| Error::Internal)?;
    let mut k = jwk(Alg::EdDSA, "OKP");
    k.crv = Some("Ed25519".into());
    k.x = Some(URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()));
    // The seed alone, as the first step-up keys were stored.
    Ok(Made {
        private: seed.to_vec(),
        jwk: k,
    })
}

/// A P-256 key from a scalar drawn from `rng` (retried in the negligible case that it is not
/// below the group order); stored as PKCS#8, the form jsonwebtoken signs with.
fn make_p256(rng: &dyn Random) -> Result<Made, openssl::error::ErrorStack> {
    use openssl::bn::{BigNum, BigNumContext};
    use openssl::ec::{EcGroup, EcKey, EcPoint};
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let mut ctx = BigNumContext::new()?;
    let mut order = BigNum::new()?;
    group.order(&mut order, &mut ctx)?;
    let d = loop {
        let d = BigNum::from_slice(&random_bytes::<32>(rng))?;
        if d.num_bits() > 0 && d < order {
            break d;
        }
    };
    let mut point = EcPoint::new(&group)?;
    point.mul_generator2(&group, &d, &mut ctx)?;
    let key = EcKey::from_private_components(&group, &d, &point)?;
    key.check_key()?;
    let (mut x, mut y) = (BigNum::new()?, BigNum::new()?);
    point.affine_coordinates(&group, &mut x, &mut y, &mut ctx)?;
    let mut k = jwk(Alg::ES256, "EC");
    k.crv = Some("P-256".into());
    k.x = Some(URL_SAFE_NO_PAD.encode(x.to_vec_padded(32)?));
    k.y = Some(URL_SAFE_NO_PAD.encode(y.to_vec_padded(32)?));
    Ok(Made {
        private: PKey::from_ec_key(key)?.private_key_to_pkcs8()?,
        jwk: k,
    })
}

/// A 2048-bit RSA key with primes drawn from `rng`; stored as PKCS#1, the form jsonwebtoken
/// signs with.
fn make_rsa(rng: &dyn Random, alg: Alg) -> Result<Made, Error> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut Draw(rng), 2048).map_err(|e| {
        tracing::error!(error = %e, "RSA key generation failed");
        Error::Internal
    })?;
    let der = key.to_pkcs1_der().map_err(|_| Error::Internal)?;
    let mut k = jwk(alg, "RSA");
    k.n = Some(URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()));
    k.e = Some(URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()));
    Ok(Made {
        private: der.as_bytes().to_vec(),
        jwk: k,
    })
}

/// Makes a new signing key of `alg` from the injected RNG, seals its private half and stores
/// it with its audit record; from then on it is the newest key of its algorithm and signs.
/// Older keys stay published until they are retired.
pub async fn create_key(
    store: &dyn Store,
    secrets: &SecretBox,
    rng: &dyn Random,
    now: Timestamp,
    actor: Actor,
    client: &ClientInfo,
    alg: Alg,
) -> Result<SigningKey, Error> {
    let made = match alg {
        Alg::EdDSA => make_ed25519(rng)?,
        Alg::ES256 => make_p256(rng).map_err(|e| {
            tracing::error!(error = %e, "P-256 key generation failed");
            Error::Internal
        })?,
        Alg::PS256 | Alg::RS256 => make_rsa(rng, alg)?,
    };
    let id: [u8; 9] = random_bytes(rng);
    let kid = format!("sks-{}-{}", now.0, URL_SAFE_NO_PAD.encode(id));
    let jwk = PublicJwk {
        kid: kid.clone(),
        ..made.jwk
    };
    let private_sealed = secrets
        .seal(&made.private, &key_aad(&kid), random_bytes(rng))
        .ok_or(Error::Internal)?;
    let key = SigningKey {
        kid: kid.clone(),
        algorithm: alg.as_str().into(),
        private_sealed,
        public_jwk: serde_json::to_string(&jwk).map_err(|_| Error::Internal)?,
        created_at: now,
        retired_at: None,
    };
    let ev = NewAuditEvent::new(
        now,
        EventType::SigningKeyCreated,
        None,
        actor,
        client,
        format!("{alg} signing key {kid} created"),
    );
    store
        .add_signing_key(&key, &ev)
        .await
        .map_err(|_| Error::Internal)?;
    Ok(key)
}

/// The key that signs with `alg`: the newest one of that algorithm not retired, made on first
/// need. The list of keys comes from this instance's [`KeyCache`] (at most [`LIST_SECS`] old).
pub async fn signing_key(
    state: &App,
    client: &ClientInfo,
    alg: Alg,
) -> Result<SigningKey, AppError> {
    let keys = state
        .signing_keys
        .keys(state.store.as_ref(), state.clock.now())
        .await?;
    if let Some(k) = newest(&keys, alg) {
        return Ok(k.clone());
    }
    let made = current_key(
        state.store.as_ref(),
        &state.secrets,
        state.rng.as_ref(),
        state.clock.now(),
        client,
        alg,
    )
    .await?;
    state.signing_keys.forget_list();
    Ok(made)
}

/// The newest key of `alg` that is not retired, of `keys` (oldest first).
fn newest(keys: &[SigningKey], alg: Alg) -> Option<&SigningKey> {
    keys.iter()
        .rev()
        .find(|k| k.retired_at.is_none() && k.algorithm == alg.as_str())
}

/// [`signing_key`] from the parts of an [`App`] (for the CLI and tests).
pub async fn current_key(
    store: &dyn Store,
    secrets: &SecretBox,
    rng: &dyn Random,
    now: Timestamp,
    client: &ClientInfo,
    alg: Alg,
) -> Result<SigningKey, Error> {
    let keys = store.signing_keys().await.map_err(|_| Error::Internal)?;
    if let Some(k) = newest(&keys, alg) {
        return Ok(k.clone());
    }
    create_key(store, secrets, rng, now, Actor::System, client, alg).await
}

/// Makes sure each of `algs` has a key, then answers the JWK Set of every key not retired
/// (whatever its algorithm), newest first.
pub async fn jwks(state: &App, client: &ClientInfo, algs: &[Alg]) -> Result<JwkSet, AppError> {
    for alg in algs {
        signing_key(state, client, *alg).await?;
    }
    let keys = state
        .store
        .signing_keys()
        .await?
        .into_iter()
        .rev()
        .filter(|k| k.retired_at.is_none())
        .filter_map(|k| serde_json::from_str(&k.public_jwk).ok())
        .collect();
    Ok(JwkSet { keys })
}

/// Signs `claims` as a compact JWS (RFC 7515) with the current key of `alg`, naming it by
/// `kid` and giving the header `typ`.
pub async fn sign<T: Serialize>(
    state: &App,
    client: &ClientInfo,
    alg: Alg,
    typ: &str,
    claims: &T,
) -> Result<String, AppError> {
    let key = signing_key(state, client, alg).await?;
    let private = state.signing_keys.private(&key, &state.secrets)?;
    Ok(encode(&key, &private, typ, claims)?)
}

/// Signs `claims` with `key` (its private half opened with `secrets`).
pub fn sign_with<T: Serialize>(
    key: &SigningKey,
    secrets: &SecretBox,
    typ: &str,
    claims: &T,
) -> Result<String, Error> {
    encode(key, &encoding_key(key, secrets)?, typ, claims)
}

/// The private half of `key`, opened with `secrets`, as jsonwebtoken signs with it.
fn encoding_key(key: &SigningKey, secrets: &SecretBox) -> Result<EncodingKey, Error> {
    let alg = Alg::parse(&key.algorithm).ok_or(Error::Internal)?;
    let private = secrets
        .open(&key.private_sealed, &key_aad(&key.kid))
        .ok_or_else(|| {
            tracing::error!(kid = %key.kid, "cannot open a signing key: wrong master key?");
            Error::Internal
        })?;
    Ok(match alg {
        Alg::EdDSA => {
            let seed: [u8; 32] = private.try_into().map_err(|_| Error::Internal)?;
            EncodingKey::from_ed_der(&ed_pkcs8(&seed))
        }
        Alg::ES256 => EncodingKey::from_ec_der(&private),
        Alg::PS256 | Alg::RS256 => EncodingKey::from_rsa_der(&private),
    })
}

fn encode<T: Serialize>(
    key: &SigningKey,
    private: &EncodingKey,
    typ: &str,
    claims: &T,
) -> Result<String, Error> {
    let alg = Alg::parse(&key.algorithm).ok_or(Error::Internal)?;
    let mut header = Header::new(alg.jwt());
    header.kid = Some(key.kid.clone());
    header.typ = Some(typ.into());
    jsonwebtoken::encode(&header, claims, private).map_err(|e| {
        tracing::error!(error = %e, %alg, "signing failed");
        Error::Internal
    })
}

/// The public half of `key` from its JWK (`None` if the JWK does not fit its algorithm).
fn decoding_key(key: &SigningKey) -> Option<jsonwebtoken::DecodingKey> {
    let alg = Alg::parse(&key.algorithm)?;
    let jwk = serde_json::from_str::<PublicJwk>(&key.public_jwk).ok()?;
    match alg {
        Alg::EdDSA => jwk
            .x
            .as_deref()
            .and_then(|x| jsonwebtoken::DecodingKey::from_ed_components(x).ok()),
        Alg::ES256 => jwk
            .x
            .as_deref()
            .zip(jwk.y.as_deref())
            .and_then(|(x, y)| jsonwebtoken::DecodingKey::from_ec_components(x, y).ok()),
        Alg::PS256 | Alg::RS256 => jwk
            .n
            .as_deref()
            .zip(jwk.e.as_deref())
            .and_then(|(n, e)| jsonwebtoken::DecodingKey::from_rsa_components(n, e).ok()),
    }
}

/// Verifies a JWS Sekisho signed with one of its keys that is not retired (`typ` as given, the
/// signature); answers its claims, whatever their `exp` (the caller's rule: an expired ID
/// token is still a fine `id_token_hint`). `None` for anything else. The keys come from this
/// instance's [`KeyCache`]; a `kid` it does not know is looked up in the database (a key
/// another instance just made), and a key retired elsewhere is refused within [`LIST_SECS`].
pub async fn verify_own<T: serde::de::DeserializeOwned>(
    state: &App,
    jwt: &str,
    typ: &str,
) -> Result<Option<T>, AppError> {
    let Ok(header) = jsonwebtoken::decode_header(jwt) else {
        return Ok(None);
    };
    let (Some(kid), true) = (header.kid, header.typ.as_deref() == Some(typ)) else {
        return Ok(None);
    };
    let now = state.clock.now();
    let listed = state.signing_keys.keys(state.store.as_ref(), now).await?;
    let key = match listed.iter().find(|k| k.kid == kid) {
        Some(k) => Some(k.clone()),
        None => {
            state.signing_keys.forget_list();
            let keys = state.signing_keys.keys(state.store.as_ref(), now).await?;
            keys.iter().find(|k| k.kid == kid).cloned()
        }
    };
    let Some(key) = key.filter(|k| k.retired_at.is_none()) else {
        return Ok(None);
    };
    if Alg::parse(&key.algorithm).map(Alg::jwt) != Some(header.alg) {
        return Ok(None);
    }
    let Some(decoding) = state.signing_keys.public(&key) else {
        return Ok(None);
    };
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.validate_exp = false;
    v.validate_nbf = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    Ok(jsonwebtoken::decode::<T>(jwt, &decoding, &v)
        .ok()
        .map(|d| d.claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_wrapping_is_what_ring_reads() {
        let seed = [7u8; 32];
        let from_seed = Ed25519KeyPair::from_seed_unchecked(&seed).ok();
        let from_der = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&ed_pkcs8(&seed)).ok();
        assert_eq!(
            from_seed.map(|k| k.public_key().as_ref().to_vec()),
            from_der.map(|k| k.public_key().as_ref().to_vec())
        );
    }

    #[test]
    fn algorithm_names_round_trip_and_rs256_is_not_fapi() {
        for a in Alg::ALL {
            assert_eq!(Alg::parse(a.as_str()), Some(a));
        }
        assert_eq!(Alg::parse("none"), None);
        assert!(!Alg::RS256.fapi() && Alg::PS256.fapi() && Alg::ES256.fapi());
    }
}
