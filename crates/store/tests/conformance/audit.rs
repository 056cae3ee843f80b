//! Conformance cases for the audit trail (run on both backends by `on_both!`): append-only
//! and filterable.

use super::{count, ev, ok, Db};
use sekisho_core::audit::{Actor, AuditFilter, EventType};
use sekisho_core::Timestamp;

pub(crate) async fn audit_is_append_only_and_filterable(db: Db) {
    let s = &db.store;
    for i in 0..10 {
        let mut e = ev(
            100 * i,
            if i % 2 == 0 {
                EventType::LoginFailed
            } else {
                EventType::LoginSucceeded
            },
            if i < 5 { "a1234" } else { "b1234" },
        );
        if i == 9 {
            e.actor = Actor::ApiToken("3:crm".into());
        }
        ok(s.append_audit(&e).await);
    }
    let f = |f: AuditFilter| AuditFilter { limit: 100, ..f };
    assert_eq!(
        count(
            &db,
            f(AuditFilter {
                login_id: Some("a1234".into()),
                ..Default::default()
            })
        )
        .await,
        5
    );
    assert_eq!(
        count(
            &db,
            f(AuditFilter {
                event_type: Some(EventType::LoginFailed),
                ..Default::default()
            })
        )
        .await,
        5
    );
    assert_eq!(
        count(
            &db,
            f(AuditFilter {
                since: Some(Timestamp(300)),
                until: Some(Timestamp(600)),
                ..Default::default()
            })
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &db,
            f(AuditFilter {
                actor_kind: Some("api_token".into()),
                actor_id: Some("3:crm".into()),
                ..Default::default()
            })
        )
        .await,
        1
    );
    let page1 = ok(s
        .query_audit(&AuditFilter {
            limit: 4,
            ..Default::default()
        })
        .await);
    assert_eq!(page1.len(), 4);
    let last = page1.last().map(|e| e.event_id);
    let page2 = ok(s
        .query_audit(&AuditFilter {
            limit: 4,
            before_id: last,
            ..Default::default()
        })
        .await);
    assert!(page2.iter().all(|e| Some(e.event_id) < last));
    assert_eq!(page2.len(), 4);

    // The database itself refuses to change or remove audit records.
    sqlx::any::install_default_drivers();
    let pool = ok(sqlx::AnyPool::connect(&db.url).await);
    let upd = sqlx::query("UPDATE audit_events SET description = 'x'")
        .execute(&pool)
        .await;
    assert!(upd.is_err(), "UPDATE must be refused");
    let del = sqlx::query("DELETE FROM audit_events").execute(&pool).await;
    assert!(del.is_err(), "DELETE must be refused");
    assert_eq!(count(&db, f(AuditFilter::default())).await, 10);
}
