//! Conformance cases for API tokens (run on both backends by `on_both!`): stored by hash,
//! found while active, listed and revoked with their audit records.

use super::{count, ok, Db};
use sekisho_core::audit::{Actor, AuditFilter, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::token::ApiScope;
use sekisho_core::Timestamp;

pub(crate) async fn api_tokens(db: Db) {
    let s = &db.store;
    let e = NewAuditEvent::new(
        Timestamp(1),
        EventType::ApiTokenCreated,
        None,
        Actor::System,
        &ClientInfo::default(),
        "created",
    );
    let t = ok(s
        .create_api_token("crm", ApiScope::Admin, "th1", Timestamp(1), &e)
        .await);
    ok(
        s.create_api_token("web", ApiScope::Validate, "th2", Timestamp(2), &e)
            .await,
    );
    assert_eq!(
        ok(s.find_api_token("th1").await).map(|x| x.scope.as_str()),
        Some("admin")
    );
    assert!(ok(s.find_api_token("nope").await).is_none());
    assert_eq!(ok(s.list_api_tokens().await).len(), 2);
    let r = NewAuditEvent::new(
        Timestamp(3),
        EventType::ApiTokenRevoked,
        None,
        Actor::System,
        &ClientInfo::default(),
        "revoked",
    );
    assert_eq!(
        ok(s.revoke_api_token(t.id, Timestamp(3), &r).await),
        Some(true)
    );
    assert_eq!(
        ok(s.revoke_api_token(t.id, Timestamp(4), &r).await),
        Some(false)
    );
    assert_eq!(ok(s.revoke_api_token(9999, Timestamp(4), &r).await), None);
    assert!(
        ok(s.find_api_token("th1").await).is_none(),
        "revoked tokens are not found"
    );
    let f = AuditFilter {
        event_type: Some(EventType::ApiTokenRevoked),
        ..Default::default()
    };
    assert_eq!(count(&db, f).await, 1);
}
