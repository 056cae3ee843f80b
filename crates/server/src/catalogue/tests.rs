use super::*;
use std::collections::HashSet;

/// Every row of both catalogues, as clients see it.
fn all_rows() -> Vec<Failure> {
    let mut all: Vec<Failure> = Error::examples().into_iter().map(Failure::App).collect();
    all.extend(DoorError::all().into_iter().map(Failure::Door));
    all
}

#[test]
fn no_code_or_name_is_used_twice_across_the_catalogues() {
    let mut codes = HashSet::new();
    let mut names = HashSet::new();
    for e in &all_rows() {
        assert!(codes.insert(e.code()), "duplicate code {}", e.code());
        assert!(names.insert(e.name()), "duplicate name {}", e.name());
        assert!(e.code().starts_with("SKS-") && e.code().len() == 12);
        assert!(!e.message(Lang::Ja).is_empty() && !e.message(Lang::En).is_empty());
        assert_ne!(e.message(Lang::Ja), e.message(Lang::En));
    }
}

#[test]
fn the_apps_pending_steps_carry_the_doors_names() {
    use sekisho_app::flow::step_names as app;
    assert_eq!(
        app::SECOND_FACTOR_REQUIRED,
        DoorError::SecondFactorRequired.entry().name
    );
    assert_eq!(
        app::PASSWORD_CHANGE_REQUIRED,
        DoorError::PasswordChangeRequired.entry().name
    );
    assert_eq!(
        app::PASSWORD_CHANGE_REQUIRED_CODE,
        DoorError::PasswordChangeRequired.entry().code
    );
}

/// docs/error-codes.md is both catalogues as a support desk reads them; it must say what the
/// code says (`SEKISHO_BLESS=1 cargo test -p sekisho-server --lib catalogue` rewrites it).
#[test]
fn error_codes_doc_matches_the_catalogues() {
    let mut rows: Vec<String> = all_rows()
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
         `error` field), an HTTP status, and a message in Japanese and English. A test \
         (`cargo test -p sekisho-server`) keeps this page equal to the two tables in the code: \
         the use cases' errors in `crates/core/src/error/catalogue.rs` and the doors' own in \
         `crates/server/src/catalogue.rs`. Password-policy messages are shown with the jp-broker \
         preset's numbers.\n\n\
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
        "docs/error-codes.md differs from the catalogues: run SEKISHO_BLESS=1 cargo test -p sekisho-server --lib catalogue"
    );
}
