//! The console's passkeys section in a real browser (`tests/browser/console2.mjs`): an admin
//! sees a passkey whose counter went backwards flagged in red on the list and the login's page,
//! in Japanese and English, and removes it.

use crate::browser::{browser_available, run_script};
use crate::common::spawn_app;
use crate::console::create as create_operator;
use crate::console2::regressed;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_passkeys_section_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = Arc::new(spawn_app().await);
    regressed(&app, "pkb0001").await;
    let admin = create_operator(&app, "kato", "admin").await;
    run_script(
        app.clone(),
        "console2.mjs",
        &[("SEKISHO_ADMIN_SETUP", &format!("/admin/setup/{admin}"))],
    )
    .await;
    let events = app.audit("pkb0001").await;
    assert!(events.iter().any(|e| e["event_type"] == "passkey_removed"
        && e["actor"]["kind"] == "operator"
        && e["actor"]["id"] == "kato"));
}
