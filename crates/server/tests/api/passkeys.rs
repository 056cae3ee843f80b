//! Passkeys through the JSON API, answered by a software authenticator written here (P-256,
//! "none" attestation, CBOR by hand): registration after re-authentication, the second step
//! after the password, passwordless login, single-use and expiring ceremonies, a counter going
//! backwards, operators' view, and a ceremony begun on one instance and finished on another.

use crate::common::{expect_error, ok, postgres, spawn_app, spawn_with, Options, TestApp};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::Private;
use openssl::sha::sha256;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A passkey held by the test: a P-256 key, its credential ID, its user handle and counter.
pub struct SoftPasskey {
    key: EcKey<Private>,
    cred_id: Vec<u8>,
    user_handle: Vec<u8>,
    pub counter: u32,
}

fn cbor_head(major: u8, len: usize, out: &mut Vec<u8>) {
    let m = major << 5;
    match len {
        0..=23 => out.push(m | u8::try_from(len).unwrap_or(0)),
        24..=255 => out.extend([m | 24, u8::try_from(len).unwrap_or(0)]),
        _ => {
            out.push(m | 25);
            out.extend(u16::try_from(len).unwrap_or(0).to_be_bytes());
        }
    }
}

fn cbor_text(s: &str, out: &mut Vec<u8>) {
    cbor_head(3, s.len(), out);
    out.extend(s.as_bytes());
}

fn cbor_bytes(b: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, b.len(), out);
    out.extend(b);
}

const ORIGIN: &str = "http://localhost";
// User present, user verified, backup eligible, backed up.
const FLAGS: u8 = 0x01 | 0x04 | 0x08 | 0x10;

impl SoftPasskey {
    /// Answers `navigator.credentials.create` with the options of a registration begin.
    pub fn create(options: &Value) -> (SoftPasskey, Value) {
        let pk = &options["publicKey"];
        let group = ok(EcGroup::from_curve_name(Nid::X9_62_PRIME256V1));
        let key = ok(EcKey::generate(&group));
        let mut cred_id = vec![0u8; 16];
        ok(openssl::rand::rand_bytes(&mut cred_id));
        let user_handle = ok(B64.decode(pk["user"]["id"].as_str().unwrap_or_default()));
        let me = SoftPasskey {
            key,
            cred_id,
            user_handle,
            counter: 0,
        };
        let (mut x, mut y) = (
            openssl::bn::BigNum::new().unwrap_or_else(|e| unreachable!("{e}")),
            openssl::bn::BigNum::new().unwrap_or_else(|e| unreachable!("{e}")),
        );
        let mut ctx = ok(BigNumContext::new());
        ok(me
            .key
            .public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx));
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&ok(x.to_vec_padded(32)), &mut cose);
        cose.push(0x22);
        cbor_bytes(&ok(y.to_vec_padded(32)), &mut cose);
        let rp_id = pk["rp"]["id"].as_str().unwrap_or_default();
        let mut auth_data = sha256(rp_id.as_bytes()).to_vec();
        auth_data.push(FLAGS | 0x40);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend(u16::try_from(me.cred_id.len()).unwrap_or(0).to_be_bytes());
        auth_data.extend(&me.cred_id);
        auth_data.extend(&cose);
        let mut att = vec![0xa3];
        cbor_text("fmt", &mut att);
        cbor_text("none", &mut att);
        cbor_text("attStmt", &mut att);
        att.push(0xa0);
        cbor_text("authData", &mut att);
        cbor_bytes(&auth_data, &mut att);
        let client_data = json!({
            "type": "webauthn.create",
            "challenge": pk["challenge"],
            "origin": ORIGIN,
            "crossOrigin": false,
        })
        .to_string();
        let id = B64.encode(&me.cred_id);
        let response = json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(&att),
                "clientDataJSON": B64.encode(client_data.as_bytes()),
            },
            "extensions": {},
        });
        (me, response)
    }

    /// Answers `navigator.credentials.get` with the options of an authentication begin,
    /// reporting `counter`.
    pub fn get_with_counter(&self, options: &Value, counter: u32) -> Value {
        let pk = &options["publicKey"];
        let rp_id = pk["rpId"].as_str().unwrap_or_default();
        let mut auth_data = sha256(rp_id.as_bytes()).to_vec();
        auth_data.push(FLAGS);
        auth_data.extend(counter.to_be_bytes());
        let client_data = json!({
            "type": "webauthn.get",
            "challenge": pk["challenge"],
            "origin": ORIGIN,
            "crossOrigin": false,
        })
        .to_string();
        let mut signed = auth_data.clone();
        signed.extend(sha256(client_data.as_bytes()));
        let sig = ok(EcdsaSig::sign(&sha256(&signed), &self.key));
        let id = B64.encode(&self.cred_id);
        json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(&auth_data),
                "clientDataJSON": B64.encode(client_data.as_bytes()),
                "signature": B64.encode(ok(sig.to_der())),
                "userHandle": B64.encode(&self.user_handle),
            },
            "extensions": {},
        })
    }

    /// Answers with the next counter value.
    pub fn get(&mut self, options: &Value) -> Value {
        self.counter += 1;
        self.get_with_counter(options, self.counter)
    }
}

pub(crate) async fn json_of(r: reqwest::Response, status: StatusCode) -> Value {
    let got = r.status();
    let v: Value = ok(r.json().await);
    assert_eq!(got, status, "{v}");
    v
}

/// Registers a passkey for a signed-in customer (begin on `a`, finish on `b`).
pub(crate) async fn register(
    a: &TestApp,
    b: &TestApp,
    session: &str,
    name: &str,
) -> (SoftPasskey, Value) {
    let begun = json_of(
        a.post(
            "/api/v1/me/passkeys/register/begin",
            Some(session),
            json!({ "password": "pass1234" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (key, credential) = SoftPasskey::create(&begun["options"]);
    let done = json_of(
        b.post(
            "/api/v1/me/passkeys/register/finish",
            Some(session),
            json!({ "ceremony": begun["ceremony"], "name": name, "credential": credential }),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    (key, done)
}

pub(crate) async fn customer(app: &TestApp, login_id: &str) -> String {
    app.create_login(login_id, "pass1234").await;
    app.session(login_id, "pass1234").await
}

/// The password, then the passkey (`begin` on one instance, `finish` on the other).
async fn second_step(a: &TestApp, b: &TestApp, login_id: &str, key: &mut SoftPasskey) -> Value {
    let r = a.login(login_id, "pass1234").await;
    let body = expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "second_factor_required",
        "SKS-LGN-0006",
    )
    .await;
    assert!(
        body["methods"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("passkey"))),
        "{body}"
    );
    let challenge = body["challenge"].clone();
    let begun = json_of(
        a.post(
            "/api/v1/login/passkey/begin",
            None,
            json!({ "challenge": challenge }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let credential = key.get(&begun["options"]);
    json_of(
        b.post(
            "/api/v1/login/passkey/finish",
            None,
            json!({ "challenge": challenge, "ceremony": begun["ceremony"], "credential": credential }),
        )
        .await,
        StatusCode::OK,
    )
    .await
}

pub(crate) async fn passwordless(
    a: &TestApp,
    b: &TestApp,
    key: &mut SoftPasskey,
) -> reqwest::Response {
    let begun = json_of(
        a.post("/api/v1/login/passkey/begin", None, json!({})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(begun["options"]["mediation"], "conditional");
    let credential = key.get(&begun["options"]);
    b.post(
        "/api/v1/login/passkey/finish",
        None,
        json!({ "ceremony": begun["ceremony"], "credential": credential }),
    )
    .await
}

#[tokio::test]
async fn register_then_log_in_as_second_factor_and_passwordless() {
    let app = spawn_app().await;
    let session = customer(&app, "pk0001").await;
    // Registration needs the password again.
    let r = app
        .post(
            "/api/v1/me/passkeys/register/begin",
            Some(&session),
            json!({ "password": "wrong999" }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "current_password_invalid",
        "SKS-PWD-0008",
    )
    .await;
    let (mut key, added) = register(&app, &app, &session, "ノートPC").await;
    assert_eq!(added["name"], "ノートPC");
    assert_eq!(added["backed_up"], true);
    let list = json_of(
        app.get("/api/v1/me/passkeys", Some(&session)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["passkeys"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["passkeys"][0]["last_used_at"], Value::Null);

    let s = second_step(&app, &app, "pk0001", &mut key).await;
    assert_eq!(s["methods"], json!(["pwd", "passkey"]));
    let s = json_of(passwordless(&app, &app, &mut key).await, StatusCode::OK).await;
    assert_eq!(s["methods"], json!(["passkey"]));
    assert!(s["session_token"]
        .as_str()
        .is_some_and(|t| t.starts_with("skss_")));

    // A code is no answer to a challenge only a passkey answers... but this login may still
    // use a passkey instead of nothing: the operator sets it to `passkey` and an inline code is
    // refused.
    let r = app
        .admin(
            reqwest::Method::PATCH,
            "/logins/pk0001",
            Some(json!({ "second_factor": "passkey" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = ok(app
        .http
        .post(format!("{}/api/v1/login", app.url))
        .json(&json!({ "login_id": "pk0001", "password": "pass1234", "otp": "123456" }))
        .send()
        .await);
    expect_error(r, StatusCode::FORBIDDEN, "passkey_required", "SKS-PKY-0005").await;

    // Rename, the operator's view, removal; each audited.
    let id = added["id"].as_i64().unwrap_or_default();
    let r = ok(app
        .http
        .patch(format!("{}/api/v1/me/passkeys/{id}", app.url))
        .bearer_auth(&session)
        .json(&json!({ "name": "iPhone" }))
        .send()
        .await);
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let ops = json_of(
        app.admin(reqwest::Method::GET, "/logins/pk0001/passkeys", None)
            .await,
        StatusCode::OK,
    )
    .await;
    let p = &ops["passkeys"][0];
    assert_eq!(
        (
            &p["name"],
            &p["sign_count"],
            &p["backup_eligible"],
            &p["counter_regressed_at"]
        ),
        (&json!("iPhone"), &json!(2), &json!(true), &Value::Null),
        "{ops}"
    );
    let r = app
        .admin(
            reqwest::Method::DELETE,
            &format!("/logins/pk0001/passkeys/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = ok(app
        .http
        .delete(format!("{}/api/v1/me/passkeys/{id}", app.url))
        .bearer_auth(&session)
        .send()
        .await);
    expect_error(
        r,
        StatusCode::NOT_FOUND,
        "passkey_not_found",
        "SKS-PKY-0003",
    )
    .await;
    assert_eq!(app.count_events("pk0001", "passkey_added").await, 1);
    assert_eq!(app.count_events("pk0001", "passkey_used").await, 2);
    assert_eq!(app.count_events("pk0001", "passkey_renamed").await, 1);
    assert_eq!(app.count_events("pk0001", "passkey_removed").await, 1);
}

#[tokio::test]
async fn ceremonies_are_single_use_and_expire() {
    let app = spawn_app().await;
    let session = customer(&app, "pk0002").await;
    let (mut key, _) = register(&app, &app, &session, "key").await;
    let begun = json_of(
        app.post("/api/v1/login/passkey/begin", None, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let credential = key.get(&begun["options"]);
    let finish = || {
        app.post(
            "/api/v1/login/passkey/finish",
            None,
            json!({ "ceremony": begun["ceremony"], "credential": credential }),
        )
    };
    json_of(finish().await, StatusCode::OK).await;
    expect_error(
        finish().await,
        StatusCode::UNAUTHORIZED,
        "passkey_ceremony_invalid",
        "SKS-PKY-0002",
    )
    .await;
    // Expired after passkeys.ceremony_secs (300 s).
    let begun = json_of(
        app.post("/api/v1/login/passkey/begin", None, json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let credential = key.get(&begun["options"]);
    app.clock.advance(301);
    let r = app
        .post(
            "/api/v1/login/passkey/finish",
            None,
            json!({ "ceremony": begun["ceremony"], "credential": credential }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "passkey_ceremony_invalid",
        "SKS-PKY-0002",
    )
    .await;
    // A registration ceremony of one customer cannot be finished by another.
    let other = customer(&app, "pk0003").await;
    let begun = json_of(
        app.post(
            "/api/v1/me/passkeys/register/begin",
            Some(&session),
            json!({ "password": "pass1234" }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (_, credential) = SoftPasskey::create(&begun["options"]);
    let r = app
        .post(
            "/api/v1/me/passkeys/register/finish",
            Some(&other),
            json!({ "ceremony": begun["ceremony"], "name": "x", "credential": credential }),
        )
        .await;
    expect_error(
        r,
        StatusCode::UNAUTHORIZED,
        "passkey_ceremony_invalid",
        "SKS-PKY-0002",
    )
    .await;
}

#[tokio::test]
async fn a_counter_going_backwards_is_flagged_and_refused() {
    let app = spawn_app().await;
    let session = customer(&app, "pk0004").await;
    let (mut key, _) = register(&app, &app, &session, "key").await;
    key.counter = 10;
    json_of(passwordless(&app, &app, &mut key).await, StatusCode::OK).await;
    // A copy of the key that lags behind: counter 5 after 11.
    key.counter = 4;
    expect_error(
        passwordless(&app, &app, &mut key).await,
        StatusCode::FORBIDDEN,
        "passkey_counter_regressed",
        "SKS-PKY-0004",
    )
    .await;
    // Flagged for operators, and refused from now on even with a good counter.
    let ops = json_of(
        app.admin(reqwest::Method::GET, "/logins/pk0004/passkeys", None)
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ops["passkeys"][0]["sign_count"], 11, "{ops}");
    assert!(
        ops["passkeys"][0]["counter_regressed_at"].is_string(),
        "{ops}"
    );
    key.counter = 100;
    expect_error(
        passwordless(&app, &app, &mut key).await,
        StatusCode::FORBIDDEN,
        "passkey_counter_regressed",
        "SKS-PKY-0004",
    )
    .await;
    assert_eq!(
        app.count_events("pk0004", "passkey_counter_regressed")
            .await,
        1
    );
    let list = json_of(
        app.get("/api/v1/me/passkeys", Some(&session)).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(list["passkeys"][0]["suspended"], true);
}

/// Two instances on one PostgreSQL database: every ceremony begins on one and finishes on the
/// other, and a ceremony finished on one cannot be finished again on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ceremonies_cross_instances_postgres() {
    let Some(url) = postgres("api_passkeys_two_instances").await else {
        return;
    };
    let a = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Default::default()
    })
    .await;
    let b = spawn_with(Options {
        database_url: Some(url),
        clock: Some(a.clock.clone()),
        ..Default::default()
    })
    .await;
    let session = customer(&a, "pk0005").await;
    let (mut key, _) = register(&a, &b, &session, "key").await;
    let s = second_step(&b, &a, "pk0005", &mut key).await;
    assert_eq!(s["methods"], json!(["pwd", "passkey"]));
    let begun = json_of(
        a.post("/api/v1/login/passkey/begin", None, json!({})).await,
        StatusCode::OK,
    )
    .await;
    let credential = key.get(&begun["options"]);
    let body = json!({ "ceremony": begun["ceremony"], "credential": credential });
    json_of(
        b.post("/api/v1/login/passkey/finish", None, body.clone())
            .await,
        StatusCode::OK,
    )
    .await;
    expect_error(
        a.post("/api/v1/login/passkey/finish", None, body).await,
        StatusCode::UNAUTHORIZED,
        "passkey_ceremony_invalid",
        "SKS-PKY-0002",
    )
    .await;
}

/// `passkeys.required`: a login without a passkey cannot go on, one with a passkey is asked for
/// it alone, and a one-time code does not answer its challenge. (Two instances on one SQLite
/// file: the passkey is registered where passkeys are not required yet.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_passkeys_refuse_codes_and_logins_without_one() {
    let dir = ok(tempfile::tempdir());
    let url = sekisho_store::testing::sqlite_url(dir.path());
    let a = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Default::default()
    })
    .await;
    let session = customer(&a, "pk0010").await;
    let (mut key, _) = register(&a, &a, &session, "key").await;
    a.create_login("pk0011", "pass1234").await;
    let b = spawn_with(Options {
        database_url: Some(url),
        clock: Some(a.clock.clone()),
        passkeys_required: true,
        ..Default::default()
    })
    .await;
    expect_error(
        b.login("pk0011", "pass1234").await,
        StatusCode::FORBIDDEN,
        "second_factor_not_initialized",
        "SKS-LGN-0005",
    )
    .await;
    let body = expect_error(
        b.login("pk0010", "pass1234").await,
        StatusCode::UNAUTHORIZED,
        "second_factor_required",
        "SKS-LGN-0006",
    )
    .await;
    assert_eq!(body["methods"], json!(["passkey"]), "{body}");
    assert_eq!(body["passkey_url"], "/api/v1/login/passkey/begin");
    let r = b
        .post(
            "/api/v1/login/second-factor",
            None,
            json!({ "challenge": body["challenge"], "otp": "123456" }),
        )
        .await;
    expect_error(r, StatusCode::FORBIDDEN, "passkey_required", "SKS-PKY-0005").await;
    let s = second_step(&b, &b, "pk0010", &mut key).await;
    assert_eq!(s["methods"], json!(["pwd", "passkey"]));
}
