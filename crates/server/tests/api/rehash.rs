//! Issue 16 item 9: a password hashed with other Argon2 parameters than the current ones is
//! hashed again at the next successful login, for customers and operators alike.

use crate::common::{ok, spawn_with, Options};
use crate::operators;
use reqwest::StatusCode;
use sekisho_store::testing::sqlite_url;
use sekisho_store::{connect, ConnectOptions};

const PASSWORD: &str = "Rehash2026x";

#[tokio::test]
async fn an_outdated_password_hash_is_replaced_at_the_next_login() {
    let dir = ok(tempfile::tempdir());
    let url = sqlite_url(dir.path());
    // An instance with the old parameters (256 KiB) creates a customer and an operator.
    let old = spawn_with(Options {
        database_url: Some(url.clone()),
        ..Options::default()
    })
    .await;
    old.create_login("rehash01", PASSWORD).await;
    let kato = operators::operator(&old, "kato", "support").await;
    let store = ok(connect(&ConnectOptions {
        url: url.clone(),
        max_connections: 2,
        sqlite_synchronous: Default::default(),
    })
    .await);
    let login_hash = || {
        let store = store.clone();
        async move {
            ok(store.get_login("rehash01").await)
                .and_then(|l| l.password_hash)
                .unwrap_or_default()
        }
    };
    let operator_hash = || {
        let store = store.clone();
        async move {
            ok(store.get_operator("kato").await)
                .and_then(|o| o.password_hash)
                .unwrap_or_default()
        }
    };
    let before = login_hash().await;
    assert!(before.contains("$m=256,"), "{before}");
    assert!(operator_hash().await.contains("$m=256,"));

    // The parameters are raised: an instance with 512 KiB on the same database.
    let new = spawn_with(Options {
        database_url: Some(url.clone()),
        clock: Some(old.clock.clone()),
        settings: vec![("password.argon2_memory_kib", 512.into())],
        ..Options::default()
    })
    .await;
    // A wrong password changes nothing.
    let r = new.login("rehash01", "Wrong2026xx").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login_hash().await, before);
    let r = new.login("rehash01", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let after = login_hash().await;
    assert!(after.contains("$m=512,"), "{after}");
    // The same password still logs in, and a current hash is not hashed again.
    let r = new.login("rehash01", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(login_hash().await, after);

    // Operators too.
    new.clock.advance(30);
    let r = operators::login(&new, &kato, operators::PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let op_after = operator_hash().await;
    assert!(op_after.contains("$m=512,"), "{op_after}");
    // A hash made with the new parameters is still checked by an instance with the old ones
    // (the parameters travel in the hash), so instances can be reconfigured one at a time.
    new.clock.advance(30);
    let r = operators::login(&old, &kato, operators::PASSWORD).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}
