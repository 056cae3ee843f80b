//! The console's back-channel logout outbox in a real browser (`tests/browser/outbox.mjs`): an
//! admin reads the three logouts of a login (waiting, delivered, given up) in Japanese and
//! English, filters them by state and client, and on a phone; a support operator is refused.

use crate::browser::{browser_available, run_script};
use crate::console::create as create_operator;
use crate::oidc_outbox::{quiet_sender, three_logouts};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logout_outbox_on_the_console_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = Arc::new(quiet_sender().await);
    let _ = three_logouts(&app, "bo0002").await;
    let admin = create_operator(&app, "kato", "admin").await;
    let admin2 = create_operator(&app, "sato", "admin").await;
    let support = create_operator(&app, "desk", "support").await;
    run_script(
        app.clone(),
        "outbox.mjs",
        &[
            ("SEKISHO_ADMIN_SETUP", &format!("/admin/setup/{admin}")),
            ("SEKISHO_ADMIN_SETUP_2", &format!("/admin/setup/{admin2}")),
            ("SEKISHO_SUPPORT_SETUP", &format!("/admin/setup/{support}")),
        ],
    )
    .await;
}
