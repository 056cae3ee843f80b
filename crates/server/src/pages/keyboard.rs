//! The password fields' helpers on every page (`static/password.js` does the work in the
//! browser): 「パスワードを表示する」 beside every password and one-time-password field (Gungin,
//! Hokuyo), and the software keyboard (ソフトウェアキーボード, Shoko Chukin FX §2.7) beside
//! every password field when the firm offers it (`pages.software_keyboard`). The keyboard's
//! symbols come from the password policy the server enforces, so it offers exactly what a
//! password may contain.

use sekisho_core::password::PasswordPolicy;

/// What the layout needs to offer the software keyboard.
pub struct Keyboard {
    /// The firm offers it.
    pub on: bool,
    /// The symbols (besides letters and digits) a password may contain.
    pub symbols: String,
}

impl Keyboard {
    pub fn new(on: bool, policy: &PasswordPolicy) -> Keyboard {
        Keyboard {
            on,
            symbols: policy.symbols(),
        }
    }
}

/// The helpers' words (keys `pw.` and `kb.`), in Japanese and English.
pub(super) fn text(key: &str) -> (&'static str, &'static str) {
    match key {
        "pw.show" => ("パスワードを表示する", "Show password"),
        "kb.open" => ("ソフトウェアキーボードを開く", "Open the software keyboard"),
        "kb.title" => ("ソフトウェアキーボード", "Software keyboard"),
        "kb.how" => (
            "画面上のボタンを一文字ずつ押してパスワードを入力し、「確定」を押してください。キーの並びは開くたびに変わります。「キャンセル」を押すと、入力した文字は破棄されます。",
            "Press the buttons on the screen one character at a time, then \u{201c}Confirm\u{201d}. The keys are in a new order each time the keyboard opens. \u{201c}Cancel\u{201d} discards what you entered.",
        ),
        "kb.caveat" => (
            "ソフトウェアキーボードのご利用は、スパイウェア等の対策として安全を保証するものではありませんが、お手元のキーボードを用いた場合と比較しセキュリティレベルを向上させることを目的としております。",
            "The software keyboard does not guarantee protection against spyware and the like; it is meant to raise the level of security compared with typing on your own keyboard.",
        ),
        "kb.typed" => ("入力した文字", "What you entered"),
        "kb.count" => ("{n}文字入力済み", "{n} characters entered"),
        "kb.digits" => ("数字", "Digits"),
        "kb.letters" => ("英字", "Letters"),
        "kb.symbols" => ("記号", "Symbols"),
        "kb.shift" => ("Shift(大文字)", "Shift (capitals)"),
        "kb.upper" => ("大文字", "capital"),
        "kb.lower" => ("小文字", "small"),
        "kb.space" => ("空白", "Space"),
        "kb.back" => ("1文字削除", "Delete one"),
        "kb.clear" => ("すべて消去", "Clear"),
        "kb.ok" => ("確定", "Confirm"),
        "kb.cancel" => ("キャンセル", "Cancel"),
        _ => ("?", "?"),
    }
}
