//! The password policy as a person reads it: one list of rules, from which the pages' rules box,
//! its live check (the pages' script reads each rule's id and the numbers) and the reading of a
//! refusal (each [`PolicyViolation`] names the rule it breaks) all follow. A rule stated here is
//! exactly what [`PasswordPolicy::check`] enforces, so the box never ticks what the server refuses.

use super::PasswordPolicy;
use crate::error::PolicyViolation;
use crate::lang::Lang;

/// One rule of a password policy, in the order the box lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Between `min` and `max` characters (after full-width characters become half-width).
    Length {
        /// The minimum for this login (with or without a second factor).
        min: usize,
        /// The maximum.
        max: usize,
    },
    /// At least one letter and one digit.
    LettersAndDigits,
    /// Half-width letters, digits and symbols only (no space).
    HalfWidth,
    /// The login ID does not appear in it, in upper or lower case.
    NoLoginId,
    /// Not on the list of commonly used passwords.
    NotCommon,
    /// Not one of the last `generations` passwords (the current one included); only the server
    /// can tell, from the stored hashes.
    NotRecent {
        /// How many passwords are remembered.
        generations: usize,
    },
    /// A trading password differs from the login password (the server compares it with the
    /// login password's hash).
    NotLoginPassword,
}

impl Rule {
    /// The stable id the pages mark the rule with (`data-rule`), which the script checks.
    pub fn id(self) -> &'static str {
        match self {
            Rule::Length { .. } => "length",
            Rule::LettersAndDigits => "mixed",
            Rule::HalfWidth => "ascii",
            Rule::NoLoginId => "login_id",
            Rule::NotCommon => "common",
            Rule::NotRecent { .. } => "history",
            Rule::NotLoginPassword => "login_password",
        }
    }

    /// Whether the page can check the rule as the customer types (all but those that need the
    /// stored hashes).
    pub fn checked_as_typed(self) -> bool {
        !matches!(self, Rule::NotRecent { .. } | Rule::NotLoginPassword)
    }

    /// The rule in words, as the box lists it.
    pub fn text(self, lang: Lang) -> String {
        match (self, lang) {
            (Rule::Length { min, max }, Lang::Ja) => format!("{min}文字以上{max}文字以下"),
            (Rule::Length { min, max }, Lang::En) => format!("{min} to {max} characters"),
            (Rule::LettersAndDigits, Lang::Ja) => "英字と数字をそれぞれ1文字以上含む".into(),
            (Rule::LettersAndDigits, Lang::En) => "At least one letter and one digit".into(),
            (Rule::HalfWidth, Lang::Ja) => "半角の英数字・記号のみ(スペースは使えません)".into(),
            (Rule::HalfWidth, Lang::En) => {
                "Half-width letters, digits and symbols only (no spaces)".into()
            }
            (Rule::NoLoginId, Lang::Ja) => {
                "ログインIDを含まない(大文字・小文字の違いは問いません)".into()
            }
            (Rule::NoLoginId, Lang::En) => {
                "Does not contain your login ID (capital or small letters alike)".into()
            }
            (Rule::NotCommon, Lang::Ja) => "よく使われるパスワードではない".into(),
            (Rule::NotCommon, Lang::En) => "Not a commonly used password".into(),
            (Rule::NotRecent { generations }, Lang::Ja) => format!(
                "現在を含む直近{generations}回分のパスワードと異なる(送信後に確認します)"
            ),
            (Rule::NotRecent { generations }, Lang::En) => format!(
                "Not one of your last {generations} passwords, the current one included (checked when you send it)"
            ),
            (Rule::NotLoginPassword, Lang::Ja) => {
                "ログインパスワードと異なる(送信後に確認します)".into()
            }
            (Rule::NotLoginPassword, Lang::En) => {
                "Not the same as your login password (checked when you send it)".into()
            }
        }
    }
}

/// What the box says under the rules: the server reads full-width letters, digits and symbols
/// (as a Japanese IME types them) as half-width before it checks or stores a password.
pub fn full_width_note(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "全角で入力した英数字・記号は、半角として扱います。",
        Lang::En => {
            "Full-width letters, digits and symbols (as a Japanese keyboard may type them) count as their half-width forms."
        }
    }
}

impl PasswordPolicy {
    /// The rules a new password of a login (with or without a second factor) must meet, in the
    /// order the box lists them.
    pub fn rules(&self, has_second_factor: bool) -> Vec<Rule> {
        let mut rules = vec![Rule::Length {
            min: self.min_length_for(has_second_factor),
            max: self.max_length,
        }];
        if self.require_letters_and_digits {
            rules.push(Rule::LettersAndDigits);
        }
        if self.ascii_only {
            rules.push(Rule::HalfWidth);
        }
        rules.push(Rule::NoLoginId);
        if self.blocklist {
            rules.push(Rule::NotCommon);
        }
        if self.history > 0 {
            rules.push(Rule::NotRecent {
                generations: self.history,
            });
        }
        rules
    }

    /// The rules of a trading password: the same checks, no history, and not the login
    /// password.
    pub fn trading_rules(&self, has_second_factor: bool) -> Vec<Rule> {
        let mut rules = self.rules(has_second_factor);
        rules.retain(|r| !matches!(r, Rule::NotRecent { .. }));
        rules.push(Rule::NotLoginPassword);
        rules
    }
}

/// The commonly used passwords the `nist-800-63b-4` preset refuses (one a line, lower case,
/// `#` comments), which the pages' script loads to check the rule as the customer types.
pub fn common_passwords() -> &'static str {
    super::policy::COMMON_TEXT
}

impl PolicyViolation {
    /// The id of the rule this refusal breaks. (A policy that allows any character but control
    /// characters lists no `ascii` rule: no keyboard types them.)
    pub fn rule_id(&self) -> &'static str {
        match self {
            PolicyViolation::TooShort { .. } | PolicyViolation::TooLong { .. } => "length",
            PolicyViolation::Composition => "mixed",
            PolicyViolation::InvalidCharacters => "ascii",
            PolicyViolation::ContainsLoginId => "login_id",
            PolicyViolation::Common => "common",
            PolicyViolation::Reused { .. } => "history",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::password::Preset;

    fn verdict(p: &PasswordPolicy, typed: &str, id: &str) -> Option<&'static str> {
        match p.check(&PasswordPolicy::normalize(typed), id, false) {
            Ok(()) => None,
            Err(Error::PasswordPolicy(v)) => Some(v.rule_id()),
            Err(e) => unreachable!("{e:?}"),
        }
    }

    #[test]
    fn every_refusal_names_a_rule_the_box_lists() {
        for preset in [Preset::JpBroker, Preset::Nist80063b4] {
            let p = PasswordPolicy::preset(preset);
            let ids: Vec<_> = p.rules(false).iter().map(|r| r.id()).collect();
            for (typed, id) in [
                ("a1", "tanaka"),
                (&"a1".repeat(40), "tanaka"),
                ("abcdefghijklmnopq", "tanaka"),
                ("xTanaka12345678901", "tanaka"),
                ("password12", "tanaka"),
            ] {
                if let Some(rule) = verdict(&p, typed, id) {
                    assert!(
                        ids.contains(&rule),
                        "{preset:?} {typed}: {rule} not in {ids:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_box_says_contains_as_the_server_refuses_it() {
        let p = PasswordPolicy::preset(Preset::JpBroker);
        assert_eq!(verdict(&p, "abcTANAKA123", "tanaka"), Some("login_id"));
        assert!(Rule::NoLoginId.text(Lang::Ja).contains("含まない"));
        assert!(Rule::NoLoginId.text(Lang::En).contains("contain"));
    }

    #[test]
    fn full_width_input_is_read_half_width() {
        let p = PasswordPolicy::preset(Preset::JpBroker);
        assert_eq!(verdict(&p, "ａｂｃ１２３４５", "tanaka"), None);
        assert_eq!(verdict(&p, "ａｂｃ　１２３４５", "tanaka"), Some("ascii"));
        assert_eq!(
            verdict(&p, "ｔａｎａｋａ１２３", "tanaka"),
            Some("login_id")
        );
    }

    #[test]
    fn each_preset_lists_its_own_rules() {
        let jp = PasswordPolicy::preset(Preset::JpBroker).rules(true);
        let ids: Vec<_> = jp.iter().map(|r| r.id()).collect();
        assert_eq!(ids, ["length", "mixed", "ascii", "login_id", "history"]);
        assert_eq!(jp[0].text(Lang::Ja), "8文字以上16文字以下");
        let nist = PasswordPolicy::preset(Preset::Nist80063b4);
        let ids: Vec<_> = nist.rules(false).iter().map(|r| r.id()).collect();
        assert_eq!(ids, ["length", "login_id", "common"]);
        assert_eq!(nist.rules(false)[0].text(Lang::En), "15 to 64 characters");
        assert_eq!(nist.rules(true)[0].text(Lang::En), "8 to 64 characters");
    }
}
