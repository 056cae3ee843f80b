//! Conformance cases for the re-sealing walk of a master-key rotation (run on both backends by
//! `on_both!`).

use super::{ev, new_login, ok, open, pending_totp, Db};
use sekisho_core::audit::EventType;
use sekisho_core::operator::OperatorRole;
use sekisho_core::Timestamp;
use sekisho_store::{Reseal, SealedColumn, SealedValue, SigningKey};

pub(crate) async fn sealed_values_are_walked_in_batches_and_replaced_only_if_unchanged(db: Db) {
    let s = &db.store;
    // Every column's statements run on this backend (on empty tables too).
    for &c in SealedColumn::ALL {
        assert_eq!(ok(s.count_not_under(c, "mnew").await), 0, "{}", c.name());
        assert!(ok(s.sealed_not_under(c, "mnew", 0, 10).await).is_empty());
        assert_eq!(ok(s.replace_sealed(c, &[]).await), 0);
    }
    let login = ok(s
        .create_login(
            &new_login("sealed1"),
            &ev(1, EventType::LoginCreated, "sealed1"),
        )
        .await);
    let mut f = pending_totp(login.id, "uid-1");
    f.secret_enc = "k1:legacy".into();
    let factor = ok(s
        .put_pending_totp(&f, &ev(2, EventType::LoginUpdated, "sealed1"))
        .await);
    // Flows under three ids: legacy, old and already new; a prefix of an id is not the id; an
    // empty value (as a sent mail's body) is none.
    for (hash, payload) in [
        ("h1", "k1:a"),
        ("h2", "mold:b"),
        ("h3", "mnew:c"),
        ("h4", "mne:d"),
        ("h5", "mnewer:e"),
        ("h6", ""),
    ] {
        ok(
            s.create_flow(hash, payload, Timestamp(10), Timestamp(1_000))
                .await,
        );
    }
    // An operator without an app secret (NULL) is not a value to re-seal.
    let op = ok(s
        .create_operator(
            "sealer",
            OperatorRole::Admin,
            "setup-1",
            Timestamp(1_000),
            Timestamp(10),
            &ev(10, EventType::OperatorCreated, "-"),
        )
        .await);
    assert_eq!(
        ok(s.count_not_under(SealedColumn::OperatorTotp, "mnew").await),
        0
    );
    assert!(ok(s
        .set_operator_credentials(op.id, "setup-1", "pw", "mold:pending", Timestamp(11))
        .await));
    let pending = ok(s
        .sealed_not_under(SealedColumn::OperatorTotpPending, "mnew", 0, 10)
        .await);
    assert_eq!(
        pending,
        vec![SealedValue {
            id: op.id,
            binding: op.id.to_string(),
            sealed: "mold:pending".into()
        }]
    );
    ok(s.add_signing_key(
        &SigningKey {
            kid: "sig-1".into(),
            algorithm: "EdDSA".into(),
            private_sealed: "mold:private".into(),
            public_jwk: "{}".into(),
            created_at: Timestamp(12),
            retired_at: None,
        },
        &ev(12, EventType::SigningKeyCreated, "-"),
    )
    .await);
    assert_eq!(
        ok(s.sealed_not_under(SealedColumn::SigningKey, "mnew", 0, 10)
            .await)
        .iter()
        .map(|v| v.binding.as_str())
        .collect::<Vec<_>>(),
        vec!["sig-1"]
    );
    let otp = ok(s
        .sealed_not_under(SealedColumn::OtpFactorSecret, "mnew", 0, 10)
        .await);
    assert_eq!(otp.len(), 1);
    assert_eq!((otp[0].id, otp[0].binding.as_str()), (factor.id, "uid-1"));

    // Flows: four not under `mnew`, walked two at a time in key order.
    let c = SealedColumn::LoginFlow;
    assert_eq!(ok(s.count_not_under(c, "mnew").await), 4);
    let first = ok(s.sealed_not_under(c, "mnew", 0, 2).await);
    assert_eq!(
        first.iter().map(|v| v.binding.as_str()).collect::<Vec<_>>(),
        vec!["h1", "h2"]
    );
    let after = first.last().map(|v| v.id).unwrap_or_default();
    let second = ok(s.sealed_not_under(c, "mnew", after, 2).await);
    assert_eq!(
        second
            .iter()
            .map(|v| v.binding.as_str())
            .collect::<Vec<_>>(),
        vec!["h4", "h5"]
    );
    let tail = second.last().map(|v| v.id).unwrap_or_default();
    assert!(ok(s.sealed_not_under(c, "mnew", tail, 2).await).is_empty());

    // A server (another instance) rewrites h2 after the walk read it: that replacement is
    // refused, the other one lands, in one transaction.
    let other = open(db.url.clone(), None).await;
    assert!(ok(other.store.finish_flow("h1", Timestamp(20)).await));
    let h2 = first[1].clone();
    let rewritten = Reseal {
        id: h2.id,
        old: h2.sealed.clone(),
        new: "mold:b2".into(),
    };
    assert_eq!(ok(other.store.replace_sealed(c, &[rewritten]).await), 1);
    let changes: Vec<Reseal> = first
        .iter()
        .map(|v| Reseal {
            id: v.id,
            old: v.sealed.clone(),
            new: format!("mnew:{}", v.binding),
        })
        .collect();
    assert_eq!(ok(s.replace_sealed(c, &changes).await), 1);
    // Replaying the same batch (an interrupted run started again) changes nothing.
    assert_eq!(ok(s.replace_sealed(c, &changes).await), 0);
    let left = ok(s.sealed_not_under(c, "mnew", 0, 10).await);
    assert_eq!(
        left.iter().map(|v| v.binding.as_str()).collect::<Vec<_>>(),
        vec!["h2", "h4", "h5"]
    );
    assert_eq!(ok(s.count_not_under(c, "mnew").await), 3);
    assert_eq!(ok(s.count_not_under(c, "mold").await), 4);

    // Kept keys: the first one kept wins, on any instance.
    assert_eq!(ok(s.kept_key("code-hash").await), None);
    assert_eq!(
        ok(s.keep_key("code-hash", "mold:first", Timestamp(30)).await),
        "mold:first"
    );
    assert_eq!(
        ok(other
            .store
            .keep_key("code-hash", "mold:second", Timestamp(31))
            .await),
        "mold:first"
    );
    assert_eq!(
        ok(s.count_not_under(SealedColumn::KeptKey, "mnew").await),
        1
    );
}
