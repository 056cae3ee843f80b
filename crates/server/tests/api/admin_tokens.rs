//! The token inventory through the admin API: import (PSKC, CSV, all or nothing), list, read,
//! assign, unassign, revoke, unlock.

use crate::common::{expect_error, ok, spawn_app, TestApp};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

const FIG6: &str = include_str!("../../../core/src/import/testdata/rfc6030-figure6.xml");
const FIG7: &str = include_str!("../../../core/src/import/testdata/rfc6030-figure7.xml");
const FIG10: &str = include_str!("../../../core/src/import/testdata/rfc6030-figure10.xml");
const FIG2: &str = include_str!("../../../core/src/import/testdata/rfc6030-figure2.xml");
const NO_KEY_PACKAGE: &str =
    include_str!("../../../core/src/import/testdata/vendor/no-key-package.xml");
const DRAFT_HOYER_01: &str =
    include_str!("../../../core/src/import/testdata/vendor/draft-hoyer-01-plain.xml");
const PSK: &str = "12345678901234567890123456789012";
const HEX_SECRET: &str = "3132333435363738393031323334353637383930";

async fn import(app: &TestApp, query: &str, content_type: &str, body: &str) -> Response {
    ok(app
        .http
        .post(format!("{}/api/admin/v1/tokens/import{query}", app.url))
        .bearer_auth(&app.admin_token)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await)
}

async fn json_ok(r: Response) -> Value {
    let status = r.status();
    let v: Value = ok(r.json().await);
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

#[tokio::test]
async fn pskc_import_with_keys_and_duplicates() {
    let app = spawn_app().await;
    let r = import(
        &app,
        &format!("?psk_hex={PSK}&batch=acme-2026-05"),
        "application/pskc+xml",
        FIG6,
    )
    .await;
    let v = json_ok(r).await;
    assert_eq!(v["imported"], json!(["987654321"]));
    assert_eq!(v["stored"], true);
    assert_eq!(v["format"], "pskc");
    assert_eq!(v["batch"], "acme-2026-05");
    let t = json_ok(app.admin(Method::GET, "/tokens/987654321", None).await).await;
    assert_eq!(t["state"], "in_stock");
    assert_eq!(
        (
            t["kind"].as_str(),
            t["digits"].as_u64(),
            t["counter"].as_i64()
        ),
        (Some("hotp"), Some(8), Some(0))
    );
    assert_eq!(t["batch"], "acme-2026-05");
    let text = t.to_string();
    assert!(
        !text.contains("secret") && !text.contains("MTIzNDU2") && !text.contains(HEX_SECRET),
        "{text}"
    );

    // The same file again: nothing new, the token reported as a duplicate.
    let v = json_ok(import(&app, &format!("?psk_hex={PSK}"), "text/xml", FIG6).await).await;
    assert_eq!(
        (v["imported"].clone(), v["duplicates"].clone()),
        (json!([]), json!(["987654321"]))
    );

    // Keys: missing, wrong, of the wrong kind.
    let r = import(&app, "", "application/xml", FIG6).await;
    let e = expect_error(r, StatusCode::BAD_REQUEST, "token_file_key", "SKS-HWT-0005").await;
    assert!(
        e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("pre-shared key")),
        "{e}"
    );
    let r = import(
        &app,
        "?psk_hex=00112233445566778899aabbccddeeff",
        "application/xml",
        FIG6,
    )
    .await;
    expect_error(r, StatusCode::BAD_REQUEST, "token_file_key", "SKS-HWT-0005").await;
    let r = import(&app, "?passphrase=qwerty", "application/xml", FIG6).await;
    expect_error(r, StatusCode::BAD_REQUEST, "token_file_key", "SKS-HWT-0005").await;
    let r = import(&app, "?psk_hex=12", "application/xml", FIG6).await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    let r = import(
        &app,
        &format!("?psk_hex={PSK}&passphrase=x"),
        "application/xml",
        FIG6,
    )
    .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;

    // PBKDF2: figure 7 has the same serial, so it is a duplicate, proving the passphrase opened it.
    let v = json_ok(import(&app, "?passphrase=qwerty", "application/xml", FIG7).await).await;
    assert_eq!(v["duplicates"], json!(["987654321"]));

    // Neither JSON nor an unknown type.
    let r = import(&app, "", "application/json", "{}").await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
    // Hostile XML.
    let laughs = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><KeyContainer>&a;</KeyContainer>";
    let r = import(&app, "", "application/xml", laughs).await;
    let e = expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "token_file_invalid",
        "SKS-HWT-0004",
    )
    .await;
    assert!(
        e["detail"].as_str().is_some_and(|d| d.contains("DOCTYPE")),
        "{e}"
    );
    // Larger than the parser takes: refused before it is read whole.
    let huge = "#".repeat(17 * 1024 * 1024);
    let r = import(&app, "", "text/csv", &huge).await;
    expect_error(
        r,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "SKS-GEN-0002",
    )
    .await;
}

#[tokio::test]
async fn a_file_with_rejections_imports_nothing_unless_asked() {
    let app = spawn_app().await;
    let csv = format!(
        "serial,secret,type,digits,counter_or_period\nA-1,{HEX_SECRET},totp,6,30\nA-2,31323334,totp,6,30\nA-3,{HEX_SECRET},hotp,6,0\n"
    );
    let r = import(&app, "?batch=b1", "text/csv", &csv).await;
    let e = expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "token_import_rejected",
        "SKS-HWT-0006",
    )
    .await;
    let report = &e["report"];
    assert_eq!(report["stored"], false);
    assert_eq!(report["rejected"][0]["line"], 3);
    assert_eq!(report["rejected"][0]["token_id"], "A-2");
    assert!(report["rejected"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("4 bytes")));
    let list = json_ok(app.admin(Method::GET, "/tokens", None).await).await;
    assert_eq!(list["tokens"], json!([]), "all or nothing");

    let v = json_ok(import(&app, "?batch=b1&skip_rejected=true", "text/csv", &csv).await).await;
    assert_eq!(v["imported"], json!(["A-1", "A-3"]));
    assert_eq!(v["rejected"][0]["location"], "line 3");

    // Figure 10 reuses a serial inside the file for a later period, which replaces the
    // earlier entry; with the periods in the other order the second entry is rejected, by
    // KeyPackage.
    let v = json_ok(import(&app, "?batch=fig10", "application/xml", FIG10).await).await;
    assert_eq!(v["imported"], json!(["654321", "123456", "9999999"]));
    let earlier_second = FIG10
        .replace("2006-03-01T00:00:00Z", "2006-06-01T00:00:00Z")
        .replace("2006-03-31T00:00:00Z", "2006-06-30T00:00:00Z");
    let r = import(&app, "", "application/xml", &earlier_second).await;
    let e = expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "token_import_rejected",
        "SKS-HWT-0006",
    )
    .await;
    assert_eq!(e["report"]["rejected"][0]["key_package"], 4);
    // A CSV with a key makes no sense.
    let r = import(&app, &format!("?psk_hex={PSK}"), "text/csv", &csv).await;
    expect_error(r, StatusCode::BAD_REQUEST, "token_file_key", "SKS-HWT-0005").await;
}

#[tokio::test]
async fn assign_unassign_revoke_unlock() {
    let app = spawn_app().await;
    let csv = format!(
        "T-1,{HEX_SECRET},totp,6,30\nT-2,{HEX_SECRET},totp,6,30\nT-3,{HEX_SECRET},hotp,8,7\n"
    );
    json_ok(import(&app, "?batch=b", "text/csv", &csv).await).await;
    app.create_login("yamada01", "Passw0rd99").await;
    app.create_login("suzuki01", "Passw0rd99").await;
    let assign = |id: &'static str, login: &'static str| {
        let app = &app;
        async move {
            app.admin(
                Method::POST,
                &format!("/tokens/{id}/assign"),
                Some(json!({ "login_id": login })),
            )
            .await
        }
    };
    let t = json_ok(assign("t-1", "yamada01").await).await;
    assert_eq!(
        (
            t["token_id"].as_str(),
            t["state"].as_str(),
            t["login_id"].as_str()
        ),
        (Some("T-1"), Some("assigned"), Some("yamada01"))
    );
    expect_error(
        assign("T-2", "yamada01").await,
        StatusCode::CONFLICT,
        "login_has_token",
        "SKS-HWT-0003",
    )
    .await;
    expect_error(
        assign("T-1", "suzuki01").await,
        StatusCode::CONFLICT,
        "token_state_conflict",
        "SKS-HWT-0002",
    )
    .await;
    expect_error(
        assign("NOPE", "suzuki01").await,
        StatusCode::NOT_FOUND,
        "token_not_found",
        "SKS-HWT-0001",
    )
    .await;
    expect_error(
        assign("T-2", "nobody01").await,
        StatusCode::NOT_FOUND,
        "login_not_found",
        "SKS-ACC-0005",
    )
    .await;

    let list = json_ok(app.admin(Method::GET, "/tokens?state=assigned", None).await).await;
    assert_eq!(list["tokens"].as_array().map(Vec::len), Some(1));
    let list = json_ok(
        app.admin(Method::GET, "/tokens?login_id=yamada01", None)
            .await,
    )
    .await;
    assert_eq!(list["tokens"][0]["token_id"], "T-1");
    let list = json_ok(
        app.admin(Method::GET, "/tokens?state=in_stock&limit=1", None)
            .await,
    )
    .await;
    assert_eq!(
        (
            list["tokens"][0]["token_id"].as_str(),
            list["next_after"].as_str()
        ),
        (Some("T-2"), Some("T-2"))
    );
    let list = json_ok(
        app.admin(Method::GET, "/tokens?state=in_stock&after=T-2", None)
            .await,
    )
    .await;
    assert_eq!(list["tokens"][0]["token_id"], "T-3");
    assert_eq!(list["tokens"][0]["counter"], 7);
    expect_error(
        app.admin(Method::GET, "/tokens?state=lost", None).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;

    let v = json_ok(app.admin(Method::POST, "/tokens/T-1/unlock", None).await).await;
    assert_eq!(v["was_locked"], false);
    let v = json_ok(app.admin(Method::POST, "/tokens/T-1/unassign", None).await).await;
    assert_eq!(
        (v["state"].as_str(), v["login_id"].as_str()),
        (Some("in_stock"), None)
    );
    expect_error(
        app.admin(Method::POST, "/tokens/T-1/unassign", None).await,
        StatusCode::CONFLICT,
        "token_state_conflict",
        "SKS-HWT-0002",
    )
    .await;
    // A device change: revoke the old token (失効), assign a new one.
    json_ok(assign("T-1", "yamada01").await).await;
    let v = json_ok(app.admin(Method::POST, "/tokens/T-1/revoke", None).await).await;
    assert_eq!(v["state"], "revoked");
    assert!(v["revoked_at"].is_string());
    expect_error(
        app.admin(Method::POST, "/tokens/T-1/revoke", None).await,
        StatusCode::CONFLICT,
        "token_state_conflict",
        "SKS-HWT-0002",
    )
    .await;
    json_ok(assign("T-2", "yamada01").await).await;
    expect_error(
        assign("T-1", "suzuki01").await,
        StatusCode::CONFLICT,
        "token_state_conflict",
        "SKS-HWT-0002",
    )
    .await;

    for (ty, n) in [
        ("token_assigned", 3),
        ("token_unassigned", 1),
        ("token_revoked", 1),
        ("token_unlocked", 0),
    ] {
        assert_eq!(app.count_events("yamada01", ty).await, n, "{ty}");
    }
}

/// A vendor file is larger than an API body (64 KiB by default): the import route takes it.
#[tokio::test]
async fn seed_files_larger_than_api_bodies() {
    let app = spawn_app().await;
    let csv: String = (0..2000)
        .map(|i| format!("BULK-{i:05},{HEX_SECRET},hotp,6,0\n"))
        .collect();
    assert!(csv.len() > 100 * 1024);
    let v = json_ok(import(&app, "?batch=bulk", "text/csv", &csv).await).await;
    assert_eq!(v["imported"].as_array().map(Vec::len), Some(2000));
    let list = json_ok(
        app.admin(Method::GET, "/tokens?batch=bulk&limit=500", None)
            .await,
    )
    .await;
    assert_eq!(list["next_after"], "BULK-00499");
}

#[tokio::test]
async fn an_import_of_nothing_is_an_error_with_its_reason() {
    let app = spawn_app().await;
    let r = import(&app, "", "application/xml", NO_KEY_PACKAGE).await;
    let e = expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "token_file_no_keys",
        "SKS-HWT-0007",
    )
    .await;
    assert!(e.to_string().contains("no KeyPackage"), "{e}");
    let r = import(&app, "", "text/csv", "serial,secret\n# nothing\n").await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "token_file_no_keys",
        "SKS-HWT-0007",
    )
    .await;
    // Skipping every entry leaves nothing: an error too, with the report.
    let r = import(&app, "?skip_rejected=true", "application/xml", FIG2).await;
    let e = expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "token_file_no_keys",
        "SKS-HWT-0007",
    )
    .await;
    assert!(e["report"]["rejected"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("RFC 4226 section 4")));
    // A test token's short secret is imported when the operator says so.
    let v = json_ok(import(&app, "?allow_short_secrets=true", "application/xml", FIG2).await).await;
    assert_eq!(v["imported"], json!(["12345678"]));
    // A pre-RFC layout is read, not reported as an empty success.
    let v = json_ok(import(&app, "", "application/xml", DRAFT_HOYER_01).await).await;
    assert_eq!(v["imported"], json!(["98765432187"]));
    let t = json_ok(app.admin(Method::GET, "/tokens/98765432187", None).await).await;
    assert_eq!(t["counter"], 42);
}
