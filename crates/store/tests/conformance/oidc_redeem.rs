//! Conformance cases for the code exchange's one transaction (run on both backends by
//! `on_both!`): the client's request counted, the `jti`s used once, the code used once, the
//! grant with its refresh token and audit record, all or nothing; exactly one of racing
//! redemptions of a code wins.

use super::oidc_grants::code;
use super::{count, ev, new_login, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType, NewAuditEvent};
use sekisho_core::Timestamp;
use sekisho_store::{JtiUse, NewRefreshToken, NewTokenGrant, Redeemed, Redemption, ThrottleSpend};
use std::sync::Arc;

fn grant(id: &str, login_pk: i64, code_hash: &str, now: i64) -> NewTokenGrant {
    NewTokenGrant {
        grant_id: id.into(),
        client_id: "skc_a".into(),
        login_pk,
        session_id: Some(42),
        scope: "openid profile".into(),
        auth_time: Timestamp(now - 5),
        acr: "http://schemas.openid.net/pape/policies/2007/06/multi-factor".into(),
        amr: "pwd otp swk mfa".into(),
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        code_hash: code_hash.into(),
        created_at: Timestamp(now),
        expires_at: Timestamp(now + 300),
    }
}

fn jti(key: &str, jti: &str, now: i64) -> JtiUse {
    JtiUse {
        key: key.into(),
        jti: jti.into(),
        expires_at: Timestamp(now + 60),
    }
}

/// One request a minute, no burst: a second at the same moment is refused.
fn spend(bucket: &str, now: i64) -> ThrottleSpend {
    ThrottleSpend {
        bucket: bucket.into(),
        now_ms: now * 1000,
        interval_ms: 60_000,
        tolerance_ms: 0,
    }
}

async fn issued(db: &Db) -> usize {
    let filter = AuditFilter {
        event_type: Some(EventType::OidcTokenIssued),
        ..Default::default()
    };
    count(db, filter).await
}

async fn redeem(
    db: &Db,
    throttle: Option<&ThrottleSpend>,
    jtis: &[JtiUse],
    g: &NewTokenGrant,
    refresh: Option<&NewRefreshToken>,
    audit: &NewAuditEvent,
) -> Redeemed {
    ok(db
        .store
        .redeem_oidc_code(Redemption {
            throttle,
            jtis,
            grant: g,
            refresh,
            audit: &[audit],
        })
        .await)
}

pub(crate) async fn code_exchanges_write_all_or_nothing(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("rdm1"), &ev(1, EventType::LoginCreated, "rdm1"))
        .await);
    let codes: Vec<_> = ["rd-1", "rd-2", "rd-3"]
        .iter()
        .map(|h| code(h, login.id, 100))
        .collect();
    ok(s.seed_oidc_codes(&codes).await);
    assert_eq!(ok(s.get_oidc_code("rd-none").await), None);
    let read = ok(s.get_oidc_code("rd-1").await).unwrap_or_else(|| unreachable!("seeded"));
    assert_eq!((read.code, read.used_at), (codes[0].clone(), None));
    let audit = ev(110, EventType::OidcTokenIssued, "rdm1");

    // Everything, in one transaction.
    let g1 = grant("rg-1", login.id, "rd-1", 110);
    let r1 = NewRefreshToken {
        token_hash: "rr-1".into(),
        grant_id: "rg-1".into(),
        created_at: Timestamp(110),
        expires_at: Timestamp(110 + 86_400),
    };
    let jtis = [jti("skc_a", "a-1", 110), jti("dpop:k1", "p-1", 110)];
    let done = redeem(
        &db,
        Some(&spend("rd-b", 110)),
        &jtis,
        &g1,
        Some(&r1),
        &audit,
    )
    .await;
    assert_eq!(done, Redeemed::Done);
    let used = ok(s.get_oidc_code("rd-1").await).and_then(|c| c.used_at);
    assert_eq!(used, Some(Timestamp(110)));
    assert_eq!(
        ok(s.get_token_grant("rg-1").await).map(|g| g.grant),
        Some(g1)
    );
    assert!(ok(s.get_refresh_token("rr-1").await).is_some());
    assert_eq!(issued(&db).await, 1);
    for (key, j) in [("skc_a", "a-1"), ("dpop:k1", "p-1")] {
        let again = s.use_client_jti(key, j, Timestamp(170), Timestamp(111));
        assert!(!ok(again.await), "{key} {j} was used");
    }

    // The client's bucket spent: nothing written (the code, the jti, the grant, the record).
    let g2 = grant("rg-2", login.id, "rd-2", 110);
    let jtis = [jti("skc_a", "a-2", 110)];
    let refused = redeem(&db, Some(&spend("rd-b", 110)), &jtis, &g2, None, &audit).await;
    assert_eq!(
        refused,
        Redeemed::Throttled {
            retry_after_ms: 60_000
        }
    );
    // A replayed jti (the second of two): nothing written, and the first is still fresh.
    let jtis = [jti("skc_a", "a-3", 110), jti("dpop:k1", "p-1", 110)];
    let replayed = redeem(&db, Some(&spend("rd-c", 110)), &jtis, &g2, None, &audit).await;
    assert_eq!(replayed, Redeemed::Replayed(1));
    assert_eq!(
        ok(s.get_oidc_code("rd-2").await).and_then(|c| c.used_at),
        None
    );
    assert_eq!(ok(s.get_token_grant("rg-2").await), None);
    assert_eq!(issued(&db).await, 1);
    for (key, j) in [("skc_a", "a-2"), ("skc_a", "a-3")] {
        let first = s.use_client_jti(key, j, Timestamp(170), Timestamp(111));
        assert!(ok(first.await), "{key} {j} was not written");
    }
    // The bucket `rd-c` was not counted either: a request passes it now.
    let g2 = grant("rg-2", login.id, "rd-2", 110);
    let done = redeem(&db, Some(&spend("rd-c", 110)), &[], &g2, None, &audit).await;
    assert_eq!(done, Redeemed::Done);

    // A used code, or an unknown one: nothing written.
    let g3 = grant("rg-3", login.id, "rd-1", 120);
    let jtis = [jti("skc_a", "a-4", 120)];
    assert_eq!(
        redeem(&db, None, &jtis, &g3, None, &audit).await,
        Redeemed::CodeUsed
    );
    let g3 = grant("rg-3", login.id, "rd-none", 120);
    assert_eq!(
        redeem(&db, None, &jtis, &g3, None, &audit).await,
        Redeemed::CodeUsed
    );
    assert_eq!(ok(s.get_token_grant("rg-3").await), None);
    assert!(ok(s
        .use_client_jti("skc_a", "a-4", Timestamp(170), Timestamp(121))
        .await));
    assert_eq!(issued(&db).await, 2);

    // Racing redemptions of one code: exactly one grant.
    let store = Arc::clone(s);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let st = Arc::clone(&store);
            let g = grant(&format!("rg-race-{i}"), login.id, "rd-3", 130);
            let audit = ev(130, EventType::OidcTokenIssued, "rdm1");
            tokio::spawn(async move {
                let jtis = [jti("skc_a", &format!("race-{i}"), 130)];
                st.redeem_oidc_code(Redemption {
                    throttle: None,
                    jtis: &jtis,
                    grant: &g,
                    refresh: None,
                    audit: &[&audit],
                })
                .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match ok(ok(t.await)) {
            Redeemed::Done => won += 1,
            other => assert_eq!(other, Redeemed::CodeUsed),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(issued(&db).await, 3);
}
