//! Conformance cases for the throttle's buckets (issue 16 item 2), run on both backends by
//! `on_both!`: the GCRA statement, shared by two instances, exact under concurrency, and its
//! read-only peek; the growing delay's hold; the purge; the timed lock's lift.

use super::{ev, new_login, ok, open, Db};
use sekisho_core::audit::EventType;
use sekisho_core::throttle::{gcra, Rate};
use sekisho_core::Timestamp;

const RATE: Rate = Rate {
    per_minute: 6,
    burst: 3,
};

async fn check(db: &Db, bucket: &str, now_ms: i64) -> bool {
    ok(db
        .store
        .throttle(bucket, now_ms, RATE.interval_ms(), RATE.tolerance_ms())
        .await)
    .allowed
}

pub(crate) async fn throttle_buckets_follow_gcra_and_are_shared(db: Db) {
    let other = open(db.url.clone(), None).await;
    // The burst of 3 at once, split between two instances.
    assert!(check(&db, "ip:192.0.2.1", 100_000).await);
    assert!(check(&other, "ip:192.0.2.1", 100_000).await);
    assert!(check(&db, "ip:192.0.2.1", 100_000).await);
    let refused = ok(db
        .store
        .throttle(
            "ip:192.0.2.1",
            100_000,
            RATE.interval_ms(),
            RATE.tolerance_ms(),
        )
        .await);
    assert!(!refused.allowed);
    // A peek answers the same, from either instance, and counts nothing.
    for _ in 0..3 {
        let peeked = ok(other
            .store
            .throttle_peek("ip:192.0.2.1", 100_000, RATE.tolerance_ms())
            .await);
        assert_eq!(peeked, refused);
    }
    let fresh = ok(db
        .store
        .throttle_peek("ip:192.0.2.9", 100_000, RATE.tolerance_ms())
        .await);
    assert!(fresh.allowed && fresh.retry_after_ms == 0);
    // The core rule says the same: one interval (10 s) after the first arrival time.
    let mut tat = None;
    for _ in 0..3 {
        tat = Some(gcra(tat, 0, 100_000, RATE).tat_ms);
    }
    assert_eq!(
        refused.retry_after_ms,
        gcra(tat, 0, 100_000, RATE).retry_after_ms
    );
    assert_eq!(refused.retry_after_ms, 10_000);
    // Another key is independent.
    assert!(check(&other, "login:tanaka", 100_000).await);
    // Refusals do not deepen the debt: 10 s later exactly one more.
    assert!(!check(&other, "ip:192.0.2.1", 109_999).await);
    assert!(check(&other, "ip:192.0.2.1", 110_000).await);
    assert!(!check(&db, "ip:192.0.2.1", 110_000).await);
    // A long pause refills the bucket to its burst, no more.
    let mut n = 0;
    for _ in 0..10 {
        if check(&db, "ip:192.0.2.1", 1_000_000).await {
            n += 1;
        }
    }
    assert_eq!(n, 3);
}

pub(crate) async fn parallel_checks_let_exactly_the_burst_through(db: Db) {
    let other = open(db.url.clone(), None).await;
    let burst = Rate {
        per_minute: 1,
        burst: 7,
    };
    let mut joins = Vec::new();
    for i in 0..40 {
        let st = if i % 2 == 0 {
            db.store.clone()
        } else {
            other.store.clone()
        };
        joins.push(tokio::spawn(async move {
            st.throttle(
                "login:race",
                5_000_000,
                burst.interval_ms(),
                burst.tolerance_ms(),
            )
            .await
        }));
    }
    let mut through = 0;
    for j in joins {
        if ok(ok(j.await)).allowed {
            through += 1;
        }
    }
    assert_eq!(through, 7);
}

pub(crate) async fn holds_refuse_until_they_end_and_never_shorten(db: Db) {
    let s = &db.store;
    ok(s.throttle_hold("login:sato", 50_000).await);
    // A shorter hold does not shorten it.
    ok(s.throttle_hold("login:sato", 20_000).await);
    let a = ok(s
        .throttle(
            "login:sato",
            30_000,
            RATE.interval_ms(),
            RATE.tolerance_ms(),
        )
        .await);
    assert!(!a.allowed);
    assert_eq!(a.retry_after_ms, 20_000);
    let peeked = ok(s
        .throttle_peek("login:sato", 30_000, RATE.tolerance_ms())
        .await);
    assert_eq!(peeked, a, "a peek sees the hold");
    assert!(check(&db, "login:sato", 50_000).await);
    // Consecutive failures are counted exactly, by two instances, and forgiven at once.
    let other = open(db.url.clone(), None).await;
    let (a, b) = tokio::join!(
        s.throttle_fail("login:sato"),
        other.store.throttle_fail("login:sato")
    );
    let mut got = [ok(a), ok(b)];
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
    assert_eq!(ok(s.throttle_fail("login:sato").await), 3);
    ok(s.throttle_hold("login:sato", 70_000).await);
    ok(other.store.throttle_forgive("login:sato").await);
    assert_eq!(ok(s.throttle_fail("login:sato").await), 1);
    assert!(
        check(&db, "login:sato", 60_000).await,
        "the hold was forgiven"
    );
    // Purge: a full bucket whose last hold ended over a day ago goes (with its count); a live
    // bucket and a held one stay.
    let day = 86_400_000;
    assert!(check(&db, "ip:old", 100_000).await);
    ok(s.throttle_hold("login:held", 3 * day).await);
    assert!(check(&db, "ip:live", 2 * day).await);
    let purged = ok(s.purge_throttle(2 * day, day).await);
    assert_eq!(purged, 2, "ip:old and login:sato");
    assert_eq!(ok(s.throttle_fail("login:sato").await), 1);
    assert!(!check(&db, "login:held", 2 * day).await);
    // The live bucket kept its count (burst 3: two more, then refused).
    assert!(check(&db, "ip:live", 2 * day).await);
    assert!(check(&db, "ip:live", 2 * day).await);
    assert!(!check(&db, "ip:live", 2 * day).await);
}

pub(crate) async fn a_timed_lock_lifts_once_and_only_when_due(db: Db) {
    let s = &db.store;
    let l = ok(s
        .create_login(
            &new_login("suzuki"),
            &ev(1_000, EventType::LoginCreated, "suzuki"),
        )
        .await);
    for t in 0..3 {
        ok(s.record_password_failure(
            l.id,
            3,
            Timestamp(2_000 + t),
            &ev(2_000, EventType::LoginFailed, "suzuki"),
            &ev(2_000, EventType::LoginLocked, "suzuki"),
        )
        .await);
    }
    let locked = ok(s.get_login("suzuki").await).map(|l| l.locked_at);
    assert_eq!(locked, Some(Some(Timestamp(2_002))));
    // Not due: a lock set after the cut-off stays.
    let lift = ev(3_000, EventType::LoginUnlocked, "suzuki");
    assert!(!ok(s
        .lift_password_lock(l.id, Timestamp(2_001), Timestamp(3_000), &lift)
        .await));
    // Due: lifted once, by one of two instances, with one audit record.
    let other = open(db.url.clone(), None).await;
    let (a, b) = tokio::join!(
        s.lift_password_lock(l.id, Timestamp(2_002), Timestamp(3_000), &lift),
        other
            .store
            .lift_password_lock(l.id, Timestamp(2_002), Timestamp(3_000), &lift)
    );
    assert_eq!(u8::from(ok(a)) + u8::from(ok(b)), 1);
    let after = ok(s.get_login("suzuki").await);
    assert_eq!(
        after.map(|l| (l.failed_logins, l.locked_at)),
        Some((0, None))
    );
    let unlocks = super::count(
        &db,
        sekisho_core::audit::AuditFilter {
            login_id: Some("suzuki".into()),
            event_type: Some(EventType::LoginUnlocked),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(unlocks, 1);
}
