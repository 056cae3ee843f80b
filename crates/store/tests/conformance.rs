//! One conformance suite, run against SQLite and PostgreSQL (from SEKISHO_TEST_DATABASE_URL).

use sekisho_core::audit::{Actor, AuditFilter, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::login::SecondFactor;
use sekisho_core::session::SessionPurpose;
use sekisho_core::{Lang, Timestamp};
use sekisho_store::testing::{fresh_postgres_url, sqlite_url};
use sekisho_store::{connect, ConnectOptions, NewLogin, NewOtpFactor, NewSession, Store};
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

#[path = "conformance/api_token_store.rs"]
mod api_token_store;
#[path = "conformance/audit.rs"]
mod audit;
#[path = "conformance/devices.rs"]
mod devices;
#[path = "conformance/logins.rs"]
mod logins;
#[path = "conformance/mail.rs"]
mod mail;
#[path = "conformance/otp.rs"]
mod otp;
#[path = "conformance/sessions.rs"]
mod sessions;
use api_token_store::api_tokens;
use audit::audit_is_append_only_and_filterable;
use devices::devices_are_used_only_while_valid;
use logins::{
    concurrent_failures_count_and_lock_exactly, logins_round_trip_with_audit, search_and_paging,
};
use mail::{
    code_address_changes_confirm_once, email_code_challenges_count_failures_and_reissue_once,
    mail_outbox_claims_retries_and_failures,
};
use otp::{
    accepted_codes_are_durable_before_the_answer, challenges_complete_once,
    codes_of_many_factors_commit_together, otp_codes_are_accepted_once_under_concurrency,
    otp_failures_lock_the_factor_until_unlock,
};
use sessions::{password_history_and_session_revocation, sessions_lifecycle};
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
#[path = "conformance/oidc_redeem.rs"]
mod oidc_redeem;
use oidc_redeem::code_exchanges_write_all_or_nothing;
on_both!(code_exchanges_write_all_or_nothing);
#[path = "conformance/oidc_sessions.rs"]
mod oidc_sessions;
use oidc_sessions::{
    consents_are_given_listed_and_revoked, ended_sessions_queue_a_logout_per_client,
    erasing_and_deleting_queue_logouts, logouts_are_listed_by_state_and_client,
};
on_both!(
    ended_sessions_queue_a_logout_per_client,
    erasing_and_deleting_queue_logouts,
    logouts_are_listed_by_state_and_client,
    consents_are_given_listed_and_revoked,
);
#[path = "conformance/session_purge.rs"]
mod session_purge;
use session_purge::ended_sessions_are_purged_with_their_sign_ins;
on_both!(ended_sessions_are_purged_with_their_sign_ins);

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
