//! Conformance cases for OpenID Connect clients (run on both backends by `on_both!`).

use super::{count, ok, Db};
use sekisho_core::audit::{Actor, AuditFilter, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::Timestamp;
use sekisho_store::{ClientRecord, StoreError};

fn ev(t: i64, ty: EventType, what: &str) -> NewAuditEvent {
    NewAuditEvent::new(
        Timestamp(t),
        ty,
        None,
        Actor::Operator("ops1".into()),
        &ClientInfo::default(),
        what,
    )
}

fn record(id: &str, secret_hash: Option<&str>) -> ClientRecord {
    ClientRecord {
        client_id: id.into(),
        client_name: "トレードWeb".into(),
        profile: "basic".into(),
        token_endpoint_auth_method: "client_secret_basic".into(),
        first_party: true,
        metadata: r#"{"client_name":"トレードWeb"}"#.into(),
        secret_hash: secret_hash.map(str::to_owned),
    }
}

async fn audited(db: &Db, ty: EventType) -> usize {
    count(
        db,
        AuditFilter {
            event_type: Some(ty),
            ..AuditFilter::default()
        },
    )
    .await
}

pub(crate) async fn oidc_clients_round_trip_with_audit(db: Db) {
    let s = &db.store;
    let c = ok(s
        .create_oidc_client(
            &record("skc_a", Some("h1")),
            Timestamp(100),
            &ev(100, EventType::OidcClientCreated, "skc_a"),
        )
        .await);
    assert_eq!(c.record, record("skc_a", Some("h1")));
    assert!(!c.disabled);
    assert_eq!(
        (c.created_at, c.updated_at),
        (Timestamp(100), Timestamp(100))
    );
    // A client ID is registered once.
    let again = s
        .create_oidc_client(
            &record("skc_a", None),
            Timestamp(101),
            &ev(101, EventType::OidcClientCreated, "skc_a"),
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    assert_eq!(audited(&db, EventType::OidcClientCreated).await, 1);
    ok(s.create_oidc_client(
        &record("skc_b", None),
        Timestamp(102),
        &ev(102, EventType::OidcClientCreated, "skc_b"),
    )
    .await);
    let all = ok(s.list_oidc_clients().await);
    assert_eq!(
        all.iter()
            .map(|c| c.record.client_id.as_str())
            .collect::<Vec<_>>(),
        ["skc_a", "skc_b"]
    );
    assert_eq!(ok(s.get_oidc_client("skc_a").await), Some(c.clone()));
    assert_eq!(ok(s.get_oidc_client("nope").await), None);

    // Replacing the registration keeps the state and the creation time.
    let mut changed = record("skc_a", None);
    changed.client_name = "Trade Web".into();
    changed.token_endpoint_auth_method = "private_key_jwt".into();
    changed.profile = "fapi2".into();
    changed.first_party = false;
    let up = ok(s
        .update_oidc_client(
            &changed,
            Timestamp(110),
            &ev(110, EventType::OidcClientUpdated, "skc_a"),
        )
        .await)
    .unwrap_or_else(|| unreachable!("no client"));
    assert_eq!(up.record, changed);
    assert_eq!(
        (up.created_at, up.updated_at),
        (Timestamp(100), Timestamp(110))
    );
    let none = ok(s
        .update_oidc_client(
            &record("nope", None),
            Timestamp(111),
            &ev(111, EventType::OidcClientUpdated, "nope"),
        )
        .await);
    assert_eq!(none, None);
    assert_eq!(audited(&db, EventType::OidcClientUpdated).await, 1);

    // A secret is replaced only where there is one.
    let rotated = ev(120, EventType::OidcClientSecretRotated, "skc");
    assert!(!ok(s
        .set_oidc_client_secret("skc_a", "h2", Timestamp(120), &rotated)
        .await));
    ok(s.update_oidc_client(
        &record("skc_a", Some("h1")),
        Timestamp(121),
        &ev(121, EventType::OidcClientUpdated, "skc_a"),
    )
    .await);
    assert!(ok(s
        .set_oidc_client_secret("skc_a", "h2", Timestamp(122), &rotated)
        .await));
    assert!(!ok(s
        .set_oidc_client_secret("nope", "h2", Timestamp(122), &rotated)
        .await));
    let read = ok(s.get_oidc_client("skc_a").await).unwrap_or_else(|| unreachable!("no client"));
    assert_eq!(read.record.secret_hash.as_deref(), Some("h2"));
    assert_eq!(audited(&db, EventType::OidcClientSecretRotated).await, 1);

    // Disabling changes the state once; the record is written only then.
    let off = ev(130, EventType::OidcClientDisabled, "skc_a");
    assert_eq!(
        ok(
            s.set_oidc_client_disabled("skc_a", true, Timestamp(130), &off)
                .await
        ),
        Some(true)
    );
    assert_eq!(
        ok(
            s.set_oidc_client_disabled("skc_a", true, Timestamp(131), &off)
                .await
        ),
        Some(false)
    );
    assert_eq!(
        ok(
            s.set_oidc_client_disabled("nope", true, Timestamp(131), &off)
                .await
        ),
        None
    );
    assert_eq!(audited(&db, EventType::OidcClientDisabled).await, 1);
    let read = ok(s.get_oidc_client("skc_a").await).unwrap_or_else(|| unreachable!("no client"));
    assert!(read.disabled);
    assert_eq!(read.updated_at, Timestamp(130));
    let on = ev(132, EventType::OidcClientEnabled, "skc_a");
    assert_eq!(
        ok(
            s.set_oidc_client_disabled("skc_a", false, Timestamp(132), &on)
                .await
        ),
        Some(true)
    );

    // Deleted once.
    let gone = ev(140, EventType::OidcClientDeleted, "skc_a");
    assert!(ok(s.delete_oidc_client("skc_a", &gone).await));
    assert!(!ok(s.delete_oidc_client("skc_a", &gone).await));
    assert_eq!(ok(s.get_oidc_client("skc_a").await), None);
    assert_eq!(audited(&db, EventType::OidcClientDeleted).await, 1);
    assert_eq!(ok(s.list_oidc_clients().await).len(), 1);
}
