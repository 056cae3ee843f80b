//! Conformance cases for trusted devices (run on both backends by `on_both!`): used only while
//! valid, revoked one by one or all at once.

use super::{ev, new_login, ok, Db};
use sekisho_core::audit::EventType;
use sekisho_core::Timestamp;
use sekisho_store::NewDevice;

pub(crate) async fn devices_are_used_only_while_valid(db: Db) {
    let s = &db.store;
    let a = ok(s
        .create_login(
            &new_login("abe"),
            &ev(1_000, EventType::LoginCreated, "abe"),
        )
        .await);
    let b = ok(s
        .create_login(
            &new_login("baba"),
            &ev(1_000, EventType::LoginCreated, "baba"),
        )
        .await);
    let new = |uid: &str, login_pk: i64| NewDevice {
        uid: uid.into(),
        token_hash: format!("hash-{uid}"),
        login_pk,
        method: "email".into(),
        label: "Chrome on Windows".into(),
        now: Timestamp(1_000),
        expires_at: Timestamp(2_000),
    };
    let remembered = ev(1_000, EventType::DeviceRemembered, "abe");
    let d1 = ok(s.create_device(&new("d1", a.id), &remembered).await);
    let d2 = ok(s.create_device(&new("d2", a.id), &remembered).await);
    ok(s.create_device(&new("d3", b.id), &remembered).await);
    let found = ok(s.find_device("hash-d1").await).unwrap_or_else(|| unreachable!("found"));
    assert_eq!(found, d1);
    assert!(ok(s.use_device(d1.id, a.id, Timestamp(1_500)).await));
    assert!(
        !ok(s.use_device(d1.id, b.id, Timestamp(1_500)).await),
        "another login's"
    );
    assert!(
        !ok(s.use_device(d1.id, a.id, Timestamp(2_000)).await),
        "expired"
    );
    assert_eq!(ok(s.list_devices(a.id, Timestamp(1_500)).await).len(), 2);
    assert_eq!(ok(s.list_devices(a.id, Timestamp(2_000)).await).len(), 0);
    let revoked = ev(1_600, EventType::DeviceRevoked, "abe");
    assert!(ok(s
        .revoke_device(a.id, "d2", Timestamp(1_600), &revoked)
        .await));
    assert!(!ok(s
        .revoke_device(a.id, "d2", Timestamp(1_600), &revoked)
        .await));
    assert!(
        !ok(s
            .revoke_device(a.id, "d3", Timestamp(1_600), &revoked)
            .await),
        "not its own"
    );
    assert!(
        !ok(s.use_device(d2.id, a.id, Timestamp(1_600)).await),
        "revoked"
    );
    // A password change revokes them all, in its transaction.
    let pw = ev(1_700, EventType::PasswordChanged, "abe");
    ok(
        s.set_password(a.id, "$argon2id$x", false, Timestamp(1_700), None, &pw)
            .await,
    );
    assert!(!ok(s.use_device(d1.id, a.id, Timestamp(1_700)).await));
    assert_eq!(
        ok(s.list_devices(b.id, Timestamp(1_700)).await).len(),
        1,
        "others keep theirs"
    );
    let all = ev(1_800, EventType::DeviceRevoked, "baba");
    assert_eq!(ok(s.revoke_devices(b.id, Timestamp(1_800), &all).await), 1);
    assert_eq!(ok(s.list_devices(b.id, Timestamp(1_800)).await).len(), 0);
}
