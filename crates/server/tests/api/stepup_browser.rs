//! The step-up journey in a real browser (`tests/browser/stepup.mjs`): the app asks, the signed-in
//! customer confirms a withdrawal with a code from oathtool, returns to the app, and the app
//! verifies the proof with the published key set.

use crate::browser::{browser_available, run_script};
use crate::common::{spawn_app, TestApp};
use crate::step_up::{app_token, stepper};
use sekisho_core::otp::base32_encode;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_journey_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app: Arc<TestApp> = Arc::new(spawn_app().await);
    let s = stepper(&app, "kobayashi").await;
    let token = app_token(&app, "trade-web").await;
    run_script(
        app.clone(),
        "stepup.mjs",
        &[
            ("SEKISHO_STEP_UP_TOKEN", &token),
            ("SEKISHO_TOTP_KEY", &base32_encode(&s.secret)),
            ("SEKISHO_LOGIN", "kobayashi"),
        ],
    )
    .await;
    assert_eq!(app.count_events("kobayashi", "step_up_requested").await, 3);
    assert_eq!(app.count_events("kobayashi", "step_up_confirmed").await, 1);
    assert_eq!(app.count_events("kobayashi", "step_up_refused").await, 1);
}
