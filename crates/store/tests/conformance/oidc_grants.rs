//! Conformance cases for OpenID Connect grants (run on both backends by `on_both!`):
//! authorization requests and codes used once, codes seeded in bulk, client-assertion `jti`s
//! refused when replayed.

use super::{count, ev, new_login, new_session, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::Timestamp;
use sekisho_store::{
    CodeTake, NewOidcCode, NewOidcRequest, RequestKind, SessionSignIn, StoreError,
};
use std::sync::Arc;

fn request(hash: &str, kind: RequestKind, now: i64, ttl: i64) -> NewOidcRequest {
    NewOidcRequest {
        handle_hash: hash.into(),
        kind,
        client_id: "skc_a".into(),
        params: r#"{"redirect_uri":"https://trade.example.co.jp/cb"}"#.into(),
        created_at: Timestamp(now),
        expires_at: Timestamp(now + ttl),
    }
}

pub(crate) fn code(hash: &str, login_pk: i64, now: i64) -> NewOidcCode {
    NewOidcCode {
        code_hash: hash.into(),
        client_id: "skc_a".into(),
        redirect_uri: "https://trade.example.co.jp/cb".into(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
        nonce: Some("n-0S6_WzA2Mj".into()),
        scope: "openid profile".into(),
        login_pk,
        session_id: Some(42),
        auth_time: Timestamp(now - 5),
        acr: "http://schemas.openid.net/pape/policies/2007/06/multi-factor".into(),
        amr: "pwd otp swk mfa".into(),
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        authorization_details: Some(
            r#"[{"type":"sekisho_operation","kind":"withdrawal","amount":"1500000"}]"#.into(),
        ),
        created_at: Timestamp(now),
        expires_at: Timestamp(now + 60),
    }
}

pub(crate) async fn oidc_requests_are_used_once_and_expire(db: Db) {
    let s = &db.store;
    let par = request("p1", RequestKind::Pushed, 100, 90);
    ok(s.create_oidc_request(&par).await);
    // A handle is recorded once.
    assert!(matches!(
        s.create_oidc_request(&par).await,
        Err(StoreError::Conflict)
    ));
    let read = ok(s.get_oidc_request("p1", RequestKind::Pushed).await);
    assert_eq!(
        read.map(|r| (r.request, r.used_at)),
        Some((par.clone(), None))
    );
    // The kind is part of the key: a pushed request is no pending one.
    assert_eq!(
        ok(s.get_oidc_request("p1", RequestKind::Pending).await),
        None
    );
    assert_eq!(
        ok(
            s.take_oidc_request("p1", RequestKind::Pending, Timestamp(110))
                .await
        ),
        None
    );
    assert_eq!(
        ok(
            s.take_oidc_request("p1", RequestKind::Pushed, Timestamp(110))
                .await
        ),
        Some(par.clone())
    );
    // Used once.
    assert_eq!(
        ok(
            s.take_oidc_request("p1", RequestKind::Pushed, Timestamp(111))
                .await
        ),
        None
    );
    let read = ok(s.get_oidc_request("p1", RequestKind::Pushed).await);
    assert_eq!(read.and_then(|r| r.used_at), Some(Timestamp(110)));
    // An expired request is not used, even unused.
    ok(
        s.create_oidc_request(&request("p2", RequestKind::Pushed, 100, 90))
            .await,
    );
    assert_eq!(
        ok(
            s.take_oidc_request("p2", RequestKind::Pushed, Timestamp(190))
                .await
        ),
        None
    );
    assert_eq!(
        ok(
            s.take_oidc_request("p2", RequestKind::Pushed, Timestamp(189))
                .await
        )
        .map(|r| r.handle_hash),
        Some("p2".into())
    );
    assert_eq!(
        ok(
            s.take_oidc_request("none", RequestKind::Pushed, Timestamp(100))
                .await
        ),
        None
    );

    // Concurrent takers on one request: exactly one gets it.
    ok(
        s.create_oidc_request(&request("p3", RequestKind::Pushed, 100, 90))
            .await,
    );
    let store = Arc::clone(s);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let st = Arc::clone(&store);
            tokio::spawn(async move {
                st.take_oidc_request("p3", RequestKind::Pushed, Timestamp(120))
                    .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if ok(ok(t.await)).is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

pub(crate) async fn oidc_codes_are_issued_for_a_request_once_and_used_once(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("oc1"), &ev(1, EventType::LoginCreated, "oc1"))
        .await);
    // Grants name the login by its internal key.
    assert_eq!(
        ok(s.login_by_pk(login.id).await).map(|l| l.login_id),
        Some("oc1".to_owned())
    );
    assert_eq!(ok(s.login_by_pk(login.id + 1000).await), None);
    ok(
        s.create_oidc_request(&request("r1", RequestKind::Pending, 100, 600))
            .await,
    );
    let authorized = ev(150, EventType::OidcAuthorized, "oc1");
    let sess = ok(s
        .create_session(
            &new_session(login.id, "oc1-s", 140),
            &ev(140, EventType::LoginSucceeded, "oc1"),
        )
        .await)
    .unwrap_or_else(|| unreachable!());
    let sign_in = |client: &str| SessionSignIn {
        session_id: sess.id,
        client_id: client.into(),
        login_pk: login.id,
        sid: "sid-oc1".into(),
        backchannel: true,
        first_at: Timestamp(150),
        last_at: Timestamp(150),
    };
    let c = code("c1", login.id, 150);
    assert!(ok(s
        .issue_oidc_code("r1", &c, Some(&sign_in("skc_a")), &authorized)
        .await));
    // The sign-in is recorded with the code.
    let clients = |v: Vec<SessionSignIn>| v.into_iter().map(|x| x.client_id).collect::<Vec<_>>();
    assert_eq!(clients(ok(s.session_sign_ins(sess.id).await)), ["skc_a"]);
    // The request gave its code: a second code for it is refused and nothing is written (no
    // sign-in either).
    assert!(!ok(s
        .issue_oidc_code(
            "r1",
            &code("c2", login.id, 151),
            Some(&sign_in("skc_b")),
            &authorized
        )
        .await));
    assert_eq!(clients(ok(s.session_sign_ins(sess.id).await)), ["skc_a"]);
    // Only a pending request gives a code, and only before it expires.
    ok(
        s.create_oidc_request(&request("r2", RequestKind::Pushed, 100, 600))
            .await,
    );
    assert!(!ok(s
        .issue_oidc_code("r2", &code("c3", login.id, 151), None, &authorized)
        .await));
    ok(
        s.create_oidc_request(&request("r3", RequestKind::Pending, 100, 60))
            .await,
    );
    assert!(!ok(s
        .issue_oidc_code("r3", &code("c4", login.id, 160), None, &authorized)
        .await));
    assert_eq!(
        count(
            &db,
            AuditFilter {
                event_type: Some(EventType::OidcAuthorized),
                ..AuditFilter::default()
            }
        )
        .await,
        1,
        "the audit record is written with the code only"
    );
    for h in ["c2", "c3", "c4"] {
        assert_eq!(
            ok(s.take_oidc_code(h, Timestamp(170)).await),
            CodeTake::Unknown
        );
    }

    // Used once: the first use returns it whole, a second one says it was reused.
    let first = ok(s.take_oidc_code("c1", Timestamp(160)).await);
    assert_eq!(
        first,
        CodeTake::First(sekisho_store::OidcCode {
            code: c.clone(),
            used_at: Some(Timestamp(160)),
        })
    );
    match ok(s.take_oidc_code("c1", Timestamp(161)).await) {
        CodeTake::Reused(again) => {
            assert_eq!(again.code, c);
            assert_eq!(again.used_at, Some(Timestamp(160)));
        }
        other => unreachable!("{other:?}"),
    }

    // Concurrent exchanges of one code: exactly one is first.
    ok(
        s.create_oidc_request(&request("r4", RequestKind::Pending, 200, 600))
            .await,
    );
    assert!(ok(s
        .issue_oidc_code("r4", &code("c5", login.id, 210), None, &authorized)
        .await));
    let store = Arc::clone(s);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let st = Arc::clone(&store);
            tokio::spawn(async move { st.take_oidc_code("c5", Timestamp(220)).await })
        })
        .collect();
    let mut first = 0;
    for t in tasks {
        match ok(ok(t.await)) {
            CodeTake::First(_) => first += 1,
            CodeTake::Reused(_) => {}
            CodeTake::Unknown => unreachable!("the code exists"),
        }
    }
    assert_eq!(first, 1);

    // Purging removes what ended, and only that.
    ok(
        s.create_oidc_request(&request("r5", RequestKind::Pushed, 1000, 90))
            .await,
    );
    assert!(ok(s.purge_oidc_grants(Timestamp(900), 100).await) >= 4);
    assert_eq!(
        ok(s.take_oidc_code("c1", Timestamp(901)).await),
        CodeTake::Unknown
    );
    assert!(ok(s.get_oidc_request("r5", RequestKind::Pushed).await).is_some());
}

/// The benchmark's bulk seeding: every code is written as given and used once like an issued
/// one; a batch with a code hash that exists writes nothing.
pub(crate) async fn oidc_codes_are_seeded_in_bulk_all_or_nothing(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("ocseed"),
            &ev(1, EventType::LoginCreated, "ocseed"),
        )
        .await);
    let codes: Vec<NewOidcCode> = (0..250)
        .map(|i| code(&format!("seed-{i}"), login.id, 150))
        .collect();
    ok(s.seed_oidc_codes(&codes).await);
    for i in [0, 99, 100, 249] {
        match ok(s.take_oidc_code(&format!("seed-{i}"), Timestamp(160)).await) {
            CodeTake::First(c) => assert_eq!(c.code, codes[i]),
            other => unreachable!("{other:?}"),
        }
    }
    assert!(matches!(
        ok(s.take_oidc_code("seed-0", Timestamp(161)).await),
        CodeTake::Reused(_)
    ));
    // A batch whose last code exists already: none of it is written.
    let again = vec![
        code("fresh-1", login.id, 170),
        code("seed-249", login.id, 170),
    ];
    assert!(matches!(
        s.seed_oidc_codes(&again).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        ok(s.take_oidc_code("fresh-1", Timestamp(171)).await),
        CodeTake::Unknown
    );
}

pub(crate) async fn client_assertion_jtis_are_refused_when_replayed(db: Db) {
    let s = &db.store;
    assert!(ok(s
        .use_client_jti("skc_a", "j1", Timestamp(160), Timestamp(100))
        .await));
    assert!(!ok(s
        .use_client_jti("skc_a", "j1", Timestamp(170), Timestamp(120))
        .await));
    // Per client.
    assert!(ok(s
        .use_client_jti("skc_b", "j1", Timestamp(160), Timestamp(120))
        .await));
    // Once its assertion has expired, the jti is forgotten (the assertion itself is refused
    // by its `exp` then).
    assert!(ok(s
        .use_client_jti("skc_a", "j1", Timestamp(260), Timestamp(160))
        .await));
    // Concurrent uses: exactly one is fresh.
    let store = Arc::clone(s);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let st = Arc::clone(&store);
            tokio::spawn(async move {
                st.use_client_jti("skc_c", "j2", Timestamp(300), Timestamp(200))
                    .await
            })
        })
        .collect();
    let mut fresh = 0;
    for t in tasks {
        if ok(ok(t.await)) {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
    // Purging is bounded per table and spares what has not ended.
    assert!(ok(s
        .use_client_jti("skc_d", "live", Timestamp(5000), Timestamp(200))
        .await));
    assert_eq!(ok(s.purge_oidc_grants(Timestamp(1000), 2).await), 2);
    assert_eq!(ok(s.purge_oidc_grants(Timestamp(1000), 2).await), 1);
    assert_eq!(ok(s.purge_oidc_grants(Timestamp(1000), 2).await), 0);
    assert!(!ok(s
        .use_client_jti("skc_d", "live", Timestamp(5000), Timestamp(1000))
        .await));
}
