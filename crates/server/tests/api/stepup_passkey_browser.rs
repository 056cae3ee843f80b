//! Step-up confirmed with a passkey in chromium (`tests/browser/stepup_passkey.mjs`): register a
//! passkey with the virtual authenticator, confirm a withdrawal with it, back at the app, the
//! proof verified with the published key set (method `passkey`, `amr` `hwk`+`user`); and a
//! `passkey` login's setup wizard registering its passkey, then a login with it.

use crate::browser::{browser_available, run_script};
use crate::common::{spawn_with, Options, TestApp};
use crate::step_up::{app_token, stepper};
use sekisho_core::otp::base32_encode;
use sekisho_core::step_up::OperationKind;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_confirmed_with_a_passkey_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    // A change of the withdrawal account needs a passkey; a withdrawal takes any factor.
    let app: Arc<TestApp> = Arc::new(
        spawn_with(Options {
            step_up_passkey_kinds: vec![OperationKind::WithdrawalAccountChange],
            ..Options::default()
        })
        .await,
    );
    let s = stepper(&app, "watanabe").await;
    let token = app_token(&app, "trade-web").await;
    let setup = app
        .newcomer(
            "sato.hanako",
            "passkey",
            "ja",
            json!({ "password": true, "second_factor": true }),
        )
        .await;
    run_script(
        app.clone(),
        "stepup_passkey.mjs",
        &[
            ("SEKISHO_STEP_UP_TOKEN", &token),
            ("SEKISHO_TOTP_KEY", &base32_encode(&s.secret)),
            ("SEKISHO_LOGIN", "watanabe"),
            ("SEKISHO_SETUP_PATH", &setup),
            ("SEKISHO_NEWCOMER", "sato.hanako"),
        ],
    )
    .await;
    assert_eq!(app.count_events("watanabe", "passkey_added").await, 1);
    assert_eq!(app.count_events("watanabe", "passkey_used").await, 1);
    assert_eq!(app.count_events("watanabe", "step_up_confirmed").await, 1);
    assert_eq!(app.count_events("sato.hanako", "passkey_added").await, 1);
    assert_eq!(app.count_events("sato.hanako", "setup_link_used").await, 1);
    assert_eq!(app.count_events("sato.hanako", "passkey_used").await, 1);
}
