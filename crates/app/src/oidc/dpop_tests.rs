use super::*;
use jsonwebtoken::{EncodingKey, Header};
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde_json::json;

const SEED: [u8; 32] = [7; 32];
const TOKEN_URL: &str = "https://login.example.co.jp/oidc/token";

fn public_x(seed: &[u8; 32]) -> String {
    Ed25519KeyPair::from_seed_unchecked(seed)
        .map(|k| URL_SAFE_NO_PAD.encode(k.public_key().as_ref()))
        .unwrap_or_default()
}

fn jwk() -> Value {
    json!({"kty": "OKP", "crv": "Ed25519", "x": public_x(&SEED)})
}

/// A proof signed with the key of `seed`, carrying `jwk` in its header as given.
fn proof_with(typ: &str, jwk: Value, claims: Value, seed: &[u8; 32]) -> String {
    let header = json!({"typ": typ, "alg": "EdDSA", "jwk": jwk});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = Ed25519KeyPair::from_seed_unchecked(seed)
        .map(|k| URL_SAFE_NO_PAD.encode(k.sign(input.as_bytes()).as_ref()))
        .unwrap_or_default();
    format!("{input}.{sig}")
}

fn claims(now: i64) -> Value {
    json!({"jti": "p-1", "htm": "POST", "htu": TOKEN_URL, "iat": now})
}

fn proof(claims: Value) -> String {
    proof_with(TYP, jwk(), claims, &SEED)
}

fn at_token() -> Expect<'static> {
    Expect {
        method: "POST",
        url: TOKEN_URL,
        access_token: None,
    }
}

fn check_at(p: &str, expect: Expect<'_>, now: i64) -> Result<Checked, String> {
    verify(p, expect, Timestamp(now), 60).map_err(|e| {
        assert_eq!(e.error, INVALID);
        e.description
    })
}

#[test]
fn thumbprints_follow_rfc_7638() {
    // RFC 7638 §3.1.
    let rsa = json!({
        "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    });
    let map = rsa.as_object().cloned().unwrap_or_default();
    assert_eq!(
        thumbprint(&map).as_deref(),
        Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    );
    assert_eq!(thumbprint(&Map::new()), None);
    // RFC 9449 §4.2: `ath` of the example access token.
    assert_eq!(
        ath("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}

#[test]
fn a_proof_for_this_request_gives_the_keys_thumbprint() {
    let now = 1_000;
    let c = check_at(&proof(claims(now)), at_token(), now);
    let expected = thumbprint(jwk().as_object().unwrap_or(&Map::new()));
    assert_eq!(c.as_ref().ok().map(|c| Some(c.jkt.clone())), Some(expected));
    assert_eq!(c.map(|c| c.jti), Ok("p-1".to_owned()));
    // The query and fragment are ignored; the iat window holds both ways.
    let mut c = claims(now - 60);
    c["htu"] = json!(format!("{TOKEN_URL}?x=1#f"));
    assert!(check_at(&proof(c), at_token(), now).is_ok());
    assert!(check_at(&proof(claims(now + 60)), at_token(), now).is_ok());
}

#[test]
fn a_proof_for_another_request_key_or_time_is_refused() {
    let now = 1_000;
    let with = |k: &str, v: Value| {
        let mut c = claims(now);
        c[k] = v;
        proof(c)
    };
    for (p, why) in [
        (with("htm", json!("GET")), "htm"),
        (
            with("htu", json!("https://login.example.co.jp/oidc/par")),
            "htu",
        ),
        (with("htu", json!("https://evil.example/oidc/token")), "htu"),
        (with("iat", json!(now - 61)), "iat"),
        (with("iat", json!(now + 61)), "iat"),
        (with("jti", json!("")), "jti"),
        (
            proof(json!({"htm": "POST", "htu": TOKEN_URL, "iat": now})),
            "jti",
        ),
        (proof_with("JWT", jwk(), claims(now), &SEED), "typ"),
        // Signed by another key than the one it carries.
        (proof_with(TYP, jwk(), claims(now), &[8; 32]), "signature"),
        // A private key in the header.
        (
            proof_with(
                TYP,
                json!({"kty": "OKP", "crv": "Ed25519", "x": public_x(&SEED), "d": "AAAA"}),
                claims(now),
                &SEED,
            ),
            "private",
        ),
        ("e30.e30.".to_owned(), "typ"),
        ("garbage".to_owned(), "JWT"),
    ] {
        let e = check_at(&p, at_token(), now);
        assert!(e.as_ref().is_err_and(|d| d.contains(why)), "{why}: {e:?}");
    }
    // An HMAC or unsigned proof is refused by its alg.
    let hs = jsonwebtoken::encode(
        &Header {
            typ: Some(TYP.into()),
            ..Header::new(Algorithm::HS256)
        },
        &claims(now),
        &EncodingKey::from_secret(b"k"),
    )
    .unwrap_or_default();
    assert!(check_at(&hs, at_token(), now).is_err_and(|d| d.contains("alg")));
}

#[test]
fn at_a_resource_the_proof_names_the_access_token() {
    let now = 1_000;
    let at = Expect {
        method: "GET",
        url: "https://login.example.co.jp/oidc/userinfo",
        access_token: Some("tok"),
    };
    let mut c = json!({"jti": "p-2", "htm": "GET", "htu": at.url, "iat": now});
    assert!(check_at(&proof(c.clone()), at, now).is_err_and(|d| d.contains("ath")));
    c["ath"] = json!(ath("other"));
    assert!(check_at(&proof(c.clone()), at, now).is_err_and(|d| d.contains("ath")));
    c["ath"] = json!(ath("tok"));
    assert!(check_at(&proof(c), at, now).is_ok());
}
