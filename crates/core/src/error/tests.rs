use super::*;

#[test]
fn codes_are_unique_and_well_formed() {
    let all = Error::examples();
    check_catalogue_doc(&all);
    let mut codes = std::collections::HashSet::new();
    let mut names = std::collections::HashSet::new();
    for e in &all {
        assert!(codes.insert(e.code()), "duplicate code {}", e.code());
        assert!(names.insert(e.name()), "duplicate name {}", e.name());
        assert!(e.code().starts_with("SKS-") && e.code().len() == 12);
        assert!(!e.message(Lang::Ja).is_empty() && !e.message(Lang::En).is_empty());
        assert_ne!(e.message(Lang::Ja), e.message(Lang::En));
    }
}

#[test]
fn policy_messages_name_the_policy_numbers() {
    let e = Error::PasswordPolicy(PolicyViolation::TooShort { min: 15 });
    assert_eq!(
        e.message(Lang::Ja),
        "パスワードは15文字以上で設定してください。"
    );
    assert_eq!(
        e.message(Lang::En),
        "The password must be at least 15 characters long."
    );
    assert_eq!(e.code(), "SKS-PWD-0001");
    assert_eq!(e.kind().http_status(), 400);
}

#[test]
fn display_names_the_error_and_its_detail() {
    assert_eq!(
        Error::InvalidRequest("missing field `otp`".into()).to_string(),
        "invalid request: missing field `otp`"
    );
    assert_eq!(Error::LoginLocked.to_string(), "login locked");
}

/// docs/error-codes.md is the catalogue as a support desk reads it; it must say what the
/// code says (`SEKISHO_BLESS=1 cargo test -p sekisho-core` rewrites it after a change).
fn check_catalogue_doc(all: &[Error]) {
    let mut rows: Vec<String> = all
        .iter()
        .map(|e| {
            format!(
                "| `{}` | `{}` | {} | {} | {} |",
                e.code(),
                e.name(),
                e.kind().http_status(),
                e.message(Lang::Ja),
                e.message(Lang::En)
            )
        })
        .collect();
    rows.sort();
    let doc = format!(
        "# Error codes\n\n\
         Every error a customer, an app or an operator sees carries a stable code (shown on the \
         pages, in the JSON body's `code`, and in the audit record), a snake_case name (the JSON \
         `error` field), an HTTP status, and a message in Japanese and English. This table is \
         checked against the code by `cargo test -p sekisho-core`; password-policy messages are \
         shown with the jp-broker preset's numbers.\n\n\
         | code | error | HTTP | 日本語 | English |\n|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/error-codes.md");
    if std::env::var_os("SEKISHO_BLESS").is_some() {
        std::fs::write(path, &doc).unwrap_or_else(|e| unreachable!("{e}"));
    }
    let on_disk = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        on_disk == doc,
        "docs/error-codes.md differs from the catalogue: run SEKISHO_BLESS=1 cargo test -p sekisho-core"
    );
}
