//! The operator console in a real browser (`tests/browser/console.mjs`): an admin operator
//! creates a login and e-mails its setup link, the customer finishes the setup from the mail
//! and the flag disappears; wrong codes lock the login and the operator unlocks it; the history
//! is read and exported; a support operator is refused an admin-only action.

use crate::browser::{browser_available, run_script};
use crate::common::spawn_app;
use crate::console::create as create_operator;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = Arc::new(spawn_app().await);
    let admin = create_operator(&app, "suzuki", "admin").await;
    let support = create_operator(&app, "desk", "support").await;
    run_script(
        app.clone(),
        "console.mjs",
        &[
            ("SEKISHO_ADMIN_SETUP", &format!("/admin/setup/{admin}")),
            ("SEKISHO_SUPPORT_SETUP", &format!("/admin/setup/{support}")),
        ],
    )
    .await;
    // What the console did is in the audit trail with the operator as actor.
    let events = app.audit("watanabe").await;
    let by = |ty: &str, who: &str| {
        events.iter().any(|e| {
            e["event_type"] == ty && e["actor"]["kind"] == "operator" && e["actor"]["id"] == who
        })
    };
    assert!(by("login_created", "suzuki"));
    assert!(by("setup_link_created", "suzuki"));
    assert!(by("login_unlocked", "suzuki"));
    assert_eq!(app.count_events("watanabe", "setup_link_used").await, 1);
    assert!(app.count_events("watanabe", "login_succeeded").await >= 1);
    // The support operator's refused change wrote nothing.
    assert!(!by("login_updated", "desk"));
}
