//! The firm-wide reads of the audit trail that migration 0024 serves: a time range without a
//! login (read by ID between the range's first and last IDs) and one operator's actions (a
//! partial index). They answer the same records, in ID order, as a plain filter would, also
//! when times and IDs disagree (instances' clocks differ a little).

use super::{ev, ok, Db};
use sekisho_core::audit::{Actor, AuditFilter, EventType};
use sekisho_core::Timestamp;

async fn ids(db: &Db, f: AuditFilter) -> Vec<i64> {
    let f = AuditFilter {
        limit: if f.limit == 0 { 100 } else { f.limit },
        ..f
    };
    ok(db.store.query_audit(&f).await)
        .iter()
        .map(|e| e.event_id)
        .collect()
}

pub(crate) async fn time_ranges_and_operators_read_by_their_indexes(db: Db) {
    let s = &db.store;
    // Times out of ID order at IDs 3 and 5; actors: operators ops1 / ops2, the customer.
    let times = [100, 300, 200, 400, 250, 500, 350];
    let mut stored = Vec::new();
    for (i, t) in times.iter().enumerate() {
        let mut e = ev(*t, EventType::LoginSucceeded, &format!("c{i}"));
        e.actor = match i % 3 {
            0 => Actor::Operator("ops1".into()),
            1 => Actor::SelfService,
            _ => Actor::Operator("ops2".into()),
        };
        ok(s.append_audit(&e).await);
        stored.push(*t);
    }
    let all = ids(&db, AuditFilter::default()).await;
    assert_eq!(all.len(), 7);
    let id = |k: usize| all[all.len() - 1 - k];
    let range = |since: Option<i64>, until: Option<i64>| AuditFilter {
        since: since.map(Timestamp),
        until: until.map(Timestamp),
        ..Default::default()
    };

    // [200, 400): records 1 (300), 2 (200), 4 (250), 6 (350), newest ID first.
    let want = vec![id(6), id(4), id(2), id(1)];
    assert_eq!(ids(&db, range(Some(200), Some(400))).await, want);
    assert_eq!(ids(&db, range(Some(400), None)).await, vec![id(5), id(3)]);
    assert_eq!(ids(&db, range(None, Some(200))).await, vec![id(0)]);
    assert!(ids(&db, range(Some(600), Some(700))).await.is_empty());
    // Paged by ID within the range.
    let page = AuditFilter {
        limit: 2,
        ..range(Some(200), Some(400))
    };
    assert_eq!(ids(&db, page.clone()).await, vec![id(6), id(4)]);
    let next = AuditFilter {
        before_id: Some(id(4)),
        ..page
    };
    assert_eq!(ids(&db, next).await, vec![id(2), id(1)]);
    // With a login the range is read through the login's index, with the same answer.
    let one = AuditFilter {
        login_id: Some("c4".into()),
        ..range(Some(200), Some(400))
    };
    assert_eq!(ids(&db, one).await, vec![id(4)]);

    // One operator's actions, and every operator's; the customer's by parameter as before.
    let actor = |kind: &str, name: Option<&str>| AuditFilter {
        actor_kind: Some(kind.into()),
        actor_id: name.map(str::to_owned),
        ..Default::default()
    };
    assert_eq!(
        ids(&db, actor("operator", Some("ops1"))).await,
        vec![id(6), id(3), id(0)]
    );
    assert_eq!(ids(&db, actor("operator", None)).await.len(), 5);
    assert_eq!(ids(&db, actor("self", None)).await, vec![id(4), id(1)]);
    let both = AuditFilter {
        actor_kind: Some("operator".into()),
        actor_id: Some("ops2".into()),
        ..range(Some(200), Some(400))
    };
    assert_eq!(ids(&db, both).await, vec![id(2)]);
    assert_eq!(stored.len(), 7);
}
