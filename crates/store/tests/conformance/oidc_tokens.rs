//! Conformance cases for OpenID Connect token grants and refresh tokens (run on both backends
//! by `on_both!`): a refresh token rotated once, revocation of a grant by identifier, by the
//! code that made it, by session and by client.

use super::{ev, new_login, ok, Db};
use sekisho_core::audit::EventType;
use sekisho_core::audit::NewAuditEvent;
use sekisho_core::Timestamp;
use sekisho_store::{NewRefreshToken, NewTokenGrant, Redeemed, Redemption, Store, StoreResult};
use std::sync::Arc;

fn grant(id: &str, login_pk: i64, client: &str, session: i64, code: &str) -> NewTokenGrant {
    NewTokenGrant {
        grant_id: id.into(),
        client_id: client.into(),
        login_pk,
        session_id: Some(session),
        scope: "openid offline_access".into(),
        auth_time: Timestamp(95),
        acr: "http://schemas.openid.net/pape/policies/2007/06/multi-factor".into(),
        amr: "pwd otp mfa".into(),
        dpop_jkt: Some("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I".into()),
        code_hash: code.into(),
        created_at: Timestamp(100),
        expires_at: Timestamp(100 + 86_400),
    }
}

/// Records a grant as the code exchange does: its code (seeded), redeemed.
async fn create(
    s: &dyn Store,
    g: &NewTokenGrant,
    refresh: Option<&NewRefreshToken>,
    audit: &[&NewAuditEvent],
) -> StoreResult<()> {
    let code = super::oidc_grants::code(&g.code_hash, g.login_pk, g.created_at.0);
    s.seed_oidc_codes(&[code]).await?;
    let r = Redemption {
        throttle: None,
        jtis: &[],
        grant: g,
        refresh,
        audit,
    };
    match s.redeem_oidc_code(r).await? {
        Redeemed::Done => Ok(()),
        other => unreachable!("{other:?}"),
    }
}

fn refresh(hash: &str, grant_id: &str, now: i64) -> NewRefreshToken {
    NewRefreshToken {
        token_hash: hash.into(),
        grant_id: grant_id.into(),
        created_at: Timestamp(now),
        expires_at: Timestamp(now + 86_400),
    }
}

pub(crate) async fn refresh_tokens_rotate_once_and_grants_are_revoked(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("ot1"), &ev(1, EventType::LoginCreated, "ot1"))
        .await);
    let pk = login.id;
    let g1 = grant("g1", pk, "skc_a", 7, "c1");
    let r1 = refresh("r1", "g1", 100);
    let issued = ev(100, EventType::OidcTokenIssued, "ot1");
    ok(create(s.as_ref(), &g1, Some(&r1), &[&issued]).await);
    // The audit record is written with the grant.
    let filter = sekisho_core::audit::AuditFilter {
        event_type: Some(EventType::OidcTokenIssued),
        ..Default::default()
    };
    assert_eq!(super::count(&db, filter).await, 1);
    // Read back with its grant.
    let read = ok(s.get_refresh_token("r1").await).unwrap_or_else(|| unreachable!("stored"));
    assert_eq!(read.token, r1);
    assert_eq!(read.used_at, None);
    assert_eq!(read.grant.grant, g1);
    assert_eq!(read.grant.revoked_at, None);
    assert_eq!(ok(s.get_refresh_token("nope").await), None);
    assert_eq!(
        ok(s.get_token_grant("g1").await).map(|g| g.grant),
        Some(g1.clone())
    );

    // Rotated once: racing callers, one winner.
    let store = Arc::clone(s);
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let st = Arc::clone(&store);
            tokio::spawn(async move {
                st.rotate_refresh_token(
                    "r1",
                    &refresh(&format!("r2-{i}"), "g1", 110),
                    Timestamp(110),
                )
                .await
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if ok(ok(t.await)) {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    let used = ok(s.get_refresh_token("r1").await).and_then(|r| r.used_at);
    assert_eq!(used, Some(Timestamp(110)));
    // An expired token is not rotated, nor one named with another grant.
    ok(create(
        s.as_ref(),
        &grant("g2", pk, "skc_a", 8, "c2"),
        Some(&refresh("r3", "g2", 100)),
        &[],
    )
    .await);
    assert!(!ok(s
        .rotate_refresh_token(
            "r3",
            &refresh("r4", "g2", 100 + 86_400),
            Timestamp(100 + 86_400)
        )
        .await));
    assert!(!ok(s
        .rotate_refresh_token("r3", &refresh("r4", "g1", 120), Timestamp(120))
        .await));

    // Revoked by identifier, once; a revoked grant's token is not rotated.
    assert!(ok(s
        .revoke_token_grant("g2", "revoked", Timestamp(130))
        .await));
    assert!(!ok(s
        .revoke_token_grant("g2", "revoked", Timestamp(131))
        .await));
    assert!(!ok(s
        .revoke_token_grant("nope", "revoked", Timestamp(131))
        .await));
    let g = ok(s.get_token_grant("g2").await).unwrap_or_else(|| unreachable!("stored"));
    assert_eq!(g.revoked_at, Some(Timestamp(130)));
    assert_eq!(g.revoked_reason.as_deref(), Some("revoked"));
    assert!(!ok(s
        .rotate_refresh_token("r3", &refresh("r5", "g2", 140), Timestamp(140))
        .await));

    // By the code that made it (a code used twice), once.
    let by_code = ok(s
        .revoke_grants_for_code("c1", "code_reuse", Timestamp(150))
        .await);
    assert_eq!(
        by_code
            .iter()
            .map(|g| g.grant.grant_id.as_str())
            .collect::<Vec<_>>(),
        ["g1"]
    );
    assert_eq!(by_code[0].revoked_at, Some(Timestamp(150)));
    assert!(ok(s
        .revoke_grants_for_code("c1", "code_reuse", Timestamp(151))
        .await)
    .is_empty());

    // By session and by login and client: only the live ones named.
    ok(create(s.as_ref(), &grant("g3", pk, "skc_a", 9, "c3"), None, &[]).await);
    ok(create(s.as_ref(), &grant("g4", pk, "skc_b", 9, "c4"), None, &[]).await);
    ok(create(s.as_ref(), &grant("g5", pk, "skc_b", 10, "c5"), None, &[]).await);
    ok(create(s.as_ref(), &grant("g6", pk, "skc_c", 11, "c6"), None, &[]).await);
    let mut by_session: Vec<String> = ok(s
        .revoke_grants_for_session(9, "logout", Timestamp(160))
        .await)
    .into_iter()
    .map(|g| g.grant.grant_id)
    .collect();
    by_session.sort();
    assert_eq!(by_session, ["g3", "g4"]);
    let by_client: Vec<String> = ok(s
        .revoke_grants_for_client(pk, "skc_b", "consent_withdrawn", Timestamp(170))
        .await)
    .into_iter()
    .map(|g| g.grant.grant_id)
    .collect();
    assert_eq!(by_client, ["g5"]);
    assert!(ok(s
        .revoke_grants_for_client(pk + 1, "skc_c", "x", Timestamp(170))
        .await)
    .is_empty());
    assert_eq!(
        ok(s.get_token_grant("g6").await).and_then(|g| g.revoked_at),
        None
    );

    // Purged once ended.
    assert!(
        ok(s.purge_token_grants(Timestamp(100 + 86_400 + 120), 100)
            .await)
            > 0
    );
    assert_eq!(ok(s.get_token_grant("g6").await), None);
    assert_eq!(ok(s.get_refresh_token("r1").await), None);
}

/// A session that ends takes with it the grants made on it, except `offline_access` ones.
pub(crate) async fn ended_sessions_end_their_grants_but_offline_access(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("mori"), &ev(1, EventType::LoginCreated, "mori"))
        .await);
    let sess = ok(s
        .create_session(
            &super::new_session(login.id, "m", 90),
            &ev(90, EventType::LoginSucceeded, "mori"),
        )
        .await)
    .unwrap_or_else(|| unreachable!());
    let online = NewTokenGrant {
        scope: "openid profile".into(),
        ..grant("g-on", login.id, "skc_a", sess.id, "c-on")
    };
    ok(create(s.as_ref(), &online, None, &[]).await);
    ok(create(
        s.as_ref(),
        &grant("g-off", login.id, "skc_a", sess.id, "c-off"),
        None,
        &[],
    )
    .await);
    assert!(ok(s
        .revoke_session(
            sess.id,
            Timestamp(120),
            &ev(120, EventType::SessionRevoked, "mori")
        )
        .await));
    let on = ok(s.get_token_grant("g-on").await).unwrap_or_else(|| unreachable!());
    assert_eq!(on.revoked_at, Some(Timestamp(120)));
    let off = ok(s.get_token_grant("g-off").await).unwrap_or_else(|| unreachable!());
    assert_eq!(off.revoked_at, None);
}
