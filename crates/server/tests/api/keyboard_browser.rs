//! The password fields' helpers in a real browser (`tests/browser/keyboard.mjs`, issue 17
//! items 1 and 2): the software keyboard (shuffled keys, Shift, 確定 / キャンセル, the keyboard
//! alone, a phone, English) and 「パスワードを表示する」 on passwords and one-time passwords;
//! and the pages' language (item 6): choice, the login's language, Accept-Language.

use crate::browser::{browser_available, create, run_script};
use crate::common::spawn_app;
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn software_keyboard_and_show_password_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = Arc::new(spawn_app().await);
    create(&app, "kbuser", "Kabu#2026Xy", false, "none").await;
    create(&app, "kbmail", "kabu2026xyz", false, "email").await;
    create(&app, "kbtemp", "Temp2026ab", true, "none").await;
    let en_setup = app
        .newcomer(
            "kben",
            "totp",
            "en",
            json!({ "password": true, "second_factor": true }),
        )
        .await;
    run_script(
        app.clone(),
        "keyboard.mjs",
        &[("SEKISHO_EN_SETUP", &en_setup)],
    )
    .await;
    assert!(app.count_events("kbuser", "login_succeeded").await >= 1);
    assert!(app.count_events("kbmail", "login_succeeded").await >= 1);
}
