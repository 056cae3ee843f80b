//! One conformance suite, run against SQLite and PostgreSQL (from SEKISHO_TEST_DATABASE_URL).

use sekisho_core::audit::{Actor, AuditFilter, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::login::SecondFactor;
use sekisho_core::session::SessionPurpose;
use sekisho_core::token::ApiScope;
use sekisho_core::{Lang, Timestamp};
use sekisho_store::testing::{fresh_postgres_url, sqlite_url};
use sekisho_store::NewDevice;
use sekisho_store::{
    connect, ConnectOptions, LoginPatch, LoginQuery, NewLogin, NewSession, Store, StoreError,
};
use sekisho_store::{FactorState, IssuedCode, MailState, NewMail, NewOtpFactor, PendingAddress};
use std::sync::Arc;

struct Db {
    store: Arc<dyn Store>,
    url: String,
    _dir: Option<tempfile::TempDir>,
}

async fn open(url: String, dir: Option<tempfile::TempDir>) -> Db {
    let store = connect(&ConnectOptions {
        url: url.clone(),
        max_connections: 8,
        sqlite_synchronous: Default::default(),
    })
    .await
    .unwrap_or_else(|e| unreachable!("connect: {e}"));
    Db {
        store,
        url,
        _dir: dir,
    }
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
                let db = super::open(super::sqlite_url(dir.path()), Some(dir)).await;
                super::$name(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let Some(url) = super::fresh_postgres_url(concat!("store_", stringify!($name))).await else {
                    eprintln!("SEKISHO_TEST_DATABASE_URL not set: PostgreSQL case skipped");
                    return;
                };
                let db = super::open(url, None).await;
                super::$name(db).await;
            }
        }
    )*};
}

on_both!(
    logins_round_trip_with_audit,
    search_and_paging,
    concurrent_failures_count_and_lock_exactly,
    sessions_lifecycle,
    password_history_and_session_revocation,
    api_tokens,
    audit_is_append_only_and_filterable,
    otp_codes_are_accepted_once_under_concurrency,
    otp_failures_lock_the_factor_until_unlock,
    challenges_complete_once,
    codes_of_many_factors_commit_together,
    accepted_codes_are_durable_before_the_answer,
    mail_outbox_claims_retries_and_failures,
    email_code_challenges_count_failures_and_reissue_once,
    code_address_changes_confirm_once,
    devices_are_used_only_while_valid,
    tokens_import_and_lifecycle,
    concurrent_assignments_give_one_token_per_login,
    token_registration_codes_and_lock,
    token_limits_from_the_seed_file,
    setup_links_are_single_use_and_replaced,
);

use audit_chain::{
    accepted_codes_in_group_commits_are_chained,
    audit_chain_verifies_and_names_the_first_broken_record,
    concurrent_writers_on_two_instances_make_one_chain,
    records_from_before_the_chain_are_counted_apart,
};
on_both!(
    audit_chain_verifies_and_names_the_first_broken_record,
    concurrent_writers_on_two_instances_make_one_chain,
    accepted_codes_in_group_commits_are_chained,
    records_from_before_the_chain_are_counted_apart,
);

use operators::operators_setup_login_lock_and_sessions;
on_both!(operators_setup_login_lock_and_sessions);

use recovery::{recovery_code_failures_lock_until_unlock, recovery_codes_replace_and_consume_once};
on_both!(
    recovery_codes_replace_and_consume_once,
    recovery_code_failures_lock_until_unlock,
);

#[path = "conformance/sealed.rs"]
mod sealed;
use sealed::sealed_values_are_walked_in_batches_and_replaced_only_if_unchanged;
on_both!(sealed_values_are_walked_in_batches_and_replaced_only_if_unchanged);

#[path = "conformance/recovery.rs"]
mod recovery;

#[path = "conformance/passkeys.rs"]
mod passkeys;
use passkeys::{
    ceremonies_are_taken_once_and_expire, ceremony_purge_is_bounded_and_spares_live_ones,
    erasing_second_factors_removes_passkeys, factor_summaries_count_passkeys,
    passkeys_lifecycle_and_counter_flag,
};
on_both!(
    ceremonies_are_taken_once_and_expire,
    passkeys_lifecycle_and_counter_flag,
    erasing_second_factors_removes_passkeys,
    ceremony_purge_is_bounded_and_spares_live_ones,
    factor_summaries_count_passkeys,
);

#[path = "conformance/operators.rs"]
mod operators;

#[path = "conformance/audit_archive.rs"]
mod audit_archive;
#[path = "conformance/audit_chain.rs"]
mod audit_chain;
use audit_archive::{
    archiving_removes_a_prefix_and_the_rest_still_verifies,
    seeded_records_chain_and_verify_from_a_checkpoint,
};
on_both!(
    seeded_records_chain_and_verify_from_a_checkpoint,
    archiving_removes_a_prefix_and_the_rest_still_verifies,
);
#[path = "conformance/flows.rs"]
mod flows;
use flows::{
    fresh_reauthentication_is_shared_and_expires, login_flows_are_shared_expire_and_finish_once,
};
on_both!(
    login_flows_are_shared_expire_and_finish_once,
    fresh_reauthentication_is_shared_and_expires,
);

#[path = "conformance/throttle.rs"]
mod throttle;
use throttle::{
    a_timed_lock_lifts_once_and_only_when_due, holds_refuse_until_they_end_and_never_shorten,
    parallel_checks_let_exactly_the_burst_through, throttle_buckets_follow_gcra_and_are_shared,
};
on_both!(
    throttle_buckets_follow_gcra_and_are_shared,
    parallel_checks_let_exactly_the_burst_through,
    holds_refuse_until_they_end_and_never_shorten,
    a_timed_lock_lifts_once_and_only_when_due,
);

#[path = "conformance/setup.rs"]
mod setup;

#[path = "conformance/audit_queries.rs"]
mod audit_queries;
use audit_queries::time_ranges_and_operators_read_by_their_indexes;
on_both!(time_ranges_and_operators_read_by_their_indexes);

#[path = "conformance/seed.rs"]
mod seed;
use seed::{
    seeded_logins_have_active_factors_and_audit, seeded_logins_have_passwords_and_pending_codes,
    seeded_tables_have_planner_statistics,
};
on_both!(
    seeded_logins_have_active_factors_and_audit,
    seeded_logins_have_passwords_and_pending_codes,
    seeded_tables_have_planner_statistics
);

#[path = "conformance/replay.rs"]
mod replay;
use replay::{
    replay_rule_for_authenticator_apps, replay_rule_for_hotp_tokens,
    replay_rule_for_operator_codes, replay_rule_for_totp_tokens,
};
on_both!(
    replay_rule_for_authenticator_apps,
    replay_rule_for_totp_tokens,
    replay_rule_for_hotp_tokens,
    replay_rule_for_operator_codes,
);
use setup::setup_links_are_single_use_and_replaced;

#[path = "conformance/tokens.rs"]
mod tokens;
use tokens::{
    concurrent_assignments_give_one_token_per_login, token_limits_from_the_seed_file,
    token_registration_codes_and_lock, tokens_import_and_lifecycle,
};

#[path = "conformance/step_up.rs"]
mod step_up;
use step_up::{
    concurrent_confirmations_give_one_winner, signing_keys_are_added_and_retired,
    step_ups_are_answered_once_and_expire,
};
on_both!(
    step_ups_are_answered_once_and_expire,
    concurrent_confirmations_give_one_winner,
    signing_keys_are_added_and_retired,
);

#[path = "conformance/oidc_clients.rs"]
mod oidc_clients;
use oidc_clients::oidc_clients_round_trip_with_audit;
on_both!(oidc_clients_round_trip_with_audit);

#[path = "conformance/oidc_grants.rs"]
mod oidc_grants;
use oidc_grants::{
    client_assertion_jtis_are_refused_when_replayed,
    oidc_codes_are_issued_for_a_request_once_and_used_once,
    oidc_codes_are_seeded_in_bulk_all_or_nothing, oidc_requests_are_used_once_and_expire,
};
on_both!(
    oidc_requests_are_used_once_and_expire,
    oidc_codes_are_issued_for_a_request_once_and_used_once,
    client_assertion_jtis_are_refused_when_replayed,
    oidc_codes_are_seeded_in_bulk_all_or_nothing,
);

#[path = "conformance/oidc_tokens.rs"]
mod oidc_tokens;
use oidc_tokens::{
    ended_sessions_end_their_grants_but_offline_access,
    refresh_tokens_rotate_once_and_grants_are_revoked,
};
on_both!(
    refresh_tokens_rotate_once_and_grants_are_revoked,
    ended_sessions_end_their_grants_but_offline_access,
);
#[path = "conformance/oidc_sessions.rs"]
mod oidc_sessions;
use oidc_sessions::{
    consents_are_given_listed_and_revoked, ended_sessions_queue_a_logout_per_client,
    erasing_and_deleting_queue_logouts,
};
on_both!(
    ended_sessions_queue_a_logout_per_client,
    erasing_and_deleting_queue_logouts,
    consents_are_given_listed_and_revoked,
);

fn ev(t: i64, ty: EventType, login: &str) -> NewAuditEvent {
    NewAuditEvent::new(
        Timestamp(t),
        ty,
        Some(login),
        Actor::Operator("ops1".into()),
        &ClientInfo {
            ip: Some("192.0.2.1".into()),
            user_agent: Some("test".into()),
        },
        ty.as_str(),
    )
}

fn new_login(id: &str) -> NewLogin {
    NewLogin {
        login_id: id.into(),
        display_name: format!("{id} 様"),
        email: format!("{id}@example.co.jp"),
        lang: Lang::Ja,
        second_factor: SecondFactor::None,
        mfa_required: false,
        notify_login: Some(false),
        now: Timestamp(1_000),
    }
}

fn ok<T, E: std::fmt::Debug>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| unreachable!("{e:?}"))
}

async fn count(db: &Db, filter: AuditFilter) -> usize {
    ok(db
        .store
        .query_audit(&AuditFilter {
            limit: 1000,
            ..filter
        })
        .await)
    .len()
}

async fn logins_round_trip_with_audit(db: Db) {
    let s = &db.store;
    let created = ok(s
        .create_login(
            &new_login("tanaka"),
            &ev(1_000, EventType::LoginCreated, "tanaka"),
        )
        .await);
    assert_eq!(created.login_id, "tanaka");
    assert_eq!(created.display_name, "tanaka 様");
    assert!(!created.mfa_required && !created.disabled && created.password_hash.is_none());

    let dup = s
        .create_login(
            &new_login("tanaka"),
            &ev(1_001, EventType::LoginCreated, "tanaka"),
        )
        .await;
    assert!(matches!(dup, Err(StoreError::Conflict)));
    // The refused create left no audit record behind (same transaction).
    let created_events = AuditFilter {
        login_id: Some("tanaka".into()),
        event_type: Some(EventType::LoginCreated),
        ..Default::default()
    };
    assert_eq!(count(&db, created_events).await, 1);

    let patch = LoginPatch {
        second_factor: Some(SecondFactor::Totp),
        mfa_required: Some(true),
        lang: Some(Lang::En),
        notify_login: Some(true),
        ..Default::default()
    };
    let updated = ok(s
        .update_login(
            "tanaka",
            &patch,
            Timestamp(2_000),
            &ev(2_000, EventType::LoginUpdated, "tanaka"),
        )
        .await)
    .unwrap_or_else(|| unreachable!("login exists"));
    assert_eq!(updated.second_factor, SecondFactor::Totp);
    assert!(updated.mfa_required);
    assert_eq!(updated.notify_login, Some(true));
    assert_eq!(updated.lang, Lang::En);
    assert_eq!(updated.updated_at, Timestamp(2_000));
    assert_eq!(updated.display_name, "tanaka 様", "untouched fields stay");
    assert!(ok(s
        .update_login(
            "nobody",
            &patch,
            Timestamp(2_000),
            &ev(2_000, EventType::LoginUpdated, "nobody")
        )
        .await)
    .is_none());

    assert!(ok(s
        .delete_login("tanaka", &ev(3_000, EventType::LoginDeleted, "tanaka"))
        .await));
    assert!(ok(s.get_login("tanaka").await).is_none());
    assert!(!ok(s
        .delete_login("tanaka", &ev(3_001, EventType::LoginDeleted, "tanaka"))
        .await));
    let all = ok(s
        .query_audit(&AuditFilter {
            login_id: Some("tanaka".into()),
            limit: 10,
            ..Default::default()
        })
        .await);
    let types: Vec<_> = all.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        ["login_deleted", "login_updated", "login_created"],
        "newest first, audit kept after delete"
    );
    assert_eq!(all[0].actor, Actor::Operator("ops1".into()));
    assert_eq!(all[0].client_ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(all[0].event_group, "account");
}

async fn search_and_paging(db: Db) {
    let s = &db.store;
    for i in 0..7 {
        let mut l = new_login(&format!("user{i:02}"));
        if i == 3 {
            l.display_name = "Yamada_100%".into();
        }
        ok(
            s.create_login(&l, &ev(1_000, EventType::LoginCreated, &l.login_id))
                .await,
        );
    }
    let page = |after: Option<&str>| LoginQuery {
        q: None,
        locked: None,
        after: after.map(Into::into),
        limit: 3,
    };
    let p1 = ok(s.list_logins(&page(None)).await);
    let ids: Vec<_> = p1.iter().map(|l| l.login_id.as_str()).collect();
    assert_eq!(ids, ["user00", "user01", "user02"]);
    let p3 = ok(s.list_logins(&page(Some("user05"))).await);
    assert_eq!(p3.len(), 1);
    let q = |q: &str| LoginQuery {
        q: Some(q.into()),
        locked: None,
        after: None,
        limit: 50,
    };
    assert_eq!(
        ok(s.list_logins(&q("YAMADA")).await).len(),
        1,
        "case-insensitive on display name"
    );
    assert_eq!(
        ok(s.list_logins(&q("_100%")).await).len(),
        1,
        "LIKE wildcards are literal"
    );
    assert_eq!(ok(s.list_logins(&q("%")).await).len(), 1);
    assert_eq!(
        ok(s.list_logins(&q("user04@example")).await).len(),
        1,
        "e-mail"
    );
    assert_eq!(ok(s.list_logins(&q("user")).await).len(), 7);
    let locked = LoginQuery {
        q: None,
        locked: Some(true),
        after: None,
        limit: 50,
    };
    assert!(ok(s.list_logins(&locked).await).is_empty());
}

async fn concurrent_failures_count_and_lock_exactly(db: Db) {
    let login = ok(db
        .store
        .create_login(
            &new_login("target"),
            &ev(1, EventType::LoginCreated, "target"),
        )
        .await);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let s = db.store.clone();
        tasks.push(tokio::spawn(async move {
            s.record_password_failure(
                login.id,
                5,
                Timestamp(100 + i),
                &ev(100 + i, EventType::LoginFailed, "target"),
                &ev(100 + i, EventType::LoginLocked, "target"),
            )
            .await
        }));
    }
    let mut newly = 0;
    let mut counts = Vec::new();
    for t in tasks {
        let out = ok(ok(t.await));
        newly += usize::from(out.newly_locked);
        counts.push(out.failed_logins);
    }
    counts.sort_unstable();
    assert_eq!(
        counts,
        (1..=50).collect::<Vec<_>>(),
        "each failure saw its own count"
    );
    assert_eq!(newly, 1, "exactly one failure locked the login");
    let l = ok(db.store.get_login("target").await).unwrap_or_else(|| unreachable!());
    assert_eq!(l.failed_logins, 50);
    assert!(l.locked_at.is_some());
    let by = |t| AuditFilter {
        login_id: Some("target".into()),
        event_type: Some(t),
        ..Default::default()
    };
    assert_eq!(count(&db, by(EventType::LoginFailed)).await, 50);
    assert_eq!(count(&db, by(EventType::LoginLocked)).await, 1);

    let unlocked = ok(db
        .store
        .unlock_login(
            "target",
            Timestamp(500),
            &ev(500, EventType::LoginUnlocked, "target"),
        )
        .await);
    assert_eq!(unlocked, Some(true));
    let l = ok(db.store.get_login("target").await).unwrap_or_else(|| unreachable!());
    assert_eq!((l.failed_logins, l.locked_at), (0, None));
    assert_eq!(
        ok(db
            .store
            .unlock_login(
                "target",
                Timestamp(501),
                &ev(501, EventType::LoginUnlocked, "target")
            )
            .await),
        Some(false)
    );
    assert_eq!(
        ok(db
            .store
            .unlock_login(
                "ghost",
                Timestamp(501),
                &ev(501, EventType::LoginUnlocked, "ghost")
            )
            .await),
        None
    );
}

fn new_session(login_pk: i64, hash: &str, now: i64) -> NewSession {
    NewSession {
        token_hash: hash.into(),
        login_pk,
        purpose: SessionPurpose::Full,
        methods: vec!["pwd".into()],
        now: Timestamp(now),
        expires_at: Timestamp(now + 3600),
        client_ip: Some("198.51.100.7".into()),
        user_agent: Some("TradingApp/1.0".into()),
        challenge_id: None,
    }
}

async fn sessions_lifecycle(db: Db) {
    let s = &db.store;
    assert_eq!(ok(s.newest_session_id().await), 0, "no session yet");
    let login = ok(s
        .create_login(&new_login("sato"), &ev(1, EventType::LoginCreated, "sato"))
        .await);
    ok(s.record_password_failure(
        login.id,
        5,
        Timestamp(5),
        &ev(5, EventType::LoginFailed, "sato"),
        &ev(5, EventType::LoginLocked, "sato"),
    )
    .await);
    let sess = ok(s
        .create_session(
            &new_session(login.id, "h1", 10),
            &ev(10, EventType::LoginSucceeded, "sato"),
        )
        .await)
    .unwrap_or_else(|| unreachable!("not locked"));
    assert_eq!(sess.login_id, "sato");
    assert_eq!(ok(s.newest_session_id().await), sess.id);
    let l = ok(s.get_login("sato").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        l.failed_logins, 0,
        "a successful login resets the failure count"
    );
    assert_eq!(l.last_login_at, Some(Timestamp(10)));

    let got = ok(s.get_session("h1").await).unwrap_or_else(|| unreachable!());
    assert_eq!(got.methods, ["pwd"]);
    assert_eq!(got.user_agent.as_deref(), Some("TradingApp/1.0"));
    ok(s.touch_session(got.id, Timestamp(20)).await);
    assert_eq!(
        ok(s.get_session("h1").await).map(|x| x.last_seen_at),
        Some(Timestamp(20))
    );
    assert_eq!(ok(s.list_sessions(login.id, Timestamp(30)).await).len(), 1);
    assert!(ok(s
        .revoke_session(
            got.id,
            Timestamp(30),
            &ev(30, EventType::SessionRevoked, "sato")
        )
        .await));
    assert!(!ok(s
        .revoke_session(
            got.id,
            Timestamp(31),
            &ev(31, EventType::SessionRevoked, "sato")
        )
        .await));
    assert_eq!(
        ok(s.get_session("h1").await).and_then(|x| x.revoked_at),
        Some(Timestamp(30))
    );
    assert!(ok(s.list_sessions(login.id, Timestamp(32)).await).is_empty());

    // A login locked (or disabled) while its password was being checked gets no session.
    for i in 0..5 {
        ok(s.record_password_failure(
            login.id,
            5,
            Timestamp(40 + i),
            &ev(40, EventType::LoginFailed, "sato"),
            &ev(40, EventType::LoginLocked, "sato"),
        )
        .await);
    }
    assert!(ok(s
        .create_session(
            &new_session(login.id, "h2", 50),
            &ev(50, EventType::LoginSucceeded, "sato")
        )
        .await)
    .is_none());
    assert!(ok(s.get_session("h2").await).is_none());
    let l = ok(s.get_login("sato").await).unwrap_or_else(|| unreachable!());
    assert_eq!(
        l.failed_logins, 5,
        "refused session creation changed nothing"
    );

    ok(s.unlock_login(
        "sato",
        Timestamp(60),
        &ev(60, EventType::LoginUnlocked, "sato"),
    )
    .await);
    let a = ok(s
        .create_session(
            &new_session(login.id, "h3", 61),
            &ev(61, EventType::LoginSucceeded, "sato"),
        )
        .await);
    let b = ok(s
        .create_session(
            &new_session(login.id, "h4", 62),
            &ev(62, EventType::LoginSucceeded, "sato"),
        )
        .await);
    assert!(a.is_some() && b.is_some());
    assert_eq!(
        ok(s.revoke_login_sessions(
            login.id,
            Timestamp(63),
            &ev(63, EventType::SessionRevoked, "sato")
        )
        .await),
        2
    );
    let disable = LoginPatch {
        disabled: Some(true),
        ..Default::default()
    };
    ok(s.create_session(
        &new_session(login.id, "h5", 64),
        &ev(64, EventType::LoginSucceeded, "sato"),
    )
    .await);
    ok(s.update_login(
        "sato",
        &disable,
        Timestamp(65),
        &ev(65, EventType::LoginUpdated, "sato"),
    )
    .await);
    assert!(
        ok(s.get_session("h5").await)
            .and_then(|x| x.revoked_at)
            .is_some(),
        "disabling revokes sessions"
    );
    assert!(ok(s
        .create_session(
            &new_session(login.id, "h6", 66),
            &ev(66, EventType::LoginSucceeded, "sato")
        )
        .await)
    .is_none());
}

async fn password_history_and_session_revocation(db: Db) {
    let s = &db.store;
    let login = ok(s
        .create_login(
            &new_login("suzuki"),
            &ev(1, EventType::LoginCreated, "suzuki"),
        )
        .await);
    let keep = ok(s
        .create_session(
            &new_session(login.id, "keep", 2),
            &ev(2, EventType::LoginSucceeded, "suzuki"),
        )
        .await)
    .unwrap_or_else(|| unreachable!());
    ok(s.create_session(
        &new_session(login.id, "other", 3),
        &ev(3, EventType::LoginSucceeded, "suzuki"),
    )
    .await);
    for i in 0..30 {
        ok(s.set_password(
            login.id,
            &format!("hash{i}"),
            i == 0,
            Timestamp(10 + i),
            Some(keep.id),
            &ev(10, EventType::PasswordChanged, "suzuki"),
        )
        .await);
    }
    assert_eq!(
        ok(s.password_history(login.id, 2).await),
        ["hash29", "hash28"]
    );
    assert_eq!(
        ok(s.password_history(login.id, 100).await).len(),
        24,
        "history is bounded"
    );
    assert!(ok(s.password_history(login.id, 0).await).is_empty());
    let l = ok(s.get_login("suzuki").await).unwrap_or_else(|| unreachable!());
    assert_eq!(l.password_hash.as_deref(), Some("hash29"));
    assert_eq!(l.password_changed_at, Some(Timestamp(39)));
    assert!(!l.password_temporary);
    assert!(
        ok(s.get_session("keep").await).is_some_and(|x| x.revoked_at.is_none()),
        "the current session stays"
    );
    assert!(
        ok(s.get_session("other").await).is_some_and(|x| x.revoked_at.is_some()),
        "other sessions end"
    );
    ok(s.set_password(
        login.id,
        "tmp",
        true,
        Timestamp(50),
        None,
        &ev(50, EventType::PasswordSet, "suzuki"),
    )
    .await);
    let l = ok(s.get_login("suzuki").await).unwrap_or_else(|| unreachable!());
    assert!(l.password_temporary);
    assert!(ok(s.get_session("keep").await).is_some_and(|x| x.revoked_at.is_some()));
}

async fn api_tokens(db: Db) {
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

async fn audit_is_append_only_and_filterable(db: Db) {
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

pub(crate) fn pending_totp(login_pk: i64, uid: &str) -> NewOtpFactor {
    NewOtpFactor {
        uid: uid.into(),
        login_pk,
        method: "totp".into(),
        label: "認証アプリ".into(),
        secret_enc: "k1:sealed".into(),
        algorithm: sekisho_core::otp::Algorithm::Sha1,
        digits: 6,
        period: 30,
        now: Timestamp(100),
        expires_at: Timestamp(700),
    }
}

async fn otp_codes_are_accepted_once_under_concurrency(db: Db) {
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

async fn otp_failures_lock_the_factor_until_unlock(db: Db) {
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

async fn challenges_complete_once(db: Db) {
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
async fn codes_of_many_factors_commit_together(db: Db) {
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
async fn accepted_codes_are_durable_before_the_answer(db: Db) {
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

async fn mail_outbox_claims_retries_and_failures(db: Db) {
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

async fn email_code_challenges_count_failures_and_reissue_once(db: Db) {
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

async fn code_address_changes_confirm_once(db: Db) {
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

async fn devices_are_used_only_while_valid(db: Db) {
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

/// Issue 16 item 10: a refused PostgreSQL connection at start says at once which address
/// refused and why (it used to wait 10 s and report a pool timeout).
#[tokio::test]
async fn a_refused_postgres_connection_names_the_address() {
    let e = connect(&ConnectOptions {
        url: "postgres://postgres:pw-not-shown@127.0.0.1:1/x".into(),
        max_connections: 2,
        sqlite_synchronous: Default::default(),
    })
    .await
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("127.0.0.1:1"), "{e}");
    assert!(e.to_lowercase().contains("refused"), "{e}");
    assert!(!e.contains("pw-not-shown"), "{e}");
}
