//! Unit tests of grants.rs: what a session proves and when it satisfies a request.
use super::*;

use crate::oidc::ACR_VALUES;

fn names(methods: &[&str]) -> (&'static str, Vec<&'static str>) {
    let m: Vec<String> = methods.iter().map(|s| (*s).to_owned()).collect();
    let (acr, amr) = proven(&m);
    let defaults = AcrNames::default();
    let value = acr_value(&defaults, acr);
    (
        ACR_VALUES
            .iter()
            .copied()
            .find(|a| *a == value)
            .unwrap_or(""),
        amr.iter().map(|a| a.as_str()).collect(),
    )
}

fn satisfies(r: &AuthRequest, created_at: Timestamp, s: &Session, now: Timestamp) -> bool {
    super::satisfies(&AcrNames::default(), r, created_at, s, now)
}

#[test]
fn configured_acr_values_name_the_levels() {
    let mine = AcrNames {
        password: "urn:example:pwd".into(),
        multi_factor: "urn:example:mfa".into(),
        phishing_resistant: "urn:example:pr".into(),
    };
    assert_eq!(acr_value(&mine, Acr::MultiFactor), "urn:example:mfa");
    let s = session(100, &["pwd", "passkey"]);
    let pr = AuthRequest {
        acr_values: vec!["urn:example:pr".into()],
        acr_essential: true,
        ..req()
    };
    assert!(super::satisfies(
        &mine,
        &pr,
        Timestamp(900),
        &s,
        Timestamp(1000)
    ));
    assert!(!super::satisfies(
        &AcrNames::default(),
        &pr,
        Timestamp(900),
        &s,
        Timestamp(1000)
    ));
    assert!(pr.wants_passkey(&mine) && !pr.wants_passkey(&AcrNames::default()));
}

#[test]
fn the_level_and_methods_come_from_what_the_customer_did() {
    let [pwd, mfa, pr] = [ACR_VALUES[0], ACR_VALUES[1], ACR_VALUES[2]];
    assert_eq!(names(&["pwd"]), (pwd, vec!["pwd"]));
    assert_eq!(names(&["pwd", "otp"]), (mfa, vec!["pwd", "otp", "mfa"]));
    assert_eq!(names(&["pwd", "email"]), (mfa, vec!["pwd", "otp", "mfa"]));
    assert_eq!(
        names(&["pwd", "recovery_code"]),
        (mfa, vec!["pwd", "otp", "mfa"])
    );
    // A familiar browser skipped the second factor: no `otp`, password level.
    assert_eq!(names(&["pwd", "device"]), (pwd, vec!["pwd"]));
    assert_eq!(
        names(&["pwd", "passkey"]),
        (pr, vec!["pwd", "hwk", "user", "mfa"])
    );
    assert_eq!(names(&["passkey"]), (pr, vec!["hwk", "user", "mfa"]));
}

fn session(created: i64, methods: &[&str]) -> Session {
    Session {
        id: 1,
        login_pk: 1,
        login_id: "u1".into(),
        purpose: SessionPurpose::Full,
        methods: methods.iter().map(|s| (*s).to_owned()).collect(),
        created_at: Timestamp(created),
        last_seen_at: Timestamp(created),
        expires_at: Timestamp(created + 3600),
        revoked_at: None,
        client_ip: None,
        user_agent: None,
    }
}

fn req() -> AuthRequest {
    AuthRequest {
        client_id: "skc_a".into(),
        redirect_uri: "https://trade.example.co.jp/cb".into(),
        scope: "openid".into(),
        state: None,
        nonce: None,
        code_challenge: "c".into(),
        prompt_none: false,
        prompt_login: false,
        prompt_consent: false,
        max_age: None,
        login_hint: None,
        ui_locale: None,
        acr_values: Vec::new(),
        acr_essential: false,
        dpop_jkt: None,
        authorization_details: None,
        sessions_before: None,
    }
}

#[test]
fn a_session_answers_unless_the_request_demands_more() {
    let s = session(100, &["pwd", "otp"]);
    let now = Timestamp(1000);
    assert!(satisfies(&req(), Timestamp(900), &s, now));
    // prompt=login: only a login after the request.
    let login = AuthRequest {
        prompt_login: true,
        ..req()
    };
    assert!(!satisfies(&login, Timestamp(900), &s, now));
    assert!(satisfies(&login, Timestamp(90), &s, now));
    // max_age counts from the last real authentication.
    let aged = AuthRequest {
        max_age: Some(600),
        ..req()
    };
    assert!(!satisfies(&aged, Timestamp(900), &s, now));
    assert!(satisfies(&aged, Timestamp(900), &s, Timestamp(700)));
    // A level the session does not prove asks for a new login once.
    let pr = AuthRequest {
        acr_values: vec![ACR_VALUES[2].into()],
        ..req()
    };
    assert!(!satisfies(&pr, Timestamp(900), &s, now));
    assert!(satisfies(&pr, Timestamp(90), &s, now));
    // An essential level is never met by a login that does not prove it.
    let essential = AuthRequest {
        acr_essential: true,
        ..pr.clone()
    };
    assert!(!satisfies(&essential, Timestamp(90), &s, now));
    let passkey = session(100, &["passkey"]);
    assert!(satisfies(&essential, Timestamp(900), &passkey, now));
    // Not a full, live session.
    let mut restricted = session(100, &["pwd"]);
    restricted.purpose = SessionPurpose::PasswordChange;
    assert!(!satisfies(&req(), Timestamp(900), &restricted, now));
    let mut revoked = session(100, &["pwd"]);
    revoked.revoked_at = Some(Timestamp(500));
    assert!(!satisfies(&req(), Timestamp(900), &revoked, now));
    assert!(!satisfies(&req(), Timestamp(900), &s, Timestamp(3700)));
}

/// A session of the same second as the request: the time cannot say whether it began before
/// or after; the newest session ID the request noted can.
#[test]
fn a_session_of_the_same_second_is_ordered_by_its_id() {
    let mut s = session(900, &["pwd", "otp"]);
    s.id = 7;
    let now = Timestamp(900);
    let login = |before: Option<i64>| AuthRequest {
        prompt_login: true,
        sessions_before: before,
        ..req()
    };
    // Begun just before the request (its ID was the newest then): prompt=login asks again.
    assert!(!satisfies(&login(Some(7)), Timestamp(900), &s, now));
    // Begun after it (the newest was 6): it is the login the request asked for.
    assert!(satisfies(&login(Some(6)), Timestamp(900), &s, now));
    // A request stored before the ID was noted: the same second counts as after.
    assert!(satisfies(&login(None), Timestamp(900), &s, now));
    // The same for a voluntary level the session does not prove.
    let pr = |before: Option<i64>| AuthRequest {
        acr_values: vec![ACR_VALUES[2].into()],
        sessions_before: before,
        ..req()
    };
    assert!(!satisfies(&pr(Some(7)), Timestamp(900), &s, now));
    assert!(satisfies(&pr(Some(6)), Timestamp(900), &s, now));
}

#[test]
fn acr_values_must_be_three_distinct_words() {
    let with = |acr_values: AcrNames| {
        crate::oidc::OidcSettings {
            acr_values,
            ..Default::default()
        }
        .check()
    };
    assert!(with(AcrNames::default()).is_ok());
    let same = AcrNames {
        multi_factor: ACR_VALUES[0].into(),
        ..AcrNames::default()
    };
    assert!(with(same).is_err());
    let spaced = AcrNames {
        password: "urn:a b".into(),
        ..AcrNames::default()
    };
    assert!(with(spaced).is_err());
    let empty = AcrNames {
        phishing_resistant: String::new(),
        ..AcrNames::default()
    };
    assert!(with(empty).is_err());
}
