//! Conformance cases for OpenID Connect sessions (run on both backends by `on_both!`): every way
//! a session ends queues one back-channel logout per client it signed in to, the outbox is
//! claimed once and retried, delivered ones purged, and consents are given, widened, listed and revoked.

use super::{count, ev, new_login, new_session, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::Timestamp;
use sekisho_store::{Consent, LoginPatch, LogoutQuery, LogoutState, SessionSignIn};

fn sign_in(session_id: i64, login_pk: i64, client: &str, at: i64) -> SessionSignIn {
    SessionSignIn {
        session_id,
        client_id: client.into(),
        login_pk,
        sid: format!("sid-{session_id}"),
        backchannel: client != "skc_n",
        first_at: Timestamp(at),
        last_at: Timestamp(at),
    }
}

pub(crate) async fn ended_sessions_queue_a_logout_per_client(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("kato"), &ev(1, EventType::LoginCreated, "kato"))
        .await);
    let mut ids = Vec::new();
    for (i, h) in ["a", "b", "c"].iter().enumerate() {
        let t = 10 + i as i64;
        let sess = ok(s
            .create_session(
                &new_session(login.id, h, t),
                &ev(t, EventType::LoginSucceeded, "kato"),
            )
            .await)
        .unwrap_or_else(|| unreachable!());
        ids.push(sess.id);
    }
    // Session a signed in to two clients (one of them twice), b to one, c to none.
    ok(s.record_sign_in(&sign_in(ids[0], login.id, "skc_x", 20))
        .await);
    ok(s.record_sign_in(&sign_in(ids[0], login.id, "skc_y", 21))
        .await);
    ok(s.record_sign_in(&sign_in(ids[0], login.id, "skc_x", 25))
        .await);
    ok(s.record_sign_in(&sign_in(ids[1], login.id, "skc_x", 22))
        .await);
    // A client without a back-channel logout URI is not queued.
    ok(s.record_sign_in(&sign_in(ids[1], login.id, "skc_n", 23))
        .await);
    let a = ok(s.session_sign_ins(ids[0]).await);
    assert_eq!(a.len(), 2);
    assert_eq!(
        (a[0].client_id.as_str(), a[0].first_at, a[0].last_at),
        ("skc_x", Timestamp(20), Timestamp(25))
    );
    let by_sid = ok(s
        .sign_in_by_sid(&format!("sid-{}", ids[0]), Some("skc_y"))
        .await);
    assert_eq!(by_sid.map(|x| x.session_id), Some(ids[0]));
    assert!(ok(s.sign_in_by_sid("sid-none", None).await).is_none());

    // One session ends: a logout for each of its clients, none twice when it ends again.
    assert!(ok(s
        .revoke_session(
            ids[0],
            Timestamp(30),
            &ev(30, EventType::SessionRevoked, "kato")
        )
        .await));
    assert!(!ok(s
        .revoke_session(
            ids[0],
            Timestamp(31),
            &ev(31, EventType::SessionRevoked, "kato")
        )
        .await));
    let queued = ok(s.list_logouts(&LogoutQuery::newest(10)).await);
    assert_eq!(queued.len(), 2);
    assert!(queued
        .iter()
        .all(|l| l.state == LogoutState::Pending && l.login_id == "kato"));

    // The password changes keeping session c: session b's client is told.
    ok(s.set_password(
        login.id,
        "hash",
        false,
        Timestamp(40),
        Some(ids[2]),
        &ev(40, EventType::PasswordChanged, "kato"),
    )
    .await);
    assert_eq!(ok(s.list_logouts(&LogoutQuery::newest(10)).await).len(), 3);

    // Claimed once, retried, sent with its audit record.
    let first = ok(s.claim_logout(Timestamp(50), Timestamp(80)).await)
        .unwrap_or_else(|| unreachable!("due"));
    assert_eq!(first.attempts, 1);
    let second = ok(s.claim_logout(Timestamp(50), Timestamp(80)).await)
        .unwrap_or_else(|| unreachable!("due"));
    assert_ne!(first.id, second.id);
    ok(s.logout_retry(first.id, "HTTP 500", Timestamp(70)).await);
    let third = ok(s.claim_logout(Timestamp(50), Timestamp(80)).await)
        .unwrap_or_else(|| unreachable!("due"));
    assert!(ok(s.claim_logout(Timestamp(50), Timestamp(80)).await).is_none());
    // Due again at 70, before the others' leases end.
    let again = ok(s.claim_logout(Timestamp(70), Timestamp(130)).await)
        .unwrap_or_else(|| unreachable!("due again"));
    assert_eq!((again.id, again.attempts), (first.id, 2));
    ok(s.logout_sent(
        again.id,
        Timestamp(101),
        &ev(101, EventType::OidcBackchannelDelivered, "kato"),
    )
    .await);
    ok(s.logout_failed(
        second.id,
        "refused",
        Timestamp(102),
        &ev(102, EventType::OidcBackchannelFailed, "kato"),
    )
    .await);
    ok(s.logout_sent(
        third.id,
        Timestamp(103),
        &ev(103, EventType::OidcBackchannelDelivered, "kato"),
    )
    .await);
    let states: Vec<_> = ok(s.list_logouts(&LogoutQuery::newest(10)).await)
        .into_iter()
        .map(|l| l.state)
        .collect();
    assert_eq!(
        states.iter().filter(|x| **x == LogoutState::Sent).count(),
        2
    );
    assert_eq!(
        states.iter().filter(|x| **x == LogoutState::Failed).count(),
        1
    );
    let delivered = AuditFilter {
        event_type: Some(EventType::OidcBackchannelDelivered),
        ..Default::default()
    };
    assert_eq!(count(&db, delivered).await, 2);

    // Disabling the login ends session c: its client is told too.
    ok(s.record_sign_in(&sign_in(ids[2], login.id, "skc_z", 45))
        .await);
    let patch = LoginPatch {
        disabled: Some(true),
        ..Default::default()
    };
    ok(s.update_login(
        "kato",
        &patch,
        Timestamp(60),
        &ev(60, EventType::LoginUpdated, "kato"),
    )
    .await);
    let z = ok(s.list_logouts(&LogoutQuery::newest(10)).await);
    assert_eq!(z.len(), 4);
    assert_eq!(z[0].client_id, "skc_z");

    // The purge forgets delivered and given-up logouts that ended before the cut, a bounded
    // number at a time; a pending one stays, however old.
    assert_eq!(ok(s.purge_logouts(Timestamp(102), 10).await), 1);
    assert_eq!(ok(s.purge_logouts(Timestamp(1_000), 1).await), 1);
    assert_eq!(ok(s.purge_logouts(Timestamp(1_000), 10).await), 1);
    assert_eq!(ok(s.purge_logouts(Timestamp(1_000), 10).await), 0);
    let left = ok(s.list_logouts(&LogoutQuery::newest(10)).await);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].state, LogoutState::Pending);
}

pub(crate) async fn erasing_and_deleting_queue_logouts(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("ito"), &ev(1, EventType::LoginCreated, "ito"))
        .await);
    let sess = ok(s
        .create_session(
            &new_session(login.id, "e1", 10),
            &ev(10, EventType::LoginSucceeded, "ito"),
        )
        .await)
    .unwrap_or_else(|| unreachable!());
    ok(s.record_sign_in(&sign_in(sess.id, login.id, "skc_x", 11))
        .await);
    ok(s.erase_credentials(
        login.id,
        true,
        false,
        Timestamp(20),
        &ev(20, EventType::CredentialsErased, "ito"),
    )
    .await);
    assert_eq!(ok(s.list_logouts(&LogoutQuery::newest(10)).await).len(), 1);

    let other = ok(s
        .create_session(
            &new_session(login.id, "e2", 30),
            &ev(30, EventType::LoginSucceeded, "ito"),
        )
        .await)
    .unwrap_or_else(|| unreachable!());
    ok(s.record_sign_in(&sign_in(other.id, login.id, "skc_y", 31))
        .await);
    assert_eq!(
        ok(s.revoke_login_sessions(
            login.id,
            Timestamp(32),
            &ev(32, EventType::SessionRevoked, "ito")
        )
        .await),
        1
    );
    let third = ok(s
        .create_session(
            &new_session(login.id, "e3", 40),
            &ev(40, EventType::LoginSucceeded, "ito"),
        )
        .await)
    .unwrap_or_else(|| unreachable!());
    ok(s.record_sign_in(&sign_in(third.id, login.id, "skc_w", 41))
        .await);
    let mut del = ev(50, EventType::LoginDeleted, "ito");
    del.time = Timestamp(50);
    assert!(ok(s.delete_login("ito", &del).await));
    let all = ok(s.list_logouts(&LogoutQuery::newest(10)).await);
    assert_eq!(
        all.iter().map(|l| l.client_id.as_str()).collect::<Vec<_>>(),
        ["skc_w", "skc_y", "skc_x"],
        "a deleted login's clients are still told"
    );
}

/// The console's view of the outbox: narrowed by state and client, newest first, paged by id.
pub(crate) async fn logouts_are_listed_by_state_and_client(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("sato"), &ev(1, EventType::LoginCreated, "sato"))
        .await);
    for (i, client) in ["skc_x", "skc_y", "skc_x"].iter().enumerate() {
        let t = 10 * (i as i64 + 1);
        let sess = ok(s
            .create_session(
                &new_session(login.id, &format!("l{i}"), t),
                &ev(t, EventType::LoginSucceeded, "sato"),
            )
            .await)
        .unwrap_or_else(|| unreachable!());
        ok(s.record_sign_in(&sign_in(sess.id, login.id, client, t + 1))
            .await);
        ok(s.revoke_session(
            sess.id,
            Timestamp(t + 2),
            &ev(t + 2, EventType::SessionRevoked, "sato"),
        )
        .await);
    }
    let oldest = ok(s.claim_logout(Timestamp(100), Timestamp(200)).await)
        .unwrap_or_else(|| unreachable!("due"));
    ok(s.logout_sent(
        oldest.id,
        Timestamp(101),
        &ev(101, EventType::OidcBackchannelDelivered, "sato"),
    )
    .await);
    let list = |state: Option<LogoutState>, client: Option<&str>, before: Option<i64>, limit| {
        let q = LogoutQuery {
            state,
            client_id: client.map(str::to_owned),
            before,
            limit,
        };
        async move { ok(s.list_logouts(&q).await) }
    };
    let clients = |v: &[sekisho_store::OutboxLogout]| {
        v.iter()
            .map(|l| (l.client_id.clone(), l.state))
            .collect::<Vec<_>>()
    };
    let (x, y) = ("skc_x".to_owned(), "skc_y".to_owned());
    use LogoutState::{Pending, Sent};
    assert_eq!(
        clients(&list(None, None, None, 10).await),
        [
            (x.clone(), Pending),
            (y.clone(), Pending),
            (x.clone(), Sent)
        ]
    );
    assert_eq!(
        clients(&list(None, Some("skc_x"), None, 10).await),
        [(x.clone(), Pending), (x.clone(), Sent)]
    );
    assert_eq!(
        clients(&list(Some(Sent), None, None, 10).await),
        [(x.clone(), Sent)]
    );
    assert_eq!(
        clients(&list(Some(Pending), Some("skc_y"), None, 10).await),
        [(y.clone(), Pending)]
    );
    assert!(list(Some(LogoutState::Failed), None, None, 10)
        .await
        .is_empty());
    let first = list(None, None, None, 2).await;
    assert_eq!(first.len(), 2);
    let rest = list(None, None, first.last().map(|l| l.id), 2).await;
    assert_eq!(clients(&rest), [(x, Sent)]);
}

pub(crate) async fn consents_are_given_listed_and_revoked(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(&new_login("mori"), &ev(1, EventType::LoginCreated, "mori"))
        .await);
    let c = |client: &str, scope: &str, at: i64| Consent {
        login_pk: login.id,
        client_id: client.into(),
        scope: scope.into(),
        granted_at: Timestamp(at),
    };
    assert!(ok(s.get_consent(login.id, "skc_p").await).is_none());
    ok(s.give_consent(
        &c("skc_p", "openid", 10),
        &ev(10, EventType::OidcConsentGiven, "mori"),
    )
    .await);
    ok(s.give_consent(
        &c("skc_p", "openid email", 20),
        &ev(20, EventType::OidcConsentGiven, "mori"),
    )
    .await);
    ok(s.give_consent(
        &c("skc_a", "openid", 30),
        &ev(30, EventType::OidcConsentGiven, "mori"),
    )
    .await);
    assert_eq!(
        ok(s.get_consent(login.id, "skc_p").await),
        Some(c("skc_p", "openid email", 20))
    );
    let listed: Vec<_> = ok(s.list_consents(login.id).await)
        .into_iter()
        .map(|x| x.client_id)
        .collect();
    assert_eq!(listed, ["skc_a", "skc_p"]);
    assert!(ok(s
        .revoke_consent(
            login.id,
            "skc_p",
            &ev(40, EventType::OidcConsentRevoked, "mori")
        )
        .await));
    assert!(!ok(s
        .revoke_consent(
            login.id,
            "skc_p",
            &ev(41, EventType::OidcConsentRevoked, "mori")
        )
        .await));
    let revoked = AuditFilter {
        event_type: Some(EventType::OidcConsentRevoked),
        ..Default::default()
    };
    assert_eq!(
        count(&db, revoked).await,
        1,
        "only a real revocation is audited"
    );
    assert!(ok(s.get_consent(login.id, "skc_p").await).is_none());
}
