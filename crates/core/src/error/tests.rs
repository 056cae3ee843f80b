use super::*;

#[test]
fn codes_are_unique_and_well_formed() {
    let all = Error::examples();
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
