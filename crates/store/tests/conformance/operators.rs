//! Conformance cases for operators and their sessions (run on both backends by `on_both!`).

use super::{ok, Db};
use sekisho_core::audit::{Actor, AuditFilter, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::operator::OperatorRole;
use sekisho_core::Timestamp;
use sekisho_store::{OperatorFailure, StoreError};

fn op_ev(t: i64, ty: EventType, by: &str) -> NewAuditEvent {
    NewAuditEvent::new(
        Timestamp(t),
        ty,
        None,
        Actor::Operator(by.into()),
        &ClientInfo::default(),
        ty.as_str(),
    )
}

pub(crate) async fn operators_setup_login_lock_and_sessions(db: Db) {
    let s = &db.store;
    let created = ok(s
        .create_operator(
            "sato",
            OperatorRole::Admin,
            "h1",
            Timestamp(1_000),
            Timestamp(10),
            &op_ev(10, EventType::OperatorCreated, "root"),
        )
        .await);
    assert_eq!(created.role.as_str(), "admin");
    assert!(created.password_hash.is_none() && created.setup_expires_at == Some(Timestamp(1_000)));
    let dup = s
        .create_operator(
            "sato",
            OperatorRole::Support,
            "h2",
            Timestamp(1_000),
            Timestamp(10),
            &op_ev(10, EventType::OperatorCreated, "root"),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)));

    // The setup link: found while pending, then used up once.
    assert!(
        ok(s.find_operator_setup("h1", Timestamp(1_000)).await).is_none(),
        "expired at 1000"
    );
    let found = ok(s.find_operator_setup("h1", Timestamp(20)).await)
        .unwrap_or_else(|| unreachable!("setup link"));
    assert_eq!(found.id, created.id);
    assert!(
        !ok(s
            .complete_operator_setup(
                created.id,
                "h1",
                5,
                Timestamp(21),
                &op_ev(21, EventType::OperatorSetupCompleted, "sato")
            )
            .await),
        "no password yet"
    );
    assert!(ok(s
        .set_operator_credentials(created.id, "h1", "argon", "k1:sealed", Timestamp(22))
        .await));
    assert!(ok(s
        .complete_operator_setup(
            created.id,
            "h1",
            5,
            Timestamp(23),
            &op_ev(23, EventType::OperatorSetupCompleted, "sato")
        )
        .await));
    assert!(
        !ok(s
            .complete_operator_setup(
                created.id,
                "h1",
                6,
                Timestamp(24),
                &op_ev(24, EventType::OperatorSetupCompleted, "sato")
            )
            .await),
        "single use"
    );
    assert!(ok(s.find_operator_setup("h1", Timestamp(25)).await).is_none());
    let op = ok(s.get_operator("sato").await).unwrap_or_else(|| unreachable!("operator"));
    assert_eq!(op.totp_secret_enc.as_deref(), Some("k1:sealed"));
    assert_eq!(op.totp_last_step, Some(5));
    assert!(op.totp_pending_enc.is_none() && op.setup_expires_at.is_none());

    // Sessions: each code step once.
    assert!(
        ok(s.create_operator_session(
            op.id,
            "t0",
            5,
            Timestamp(30),
            Timestamp(90),
            None,
            None,
            &op_ev(30, EventType::OperatorLoginSucceeded, "sato")
        )
        .await)
        .is_none(),
        "step 5 was used by the setup"
    );
    let sess = ok(s
        .create_operator_session(
            op.id,
            "t1",
            6,
            Timestamp(30),
            Timestamp(90),
            Some("192.0.2.1"),
            None,
            &op_ev(30, EventType::OperatorLoginSucceeded, "sato"),
        )
        .await)
    .unwrap_or_else(|| unreachable!("session"));
    assert_eq!((sess.name.as_str(), sess.role.as_str()), ("sato", "admin"));
    let read = ok(s.get_operator_session("t1").await).unwrap_or_else(|| unreachable!("read"));
    assert_eq!(read.id, sess.id);
    assert!(ok(s
        .revoke_operator_session(
            sess.id,
            Timestamp(40),
            &op_ev(40, EventType::OperatorLoggedOut, "sato")
        )
        .await));
    assert!(!ok(s
        .revoke_operator_session(
            sess.id,
            Timestamp(41),
            &op_ev(41, EventType::OperatorLoggedOut, "sato")
        )
        .await));

    // Failures lock; a locked operator gets no session until unlocked.
    for i in 0..3 {
        let out = ok(s
            .record_operator_failure(
                op.id,
                OperatorFailure::Code,
                3,
                Timestamp(50 + i),
                &op_ev(50, EventType::OperatorLoginFailed, "sato"),
                &op_ev(50, EventType::OperatorLocked, "sato"),
            )
            .await);
        assert_eq!(out.newly_locked, i == 2);
    }
    assert!(ok(s
        .create_operator_session(
            op.id,
            "t2",
            7,
            Timestamp(60),
            Timestamp(90),
            None,
            None,
            &op_ev(60, EventType::OperatorLoginSucceeded, "sato")
        )
        .await)
    .is_none());
    assert!(ok(s
        .unlock_operator(
            op.id,
            Timestamp(61),
            &op_ev(61, EventType::OperatorUnlocked, "root")
        )
        .await));
    let op = ok(s.get_operator("sato").await).unwrap_or_else(|| unreachable!("operator"));
    assert_eq!((op.failed_codes, op.locked_at), (0, None));
    let sess = ok(s
        .create_operator_session(
            op.id,
            "t3",
            8,
            Timestamp(62),
            Timestamp(90),
            None,
            None,
            &op_ev(62, EventType::OperatorLoginSucceeded, "sato"),
        )
        .await)
    .unwrap_or_else(|| unreachable!("session after unlock"));

    // Role change shows in the session; disabling revokes it.
    assert!(ok(s
        .update_operator(
            op.id,
            Some(OperatorRole::Support),
            None,
            Timestamp(63),
            &op_ev(63, EventType::OperatorUpdated, "root")
        )
        .await));
    let read = ok(s.get_operator_session("t3").await).unwrap_or_else(|| unreachable!("read"));
    assert_eq!(read.role.as_str(), "support");
    assert!(ok(s
        .update_operator(
            op.id,
            None,
            Some(true),
            Timestamp(64),
            &op_ev(64, EventType::OperatorUpdated, "root")
        )
        .await));
    let read = ok(s.get_operator_session("t3").await).unwrap_or_else(|| unreachable!("read"));
    assert!(read.disabled && read.revoked_at.is_some() && read.id == sess.id);

    // A new setup link clears the credentials.
    assert!(ok(s
        .reset_operator_setup(
            op.id,
            "h9",
            Timestamp(500),
            Timestamp(65),
            &op_ev(65, EventType::OperatorUpdated, "root")
        )
        .await));
    let op = ok(s.get_operator("sato").await).unwrap_or_else(|| unreachable!("operator"));
    assert!(op.password_hash.is_none() && op.totp_secret_enc.is_none());

    assert!(ok(s
        .delete_operator(op.id, &op_ev(70, EventType::OperatorDeleted, "root"))
        .await));
    assert!(ok(s.get_operator("sato").await).is_none());
    assert!(ok(s.list_operators().await).is_empty());
    let n = ok(s
        .query_audit(&AuditFilter {
            actor_kind: Some("operator".into()),
            limit: 100,
            ..Default::default()
        })
        .await)
    .len();
    assert!(n >= 14, "{n} operator events");
    assert!(ok(s.verify_audit_chain(5).await).broken.is_none());
}
