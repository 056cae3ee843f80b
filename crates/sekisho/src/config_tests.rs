//! Tests of the configuration loader: files, environment, checks and the keys document.

use super::*;
use sekisho_core::password::Preset;

fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A key's documented default as a TOML value, if it is a literal (not "unset", "preset",
/// or a placeholder such as `"http://<listen>"`).
fn literal_default(k: &Key) -> Option<toml::Value> {
    if k.default.contains('<') {
        return None;
    }
    let t: toml::Table = format!("v = {}", k.default).parse().ok()?;
    t.get("v").cloned()
}

#[test]
fn every_documented_key_is_accepted_from_the_environment() {
    let v: Vec<(String, String)> = KEYS
        .iter()
        .map(|k| {
            let val = match (k.kind, literal_default(k)) {
                ("integer", _) => "7".to_owned(),
                ("bool", _) => "true".to_owned(),
                (_, Some(toml::Value::String(s))) => s,
                (_, Some(toml::Value::Array(a))) => a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                _ if k.path == "mfa.mandatory_from" => "2026-06-22T00:00:00+09:00".into(),
                _ if k.path == "password.lockout_mode" => "timed".into(),
                _ => "x".to_owned(),
            };
            (env_name(k.path), val)
        })
        .collect();
    let c = Config::merge(toml::Table::new(), v, &ConfigArgs::default());
    assert!(c.is_ok(), "{c:?}");
}

#[test]
fn literal_defaults_in_keys_are_the_structs_defaults() {
    let mut defaults =
        toml::Value::try_from(Config::default()).unwrap_or_else(|e| unreachable!("{e}"));
    let settings =
        toml::Value::try_from(Settings::default()).unwrap_or_else(|e| unreachable!("{e}"));
    if let (Some(d), toml::Value::Table(s)) = (defaults.as_table_mut(), settings) {
        d.extend(s);
    }
    let mut checked = 0;
    for k in KEYS {
        let Some(documented) = literal_default(k) else {
            continue;
        };
        let actual = k.path.split('.').try_fold(&defaults, |v, part| v.get(part));
        assert_eq!(
            actual,
            Some(&documented),
            "{}: KEYS says {}, the struct's Default says {actual:?}",
            k.path,
            k.default
        );
        checked += 1;
    }
    assert!(checked > 50, "only {checked} literal defaults");
}

#[test]
fn tls_files_come_as_a_pair() {
    let e = Config::from_toml("[tls]\ncert_file = \"/etc/sekisho/cert.pem\"\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("tls.cert_file and tls.key_file"), "{e}");
    let c = Config::from_toml("").unwrap_or_else(|e| unreachable!("{e}"));
    assert!(c.tls.load().is_ok_and(|t| t.is_none()), "no TLS by default");
}

#[test]
fn precedence_file_env_flags() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let file = dir.path().join("s.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:9000\"\n[password]\npreset = \"nist-800-63b-4\"\nlockout_threshold = 7\n")
        .unwrap_or_else(|e| unreachable!("{e}"));
    let args = ConfigArgs {
        config: Some(file),
        data_dir: Some("/tmp/x".into()),
        ..Default::default()
    };
    let c = Config::load(
        &args,
        vars(&[
            ("SEKISHO_PASSWORD_LOCKOUT_THRESHOLD", "9"),
            ("SEKISHO_TEST_DATABASE_URL", "ignored"),
        ]),
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(c.listen, "127.0.0.1:9000");
    assert_eq!(c.settings.password.preset, Preset::Nist80063b4);
    assert_eq!(c.settings.password.lockout_threshold, Some(9));
    assert_eq!(c.settings.password_policy.lockout_threshold, 9);
    assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
    assert_eq!(c.settings.public_url, "http://127.0.0.1:9000");
    assert_eq!(c.outbox_dir(), PathBuf::from("/tmp/x/outbox"));
}

#[test]
fn unknown_keys_are_errors() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let file = dir.path().join("s.toml");
    std::fs::write(&file, "[password]\npresett = \"x\"\n").unwrap_or_else(|e| unreachable!("{e}"));
    let args = ConfigArgs {
        config: Some(file),
        ..Default::default()
    };
    let e = Config::load(&args, vec![])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("presett"), "{e}");
    let e = Config::load(&ConfigArgs::default(), vars(&[("SEKISHO_LISTN", "x")]))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("SEKISHO_LISTN"), "{e}");
    let e = Config::load(
        &ConfigArgs::default(),
        vars(&[("SEKISHO_PASSWORD_HISTORY", "two")]),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("integer"), "{e}");
    for text in ["listn = \"x\"\n", "[mail]\nsmtp_hots = \"x\"\n"] {
        let e = Config::from_toml(text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("unknown field"), "{text}: {e}");
    }
}

#[test]
fn wrong_values_name_their_key() {
    for (text, key) in [
        ("[password]\nhistory = \"two\"\n", "password.history"),
        ("[password]\npreset = \"nist\"\n", "password.preset"),
        ("[totp]\nalgorithm = \"MD5\"\n", "totp.algorithm"),
        ("[mail]\nsmtp_tls = \"ssl\"\n", "mail.smtp_tls"),
        ("[mfa]\nmandatory_from = \"soon\"\n", "mfa.mandatory_from"),
        (
            "[step_up]\nallowed_methods = [\"sms\"]\n",
            "step_up.allowed_methods",
        ),
        (
            "database_sqlite_synchronous = \"off\"\n",
            "database_sqlite_synchronous",
        ),
        ("[totp]\ndigits = 9\n", "totp.digits"),
        (
            "[password]\nlockout_mode = \"forever\"\n",
            "password.lockout_mode",
        ),
        (
            "[password]\nlockout_duration_secs = 5\n",
            "password.lockout_duration_secs",
        ),
        (
            "[throttle]\nper_login_burst = 0\n",
            "throttle.per_login_burst",
        ),
        (
            "[throttle]\ndelay_cap_secs = 86400\n",
            "throttle.delay_base_secs",
        ),
        // The fixed windows' keys are gone (throttle.* replaces them).
        (
            "[pages]\nrate_per_ip_per_minute = 60\n",
            "rate_per_ip_per_minute",
        ),
    ] {
        let e = Config::from_toml(text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains(key), "{text}: {e}");
    }
}

#[test]
fn passkey_required_kinds_are_checked_and_need_passkeys_allowed() {
    use sekisho_core::step_up::{ConfirmMethod, OperationKind};
    let c = Config::from_toml("").unwrap_or_else(|e| unreachable!("{e}"));
    let p = c.settings.step_up.policy();
    assert_eq!(p.allowed, ConfirmMethod::ALL.to_vec());
    assert!(p.passkey_required.is_empty());
    let c = Config::load(
        &ConfigArgs::default(),
        vars(&[(
            "SEKISHO_STEP_UP_PASSKEY_REQUIRED_KINDS",
            "withdrawal, withdrawal_account_change",
        )]),
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        c.settings.step_up.policy().passkey_required,
        vec![
            OperationKind::Withdrawal,
            OperationKind::WithdrawalAccountChange
        ]
    );
    let e = Config::from_toml(
        "[step_up]\nallowed_methods = [\"totp\"]\npasskey_required_kinds = [\"withdrawal\"]\n",
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.contains("step_up.passkey_required_kinds"), "{e}");
    let e = Config::from_toml("[step_up]\npasskey_required_kinds = [\"transfer\"]\n")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("step_up.passkey_required_kinds"), "{e}");
}

#[test]
fn derived_defaults_follow_the_process_keys() {
    let c = Config::from_toml("listen = \"0.0.0.0:9443\"\ndata_dir = \"/srv/sekisho\"\n")
        .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(c.settings.public_url, "http://0.0.0.0:9443");
    assert_eq!(c.outbox_dir(), PathBuf::from("/srv/sekisho/outbox"));
    // An IP is no relying party ID: passkeys run on localhost at the same port.
    assert_eq!(c.settings.passkeys.rp_id.as_deref(), Some("localhost"));
    assert_eq!(
        c.settings.passkeys.origins,
        Some(vec!["http://localhost:9443".to_owned()])
    );
    let c = Config::from_toml(
        "public_url = \"https://login.example.co.jp/\"\n[mail]\nfirm_name = \"関所証券\"\n",
    )
    .unwrap_or_else(|e| unreachable!("{e}"));
    assert_eq!(
        c.settings.passkeys.rp_id.as_deref(),
        Some("login.example.co.jp")
    );
    assert_eq!(c.settings.passkeys.rp_name.as_deref(), Some("関所証券"));
}

#[test]
fn configuration_doc_lists_every_key() {
    let doc = include_str!("../../../docs/configuration.md");
    assert!(
        doc.contains(&keys_markdown()),
        "docs/configuration.md is out of date: run `sekisho config keys`"
    );
}
