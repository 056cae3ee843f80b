//! Conformance cases for mail and e-mail codes (run on both backends by `on_both!`): the outbox
//! claimed, retried and given up; e-mail code challenges counting failures and re-issued once;
//! changes of the code address confirmed once.

use super::{count, ev, new_login, ok, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::Timestamp;
use sekisho_store::{IssuedCode, MailState, NewMail, PendingAddress};

fn mail(uid: &str, login: Option<&str>, now: i64) -> NewMail {
    NewMail {
        uid: uid.into(),
        login_id: login.map(str::to_owned),
        recipient: "t@example.co.jp".into(),
        kind: "test".into(),
        subject: "s".into(),
        body_enc: "k1:sealed".into(),
        now: Timestamp(now),
    }
}

pub(crate) async fn mail_outbox_claims_retries_and_failures(db: Db) {
    let s = &db.store;
    ok(s.enqueue_mail(&mail("m1", None, 100)).await);
    ok(s.enqueue_mail(&mail("m2", None, 100)).await);
    // Not yet due.
    assert!(ok(s.claim_mail(Timestamp(99), Timestamp(200)).await).is_none());
    // Two concurrent senders never take the same mail.
    let (a, b) = tokio::join!(
        s.claim_mail(Timestamp(100), Timestamp(200)),
        s.claim_mail(Timestamp(100), Timestamp(200))
    );
    let (a, b) = (ok(a), ok(b));
    if let (Some(a), Some(b)) = (&a, &b) {
        assert_ne!(a.uid, b.uid);
    }
    let first = a.or(b).unwrap_or_else(|| unreachable!("a mail was due"));
    assert_eq!(first.attempts, 1);
    // Leased: not taken again before the lease ends.
    ok(s.mail_retry(first.id, "connection refused", Timestamp(160))
        .await);
    let other = ok(s.claim_mail(Timestamp(150), Timestamp(250)).await);
    assert!(other.as_ref().is_none_or(|m| m.uid != first.uid));
    let again = ok(s.claim_mail(Timestamp(160), Timestamp(300)).await)
        .filter(|m| m.uid == first.uid)
        .or(ok(s.claim_mail(Timestamp(160), Timestamp(300)).await))
        .unwrap_or_else(|| unreachable!("due again after the backoff"));
    assert_eq!(again.uid, first.uid);
    assert_eq!(again.attempts, 2);
    assert_eq!(again.last_error.as_deref(), Some("connection refused"));
    let audit = ev(170, EventType::MailFailed, "tanaka");
    ok(s.mail_failed(again.id, "gave up", Timestamp(170), &audit)
        .await);
    let failed = ok(s.list_mail(Some(MailState::Failed), 10).await);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].failed_at, Some(Timestamp(170)));
    assert_eq!(
        count(
            &db,
            AuditFilter {
                event_type: Some(EventType::MailFailed),
                ..Default::default()
            }
        )
        .await,
        1
    );
    // A failed mail is never claimed again; a sent one loses its body.
    let rest = ok(s.list_mail(Some(MailState::Pending), 10).await);
    for m in rest {
        ok(s.mail_sent(m.id, Timestamp(180)).await);
    }
    assert!(ok(s.claim_mail(Timestamp(10_000), Timestamp(10_100)).await).is_none());
    let sent = ok(s.list_mail(Some(MailState::Sent), 10).await);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body_enc, "");
}

pub(crate) async fn email_code_challenges_count_failures_and_reissue_once(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("tanaka"),
            &ev(1_000, EventType::LoginCreated, "tanaka"),
        )
        .await);
    let code = IssuedCode {
        hash: "h1".into(),
        expires_at: Timestamp(1_300),
        fail_limit: 5,
        now: Timestamp(1_000),
    };
    let id = ok(s
        .create_code_challenge(
            "ch1",
            login.id,
            &["email".to_owned()],
            Timestamp(1_900),
            &code,
            &mail("c1", Some("tanaka"), 1_000),
            &ev(1_000, EventType::EmailCodeSent, "tanaka"),
        )
        .await);
    let ch = ok(s.get_challenge("ch1").await).unwrap_or_else(|| unreachable!("stored"));
    assert_eq!(ch.code_hash.as_deref(), Some("h1"));
    let st = ch.code.unwrap_or_else(|| unreachable!("code state"));
    assert_eq!((st.failures, st.fail_limit, st.sends), (0, 5, 1));
    assert_eq!(
        ok(s.list_mail(Some(MailState::Pending), 10).await).len(),
        1,
        "mail with the challenge"
    );
    for n in 1..=3 {
        assert_eq!(
            ok(
                s.fail_email_code(id, &ev(1_010, EventType::SecondFactorFailed, "tanaka"))
                    .await
            ),
            n
        );
    }
    // Two concurrent re-issues: exactly one wins; the failure count is kept.
    let next = IssuedCode {
        hash: "h2".into(),
        expires_at: Timestamp(2_400),
        fail_limit: 8,
        now: Timestamp(2_100),
    };
    let other = IssuedCode {
        hash: "h3".into(),
        ..next.clone()
    };
    let (m2, m3) = (
        mail("c2", Some("tanaka"), 2_100),
        mail("c3", Some("tanaka"), 2_100),
    );
    let (e2, e3) = (
        ev(2_100, EventType::EmailCodeSent, "tanaka"),
        ev(2_100, EventType::EmailCodeSent, "tanaka"),
    );
    let (a, b) = tokio::join!(
        s.reissue_email_code(id, 1, &next, &m2, &e2),
        s.reissue_email_code(id, 1, &other, &m3, &e3)
    );
    assert!(ok(a) ^ ok(b), "exactly one re-issue");
    let ch = ok(s.get_challenge("ch1").await).unwrap_or_else(|| unreachable!("stored"));
    let st = ch.code.unwrap_or_else(|| unreachable!("code state"));
    assert_eq!((st.failures, st.fail_limit, st.sends), (3, 8, 2));
    assert_eq!(st.sent_at, Timestamp(2_100));
    assert_eq!(
        ch.expires_at,
        Timestamp(2_400),
        "the challenge lives as long as the new code"
    );
    assert_eq!(
        ok(s.list_mail(Some(MailState::Pending), 10).await).len(),
        2,
        "one mail per code sent"
    );
    assert_eq!(
        count(
            &db,
            AuditFilter {
                event_type: Some(EventType::EmailCodeSent),
                ..Default::default()
            }
        )
        .await,
        2
    );
}

pub(crate) async fn code_address_changes_confirm_once(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("kimura"),
            &ev(1_000, EventType::LoginCreated, "kimura"),
        )
        .await);
    let pending = PendingAddress {
        address: "k@example.org".into(),
        code_hash: "a1".into(),
        failures: 0,
        created_at: Timestamp(1_000),
        expires_at: Timestamp(1_300),
    };
    let requested = ev(1_000, EventType::CodeAddressRequested, "kimura");
    let m = mail("a1", Some("kimura"), 1_000);
    ok(s.request_code_address(login.id, &pending, &m, &requested)
        .await);
    // A second request replaces the first.
    let newer = PendingAddress {
        code_hash: "a2".into(),
        ..pending.clone()
    };
    let m = mail("a2", Some("kimura"), 1_000);
    ok(s.request_code_address(login.id, &newer, &m, &requested)
        .await);
    let p = ok(s.pending_code_address(login.id).await).unwrap_or_else(|| unreachable!("pending"));
    assert_eq!(p.code_hash, "a2");
    let failed = ev(1_010, EventType::CodeAddressConfirmationFailed, "kimura");
    assert_eq!(ok(s.fail_code_address(login.id, &failed).await), 1);
    let changed = ev(1_020, EventType::CodeAddressChanged, "kimura");
    let notice = [mail("n1", Some("kimura"), 1_020)];
    let now = Timestamp(1_020);
    assert_eq!(
        ok(
            s.confirm_code_address(login.id, "a1", 5, now, &notice, &changed)
                .await
        ),
        None,
        "the replaced code no longer confirms"
    );
    assert_eq!(
        ok(
            s.confirm_code_address(login.id, "a2", 1, now, &notice, &changed)
                .await
        ),
        None,
        "worn out by wrong codes"
    );
    assert_eq!(
        ok(
            s.confirm_code_address(login.id, "a2", 5, Timestamp(1_300), &notice, &changed)
                .await
        ),
        None,
        "expired"
    );
    let (a, b) = tokio::join!(
        s.confirm_code_address(login.id, "a2", 5, now, &notice, &changed),
        s.confirm_code_address(login.id, "a2", 5, now, &notice, &changed)
    );
    assert!(ok(a).is_some() ^ ok(b).is_some(), "confirmed once");
    let l = ok(s.get_login("kimura").await).unwrap_or_else(|| unreachable!("login"));
    assert_eq!(l.code_email.as_deref(), Some("k@example.org"));
    assert_eq!(ok(s.pending_code_address(login.id).await), None);
    assert_eq!(ok(s.list_mail(Some(MailState::Pending), 10).await).len(), 3);
    let removed = [mail("n2", Some("kimura"), 1_030)];
    assert!(ok(s
        .clear_code_address(login.id, now, &removed, &changed)
        .await));
    assert!(!ok(s
        .clear_code_address(login.id, now, &[], &changed)
        .await));
    let l = ok(s.get_login("kimura").await).unwrap_or_else(|| unreachable!("login"));
    assert_eq!(l.code_email, None);
    assert_eq!(
        count(
            &db,
            AuditFilter {
                event_type: Some(EventType::CodeAddressChanged),
                ..Default::default()
            }
        )
        .await,
        2
    );
}
