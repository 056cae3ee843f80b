//! The change activity history: groups, localized descriptions, actors, filters and CSV export.

use crate::common::{expect_error, ok, spawn_app, spawn_with, Options};
use reqwest::{Method, StatusCode};
use sekisho_core::Clock;
use serde_json::{json, Value};

#[tokio::test]
async fn history_shows_groups_names_descriptions_and_actors() {
    let app = spawn_app().await;
    app.create_login("hist0001", "abc12345").await;
    app.login("hist0001", "wrong1234").await;
    app.login("hist0001", "abc12345").await;

    let v: Value = ok(app
        .admin(
            Method::GET,
            "/audit?login_id=hist0001&event_group=login&lang=en",
            None,
        )
        .await
        .json()
        .await);
    let events = v["events"].as_array().cloned().unwrap_or_default();
    let types: Vec<_> = events.iter().map(|e| e["event_type"].clone()).collect();
    assert_eq!(types, [json!("login_succeeded"), json!("login_failed")]);
    let failed = &events[1];
    assert_eq!(failed["event_group"], "login");
    assert_eq!(failed["login_name"], "山田 太郎");
    assert_eq!(failed["summary"], "Login failed (wrong password)");
    assert_eq!(failed["actor_label"], "customer");
    assert_eq!(failed["client_ip"], "127.0.0.1");
    assert!(failed["event_id"].as_i64().is_some_and(|id| id > 0));

    // Japanese from Accept-Language; the creation was done by the tests' API token.
    let r = ok(app
        .http
        .get(format!(
            "{}/api/admin/v1/audit?login_id=hist0001&event_type=login_created",
            app.url
        ))
        .bearer_auth(&app.admin_token)
        .header("accept-language", "ja")
        .send()
        .await);
    let v: Value = ok(r.json().await);
    let created = &v["events"][0];
    assert_eq!(created["event_group"], "account");
    assert!(
        created["summary"]
            .as_str()
            .is_some_and(|d| d.starts_with("ログインID作成")),
        "{created}"
    );
    assert!(
        created["actor_label"]
            .as_str()
            .is_some_and(|a| a.starts_with("APIトークン ") && a.ends_with(":tests")),
        "{created}"
    );

    // The operator filter finds nothing an operator did not do.
    let v: Value = ok(app
        .admin(Method::GET, "/audit?operator=sato", None)
        .await
        .json()
        .await);
    assert_eq!(v["events"].as_array().map(Vec::len), Some(0));

    let r = app
        .admin(Method::GET, "/audit?event_group=weather", None)
        .await;
    expect_error(
        r,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "SKS-GEN-0001",
    )
    .await;
}

#[tokio::test]
async fn csv_export_uses_the_filters_and_defuses_formulas() {
    let app = spawn_app().await;
    app.create_login("hist0002", "abc12345").await;
    app.login("hist0002", "wrong1234").await;
    app.login("=1+1", "whatever1").await;
    app.login("a,\"b\"", "whatever1").await;

    let r = app
        .admin(
            Method::GET,
            "/audit.csv?event_type=login_failed&lang=en",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let body = ok(r.text().await);
    let body = body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "event_id,time (JST),login_id,login_name,event_group,event_type,description,actor,ip"
    );
    // Times in the firm's zone (Japan time by default), as the header says (issue 17 item 7).
    let jst = sekisho_app::zone::Zone::default().plain(app.clock.now());
    assert!(lines[1].contains(&format!(",{jst},")), "{} {jst}", lines[1]);
    assert_eq!(lines.len(), 4, "{body}");
    assert!(
        lines[1].contains(",\"a,\"\"b\"\"\",,login,login_failed,"),
        "{body}"
    );
    assert!(lines[2].contains(",'=1+1,,login,login_failed,"), "{body}");
    assert!(lines[3].contains(",hist0002,山田 太郎,login,login_failed,Login failed (wrong password),customer,127.0.0.1"), "{body}");

    // The same export through ?format=csv, in Japanese, limited to one row.
    let r = app
        .admin(
            Method::GET,
            "/audit?format=csv&event_type=login_failed&limit=1&lang=ja",
            None,
        )
        .await;
    let body = ok(r.text().await);
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("イベントID"));
}

/// Issue 17 item 7: the firm's zone (`pages.time_zone`) decides the times people read.
#[tokio::test]
async fn the_csv_and_the_pages_show_times_in_the_firms_zone() {
    let app = spawn_with(Options {
        settings: vec![("pages.time_zone", "UTC".into())],
        ..Options::default()
    })
    .await;
    app.create_login("zone0001", "abc12345").await;
    app.login("zone0001", "wrong1234").await;
    let r = app
        .admin(
            Method::GET,
            "/audit.csv?event_type=login_failed&lang=ja",
            None,
        )
        .await;
    let body = ok(r.text().await);
    let utc = sekisho_app::zone::Zone::parse("UTC")
        .unwrap_or_else(|e| unreachable!("{e}"))
        .plain(app.clock.now());
    assert!(body.contains("イベントID,日時(UTC),"), "{body}");
    assert!(body.contains(&format!(",{utc},zone0001,")), "{body}");
}

/// Issue 19 item 3: the CSV export streams a page of rows at a time (chunked, no length known
/// up front) and carries every matching record, across many pages, newest first.
async fn csv_export_streams_every_row_across_pages(app: crate::common::TestApp) {
    use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
    const ROWS: i64 = 2_600;
    let now = app.clock.now();
    let events: Vec<NewAuditEvent> = (0..ROWS)
        .map(|i| {
            NewAuditEvent::new(
                now.plus_secs(i - ROWS),
                EventType::OtpValidated,
                Some(if i % 2 == 0 { "bulk0001" } else { "bulk0002" }),
                Actor::SelfService,
                &ClientInfo::default(),
                format!("code {i}"),
            )
        })
        .collect();
    ok(app.state.store.seed_audit(&events).await);
    let r = app
        .admin(Method::GET, "/audit.csv?login_id=bulk0001&lang=en", None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers().get("content-length").is_none(),
        "streamed, not held whole: {:?}",
        r.headers()
    );
    let body = ok(r.text().await);
    let lines: Vec<&str> = body
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .collect();
    assert!(lines[0].starts_with("event_id,time"), "{}", lines[0]);
    let rows = &lines[1..];
    assert_eq!(rows.len() as i64, ROWS / 2);
    let ids: Vec<i64> = rows
        .iter()
        .map(|l| ok(l.split(',').next().unwrap_or("").parse::<i64>()))
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] - w[1] == 2),
        "newest first, none skipped"
    );
    for (k, row) in rows.iter().enumerate() {
        let i = ROWS - 2 - 2 * k as i64;
        assert!(
            row.contains(",bulk0001,,second_factor,otp_validated,")
                && row.contains(&format!("(code {i}),customer,")),
            "row {k}: {row}"
        );
    }
    // A limit still cuts the export, across a page boundary too.
    let r = app
        .admin(Method::GET, "/audit.csv?login_id=bulk0002&limit=1001", None)
        .await;
    let body = ok(r.text().await);
    assert_eq!(
        body.split("\r\n").filter(|l| !l.is_empty()).count(),
        1 + 1001
    );
}

#[tokio::test]
async fn csv_export_streams_every_row_across_pages_sqlite() {
    csv_export_streams_every_row_across_pages(spawn_app().await).await;
}

#[tokio::test]
async fn csv_export_streams_every_row_across_pages_postgres() {
    let Some(url) = crate::common::postgres("api_csv_stream").await else {
        return;
    };
    let app = spawn_with(Options {
        database_url: Some(url),
        ..Options::default()
    })
    .await;
    csv_export_streams_every_row_across_pages(app).await;
}
