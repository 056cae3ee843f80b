//! Conformance cases for one-time codes (run on both backends by `on_both!`): each code accepted
//! once under concurrency, failures locking a factor until an unlock, challenges completed once,
//! codes of many factors committed together and durable before the answer.

use super::{count, ev, new_login, new_session, ok, open, pending_totp, Db};
use sekisho_core::audit::{AuditFilter, EventType};
use sekisho_core::Timestamp;
use sekisho_store::testing::sqlite_url;
use sekisho_store::FactorState;
use sekisho_store::StoreError;

pub(crate) async fn otp_codes_are_accepted_once_under_concurrency(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("otpuser1"),
            &ev(1, EventType::LoginCreated, "otpuser1"),
        )
        .await);
    let first = ok(s
        .put_pending_totp(
            &pending_totp(login.id, "u1"),
            &ev(100, EventType::LoginUpdated, "otpuser1"),
        )
        .await);
    // A new enrolment replaces a pending one.
    let f = ok(s
        .put_pending_totp(
            &pending_totp(login.id, "u2"),
            &ev(101, EventType::LoginUpdated, "otpuser1"),
        )
        .await);
    assert_ne!(first.id, f.id);
    assert_eq!(ok(s.otp_factors(login.id).await).len(), 1);
    assert_eq!(f.state, FactorState::Pending);
    assert!(
        ok(s.accept_otp(f.id, 1000, 0, Timestamp(110), true, None)
            .await),
        "confirm"
    );
    let f = ok(s.otp_factors(login.id).await).remove(0);
    assert_eq!(f.state, FactorState::Active);
    assert_eq!(
        (f.last_step, f.confirmed_at, f.expires_at),
        (Some(1000), Some(Timestamp(110)), None)
    );
    // An active TOTP is not replaced by a new enrolment.
    let again = s
        .put_pending_totp(
            &pending_totp(login.id, "u3"),
            &ev(111, EventType::LoginUpdated, "otpuser1"),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)));

    let mut tasks = Vec::new();
    for _ in 0..20 {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move {
            s.accept_otp(
                f.id,
                1001,
                1,
                Timestamp(120),
                false,
                Some(&ev(120, EventType::LoginSucceeded, "otpuser1")),
            )
            .await
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(ok(ok(t.await)));
    }
    assert_eq!(accepted, 1, "the same step is accepted exactly once");
    assert!(
        !ok(s
            .accept_otp(f.id, 1000, 0, Timestamp(121), false, None)
            .await),
        "an earlier step is refused"
    );
    let f = ok(s.otp_factors(login.id).await).remove(0);
    assert_eq!((f.last_step, f.drift), (Some(1001), 1));
    let ok_events = AuditFilter {
        login_id: Some("otpuser1".into()),
        event_type: Some(EventType::LoginSucceeded),
        ..Default::default()
    };
    assert_eq!(
        count(&db, ok_events).await,
        1,
        "audit only for the accepted one"
    );
}

pub(crate) async fn otp_failures_lock_the_factor_until_unlock(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("otpuser2"),
            &ev(1, EventType::LoginCreated, "otpuser2"),
        )
        .await);
    let f = ok(s
        .put_pending_totp(
            &pending_totp(login.id, "v1"),
            &ev(100, EventType::LoginUpdated, "otpuser2"),
        )
        .await);
    ok(s.accept_otp(f.id, 10, 0, Timestamp(100), true, None).await);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move {
            s.fail_otp(
                f.id,
                10,
                Timestamp(200 + i),
                &ev(200, EventType::LoginFailed, "otpuser2"),
                &ev(200, EventType::LoginLocked, "otpuser2"),
            )
            .await
        }));
    }
    let mut newly = 0;
    for t in tasks {
        newly += usize::from(ok(ok(t.await)).newly_locked);
    }
    assert_eq!(newly, 1);
    let f = ok(s.otp_factors(login.id).await).remove(0);
    assert_eq!(f.failed_attempts, 12);
    assert!(f.locked_at.is_some());
    assert!(
        !ok(s.accept_otp(f.id, 11, 0, Timestamp(300), false, None).await),
        "a locked factor accepts nothing"
    );
    assert_eq!(
        ok(s.unlock_login(
            "otpuser2",
            Timestamp(400),
            &ev(400, EventType::LoginUnlocked, "otpuser2")
        )
        .await),
        Some(true)
    );
    let f = ok(s.otp_factors(login.id).await).remove(0);
    assert_eq!((f.failed_attempts, f.locked_at), (0, None));
    assert!(ok(s
        .accept_otp(f.id, 11, 0, Timestamp(401), false, None)
        .await));
    assert!(ok(s
        .delete_otp_factor(f.id, &ev(402, EventType::LoginUpdated, "otpuser2"))
        .await));
    assert!(ok(s.otp_factors(login.id).await).is_empty());
}

pub(crate) async fn challenges_complete_once(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("chal0001"),
            &ev(1, EventType::LoginCreated, "chal0001"),
        )
        .await);
    let id = ok(s
        .create_challenge(
            "ch1",
            login.id,
            &["totp".into()],
            Timestamp(10),
            Timestamp(310),
        )
        .await);
    let c = ok(s.get_challenge("ch1").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        (c.id, c.login_id.as_str(), c.methods.clone()),
        (id, "chal0001", vec!["totp".to_owned()])
    );
    let mut tasks = Vec::new();
    for i in 0..10 {
        let s = db.store.clone();
        let mut n = new_session(login.id, &format!("cs{i}"), 20);
        n.challenge_id = Some(c.id);
        tasks.push(tokio::spawn(async move {
            s.create_session(&n, &ev(20, EventType::LoginSucceeded, "chal0001"))
                .await
        }));
    }
    let mut made = 0;
    for t in tasks {
        made += usize::from(ok(ok(t.await)).is_some());
    }
    assert_eq!(made, 1, "a challenge yields one session");
    assert!(ok(s.get_challenge("ch1").await)
        .and_then(|c| c.completed_at)
        .is_some());
}

/// Many factors accepting codes at once share commits: each gets its own answer, its own step
/// and its own audit record; later codes of one factor in the same burst are judged against the
/// earlier one; the hot-path read sees each login with its active app only.
pub(crate) async fn codes_of_many_factors_commit_together(db: Db) {
    let s = &db.store;
    let mut factors = Vec::new();
    for i in 0..40 {
        let id = format!("burst{i}");
        let login = ok(s
            .create_login(&new_login(&id), &ev(1, EventType::LoginCreated, &id))
            .await);
        let f = ok(s
            .put_pending_totp(
                &pending_totp(login.id, &format!("b{i}")),
                &ev(2, EventType::LoginUpdated, &id),
            )
            .await);
        if i > 0 {
            assert!(ok(s
                .accept_otp(f.id, 10, 0, Timestamp(3), true, None)
                .await));
        }
        factors.push((id, f.id));
    }
    // burst0 stays pending: the hot-path read shows the login without an app.
    let pending = ok(s.code_target("burst0").await).unwrap_or_else(|| unreachable!("burst0"));
    assert!(pending.totp.is_none());
    assert!(!pending.disabled);
    let t = ok(s.code_target("burst7").await).unwrap_or_else(|| unreachable!("burst7"));
    let app = t.totp.unwrap_or_else(|| unreachable!("active app"));
    assert_eq!((app.id, app.last_step), (factors[7].1, Some(10)));
    assert!(ok(s.code_target("nobody").await).is_none());

    // Every active factor gets step 11 twice and step 12 once, all at the same moment.
    let mut tasks = Vec::new();
    for (id, fid) in factors.iter().skip(1).cloned() {
        for step in [11, 11, 12] {
            let (s, id) = (db.store.clone(), id.clone());
            tasks.push(tokio::spawn(async move {
                let audit = ev(20, EventType::OtpValidated, &id);
                let taken = s
                    .accept_otp(fid, step, 0, Timestamp(20), false, Some(&audit))
                    .await;
                (fid, step, taken)
            }));
        }
    }
    let mut per_factor: std::collections::HashMap<i64, Vec<(i64, bool)>> = Default::default();
    for t in tasks {
        let (fid, step, taken) = ok(t.await);
        per_factor.entry(fid).or_default().push((step, ok(taken)));
    }
    for (fid, outcomes) in &per_factor {
        let elevens = outcomes.iter().filter(|(st, ok)| *st == 11 && *ok).count();
        let twelve = outcomes.iter().any(|(st, ok)| *st == 12 && *ok);
        // Step 11 at most once (not at all if 12 came first); 12, the latest, always.
        assert!(
            elevens <= 1,
            "factor {fid}: step 11 accepted {elevens} times"
        );
        assert!(twelve, "factor {fid}: the latest step is accepted");
    }
    let validated = AuditFilter {
        event_type: Some(EventType::OtpValidated),
        ..Default::default()
    };
    let accepted: usize = per_factor
        .values()
        .map(|o| o.iter().filter(|(_, ok)| *ok).count())
        .sum();
    assert_eq!(
        count(&db, validated).await,
        accepted,
        "one record per accepted code"
    );
    let t = ok(s.code_target("burst7").await).unwrap_or_else(|| unreachable!("burst7"));
    assert_eq!(t.totp.and_then(|f| f.last_step), Some(12));
}

/// An accepted code is recorded before `accept_otp` returns: another store opened on the same
/// database (a second instance, or this one restarted) refuses it. On SQLite the files are also
/// copied as they are at that moment, while the first store is still open, which is what a crash
/// of the process right after the answer leaves on disk; the copy refuses the code too and keeps
/// its audit record.
pub(crate) async fn accepted_codes_are_durable_before_the_answer(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("durable1"),
            &ev(1, EventType::LoginCreated, "durable1"),
        )
        .await);
    let f = ok(s
        .put_pending_totp(
            &pending_totp(login.id, "d1"),
            &ev(2, EventType::LoginUpdated, "durable1"),
        )
        .await);
    assert!(ok(s
        .accept_otp(f.id, 10, 0, Timestamp(3), true, None)
        .await));
    let audit = ev(30, EventType::OtpValidated, "durable1");
    assert!(ok(s
        .accept_otp(f.id, 11, 0, Timestamp(30), false, Some(&audit))
        .await));

    let mut others = vec![open(db.url.clone(), None).await];
    let copy = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    if let Some(file) = db
        .url
        .strip_prefix("sqlite://")
        .and_then(|r| r.split('?').next())
    {
        for suffix in ["", "-wal"] {
            let from = format!("{file}{suffix}");
            let to = copy.path().join(format!("sekisho.db{suffix}"));
            ok(std::fs::copy(&from, &to));
        }
        others.push(open(sqlite_url(copy.path()), None).await);
    }
    for other in &others {
        let t = ok(other.store.code_target("durable1").await)
            .unwrap_or_else(|| unreachable!("durable1"));
        assert_eq!(t.totp.and_then(|f| f.last_step), Some(11));
        assert!(
            !ok(other
                .store
                .accept_otp(f.id, 11, 0, Timestamp(31), false, None)
                .await),
            "the same code again"
        );
        let validated = AuditFilter {
            event_type: Some(EventType::OtpValidated),
            ..Default::default()
        };
        assert_eq!(count(other, validated).await, 1);
    }
}
