//! Passkeys through the real pages in chromium, answered by its virtual authenticator (Chrome
//! DevTools Protocol `WebAuthn.addVirtualAuthenticator`): register in the security settings
//! after re-authentication, log in with the password and the passkey, then passwordless with
//! the login page's button and through the login ID's autofill (conditional UI)
//! (`tests/browser/passkeys.mjs`). The pages run on http://localhost:PORT: passkeys need a
//! domain as relying party ID, and localhost is a secure context.

use crate::browser::{browser_available, create, run_script};
use crate::common::spawn_app;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = Arc::new(spawn_app().await);
    create(&app, "kobayashi", "kabu2026xyz", false, "none").await;
    run_script(app.clone(), "passkeys.mjs", &[]).await;
    assert_eq!(app.count_events("kobayashi", "passkey_added").await, 1);
    assert_eq!(app.count_events("kobayashi", "passkey_used").await, 3);
    assert!(app.count_events("kobayashi", "login_succeeded").await >= 3);
    let sessions = app.audit("kobayashi").await;
    let described = |what: &str| {
        sessions
            .iter()
            .any(|e| e["event_type"] == "login_succeeded" && e["description"] == what)
    };
    assert!(described("password + passkey"), "{sessions:?}");
    assert!(described("passkey (passwordless)"), "{sessions:?}");
}
