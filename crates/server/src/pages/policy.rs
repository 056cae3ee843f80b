//! The password rules box of the pages that set a password (setup wizard, forced change, the
//! security settings, the operators' setup): the rules of core's [`PasswordPolicy::rules`] in
//! words, with what the pages' script needs to check each one as the customer types, exactly as
//! the server will (`static/pages.js`).

use super::{Shown, Tx};
use sekisho_core::password::{full_width_note, PasswordPolicy, Rule};
use sekisho_core::{Lang, PolicyViolation};

/// One line of the box.
pub struct RuleLine {
    /// The rule's id (`data-rule`), which the script checks.
    pub id: &'static str,
    pub text: String,
    /// Whether the script checks it as the customer types (all but the history).
    pub live: bool,
    /// The rule the server refused the last password for (shown unmet without the script).
    pub failed: bool,
}

/// The box: its lines and the numbers the script checks them with.
pub struct PolicyView {
    /// The element id, unique on the page.
    pub id: &'static str,
    pub rules: Vec<RuleLine>,
    pub min: usize,
    pub max: usize,
    pub mixed: bool,
    pub ascii: bool,
    pub common: bool,
    /// The login ID (or operator name) the password may not contain.
    pub login: String,
    pub note: &'static str,
}

impl PolicyView {
    /// The box for a login (with or without a second factor) in `tx`'s language.
    pub fn new(
        p: &PasswordPolicy,
        has_second_factor: bool,
        login: &str,
        tx: &Tx,
        refused: Option<&Shown>,
    ) -> PolicyView {
        let rules = p.rules(has_second_factor);
        PolicyView::of("policy", rules, login, tx.0, refused)
    }

    /// A box of these rules with its own element id (a page may have two).
    pub fn of(
        id: &'static str,
        rules: Vec<Rule>,
        login: &str,
        lang: Lang,
        refused: Option<&Shown>,
    ) -> PolicyView {
        let failed = refused.and_then(|s| PolicyViolation::rule_id_of_code(s.code));
        let (min, max) = rules
            .iter()
            .find_map(|r| match r {
                Rule::Length { min, max } => Some((*min, *max)),
                _ => None,
            })
            .unwrap_or_default();
        PolicyView {
            id,
            rules: rules
                .iter()
                .map(|r| RuleLine {
                    id: r.id(),
                    text: r.text(lang),
                    live: r.checked_as_typed(),
                    failed: failed == Some(r.id()),
                })
                .collect(),
            min,
            max,
            mixed: rules.contains(&Rule::LettersAndDigits),
            ascii: rules.contains(&Rule::HalfWidth),
            common: rules.contains(&Rule::NotCommon),
            login: login.to_owned(),
            note: full_width_note(lang),
        }
    }

    /// The same, naming what the password may not contain in other words (the console says
    /// "operator name" where the customer pages say "login ID").
    pub fn not_containing(mut self, text: &str) -> PolicyView {
        for r in self.rules.iter_mut().filter(|r| r.id == "login_id") {
            r.text = text.to_owned();
        }
        self
    }
}
