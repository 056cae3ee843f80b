//! The activity history's details in Japanese. A record's description is stored once, in
//! English, and covered by the audit chain's hash, so it cannot be rewritten; a reader of the
//! Japanese history gets it in Japanese from this table of the descriptions Sekisho writes
//! (`{}` stands for a value: a token ID, a count, an address, or a phrase of this table, which
//! is put into Japanese too). A description no row matches (a newer one, or free text) is
//! shown as it was written.

/// `(English as written, Japanese)`: `{}` in the English is a value; `{0}`, `{1}`… in the
/// Japanese place the values in their order of appearance in the English. More specific rows
/// come before more general ones; the first that matches wins.
const ROWS: &[(&str, &str)] = &[
    // Factors and values that appear inside other descriptions.
    ("authenticator app", "認証アプリ"),
    ("token", "トークン"),
    ("recovery codes", "リカバリーコード"),
    ("recovery code", "リカバリーコード"),
    ("e-mail code", "メール認証コード"),
    ("password", "パスワード"),
    ("passkey", "パスキー"),
    ("totp", "認証アプリ"),
    ("email", "メール認証コード"),
    ("recovery_code", "リカバリーコード"),
    ("operator", "オペレーター"),
    ("api_token", "APIトークン"),
    ("system", "システム"),
    ("self", "お客さま"),
    ("true", "あり"),
    ("false", "なし"),
    ("temporary", "仮パスワード"),
    ("expired", "有効期限切れ"),
    ("trading password change", "取引パスワード変更"),
    ("second factor", "二段階認証"),
    ("none", "パスワードのみ"),
    ("any", "登録済みのいずれか"),
    ("ja", "日本語"),
    ("en", "英語"),
    // Logins.
    ("passkey (passwordless)", "パスキー(パスワードなし)"),
    ("password + familiar browser ({} skipped; device {}, {})", "パスワード+記憶したブラウザ({0}を省略、端末 {1}、{2})"),
    ("password + familiar browser", "パスワード+記憶したブラウザ"),
    ("password + {}", "パスワード+{0}"),
    ("wrong password", "パスワードの誤り"),
    ("no password set", "パスワード未設定"),
    ("login locked (right password)", "ロック中(パスワードは正しい)"),
    ("login locked (wrong password)", "ロック中(パスワードの誤り)"),
    ("unknown login ID", "登録のないログインID"),
    ("password change required ({})", "パスワードの変更が必要({0})"),
    ("locked after {} consecutive password failures", "パスワードの{0}回連続の誤りによりロック"),
    ("sessions revoked: login locked", "ロックによりログイン中の端末を解除"),
    ("all sessions revoked by operator", "オペレーターがログイン中の端末をすべて解除"),
    ("password lock lifted {} s after it was set (lockout_mode timed; {} failures)", "パスワードのロックを{0}秒後に自動解除(lockout_mode timed、誤り{1}回)"),
    ("unlock requested; login was not locked (failure count reset)", "ロック解除の依頼(ロックはなく、誤りの回数をリセット)"),
    ("password (locked after {} failures)", "パスワード({0}回の誤りでロック)"),
    ("unlocked: {}", "ロック解除: {0}"),
    // Second factors.
    ("authenticator app: one-time password already used", "認証アプリ、使用済みのワンタイムパスワード"),
    ("authenticator app: wrong or expired one-time password", "認証アプリ、ワンタイムパスワードの誤りまたは期限切れ"),
    ("authenticator app enrolment started", "認証アプリの登録を開始"),
    ("authenticator app registered (TOTP)", "認証アプリを登録"),
    ("authenticator app key shown again (another device)", "認証アプリのキーを再表示(別の端末の登録)"),
    ("authenticator app removed by the customer (利用停止)", "お客さまが認証アプリの利用を停止"),
    ("e-mail code: wrong code", "メール認証コード、コードの誤り"),
    ("e-mail code refused: no longer usable", "メール認証コード、期限切れまたは入力回数の超過により使用不可"),
    ("login code sent to {}", "送信先 {0}"),
    ("login code re-issued to {} (failures so far: {})", "再発行、送信先 {0}、これまでの誤り {1}回"),
    ("recovery code used as the second factor", "リカバリーコードで二段階認証"),
    ("recovery code: wrong or already used code", "リカバリーコード、誤りまたは使用済みのコード"),
    ("recovery code: refused: locked by wrong codes", "リカバリーコード、誤りが続いたためロック中"),
    ("recovery code: {}", "リカバリーコード、{0}"),
    ("the login has no recovery codes", "リカバリーコード未発行"),
    ("{} recovery codes generated; the earlier set no longer works", "リカバリーコードを{0}個発行(以前のコードは無効)"),
    ("{} recovery codes generated", "リカバリーコードを{0}個発行"),
    ("{} locked after {} consecutive wrong codes", "{0}、{1}回連続の誤りによりロック"),
    ("one-time password already used", "使用済みのワンタイムパスワード"),
    ("wrong or expired one-time password", "ワンタイムパスワードの誤りまたは期限切れ"),
    ("passkey registration refused: {}", "パスキーの登録を拒否({0})"),
    ("passkey \"{}\" used (counter {}, backed up: {})", "パスキー「{0}」を使用(カウンター {1}、バックアップ {2})"),
    ("passkey \"{}\": signature counter did not move forward (stored {}); suspended", "パスキー「{0}」、署名カウンターが進んでいないため停止(記録値 {1})"),
    ("passkey {} renamed to \"{}\"", "パスキー {0} の名前を「{1}」に変更"),
    // Tokens.
    ("token registration: token ID {} unknown or not available", "利用開始登録、トークンID {0} は登録がないか利用できません"),
    ("token registration {}: outside its validity period", "トークン {0} の利用開始登録、有効期間外"),
    ("token registration {}: {}", "トークン {0} の利用開始登録、{1}"),
    ("token resynchronisation {}: {}", "トークン {0} の同期ズレ補正、{1}"),
    ("resynchronisation with wrong codes", "誤ったワンタイムパスワードによる同期ズレ補正"),
    ("token {} registered (start of use)", "トークン {0} の利用開始登録"),
    ("token {} resynchronised to counter {}", "トークン {0} の同期ズレを補正(カウンター {1})"),
    ("token {} resynchronised, drift {} steps", "トークン {0} の同期ズレを補正(ずれ {1} ステップ)"),
    ("token {} assigned by an operator", "オペレーターがトークン {0} を割り当て"),
    ("token {}: outside its validity period or out of transactions", "トークン {0}、有効期間外または利用回数の上限"),
    ("token {}: {}", "トークン {0}、{1}"),
    ("returned to stock", "在庫に戻す"),
    // Passwords.
    ("password changed by the customer; other sessions revoked", "お客さまがパスワードを変更(他の端末のログインを解除)"),
    ("refused: wrong current password", "現在のパスワードの誤りにより拒否"),
    ("{} refused: wrong trading password", "{0}、取引パスワードの誤りにより拒否"),
    ("{} refused: wrong current password", "{0}、現在のパスワードの誤りにより拒否"),
    ("changed by the customer", "お客さまが変更"),
    ("reset by an operator", "オペレーターが再設定"),
    ("set by an operator", "オペレーターが設定"),
    ("initial temporary password set", "初期の仮パスワードを設定"),
    ("initial password set", "初期パスワードを設定"),
    ("password set in the setup wizard from a link made by {} {}", "初期設定でパスワードを設定({0} {1} が作成したリンク)"),
    ("setup wizard finished (link made by {} {})", "初期設定を完了({0} {1} が作成したリンク)"),
    ("setup link created (password: {}, second factor: {}; URL shown to the creator; older unused links revoked)", "設定用リンクを作成(パスワード{0}、二段階認証{1}、URLを作成者に表示、未使用の以前のリンクは無効)"),
    ("setup link created (password: {}, second factor: {}; mailed to the registered address only; older unused links revoked)", "設定用リンクを作成(パスワード{0}、二段階認証{1}、ご登録のメールアドレスにのみ送信、未使用の以前のリンクは無効)"),
    // Delivery address, notices, browsers.
    ("code delivery address change to {} requested; confirmation code sent there", "認証コードの送信先を{0}に変更する申し込み(確認コードを送信)"),
    ("no code delivery address change pending (none, expired or too many wrong codes)", "送信先変更の申し込みなし(未申し込み、期限切れ、または誤りの回数の超過)"),
    ("wrong confirmation code for the new code delivery address", "新しい送信先の確認コードの誤り"),
    ("code delivery address {} confirmed", "認証コードの送信先 {0} を確認"),
    ("code delivery address changed from {} to {}; the old address was told", "認証コードの送信先を{0}から{1}に変更(以前の送信先に通知)"),
    ("code delivery address {} removed; codes go to the registered address", "認証コードの送信先 {0} を削除(以後はご登録のメールアドレスに送信)"),
    ("notify_login=true (by the customer)", "お客さまがログイン通知を「受け取る」に変更"),
    ("notify_login=false (by the customer)", "お客さまがログイン通知を「受け取らない」に変更"),
    ("familiar browser remembered for {} until {} ({}, device {})", "{0}を省略するブラウザとして{1}まで記憶({2}、端末 {3})"),
    ("familiar browser {} revoked by the customer", "お客さまが記憶したブラウザ {0} を解除"),
    ("all familiar browsers revoked by operator", "オペレーターが記憶したブラウザをすべて解除"),
    ("second_factor={}, mfa_required={}", "二段階認証：{0}、必須：{1}"),
    // A login's changes by an operator ("display_name=…, mfa_required=true").
    ("display_name={}", "氏名を「{0}」に変更"),
    ("email={}", "メールアドレスを{0}に変更"),
    ("lang={}", "言語を{0}に変更"),
    ("second_factor={}", "二段階認証の方法を「{0}」に変更"),
    ("mfa_required=true", "二段階認証を必須に変更"),
    ("mfa_required=false", "二段階認証を任意に変更"),
    ("notify_login=true", "ログイン通知を「受け取る」に変更"),
    ("notify_login=false", "ログイン通知を「受け取らない」に変更"),
    ("disabled=true (sessions revoked)", "利用停止(ログイン中の端末を解除)"),
    ("disabled=false", "利用再開"),
    ("erased: {}", "{0}を消去"),
    ("step-up: {}", "お手続きの確認、{0}"),
    ("request no longer pending", "確認待ちではない依頼"),
];

/// The description in Japanese, if rows of the table say it: one row, or a list of them
/// ("display_name=…, mfa_required=true").
pub fn ja(text: &str) -> Option<String> {
    let text = text.trim();
    let list = || {
        let parts: Option<Vec<String>> = text.split(", ").map(row).collect();
        parts.filter(|p| p.len() > 1).map(|p| p.join("、"))
    };
    // An operator's changes ("key=value, key=value") are a list first: a value never holds
    // ", " there, while other descriptions hold it inside their values.
    if text.contains('=') {
        row_of(text, |en| en.contains(", "))
            .or_else(list)
            .or_else(|| row(text))
    } else {
        row(text).or_else(list)
    }
}

/// The description in Japanese, if one row of the table says it.
fn row(text: &str) -> Option<String> {
    row_of(text, |_| true)
}

/// The same among the rows whose English `pick` chooses.
fn row_of(text: &str, pick: impl Fn(&str) -> bool) -> Option<String> {
    ROWS.iter().filter(|(en, _)| pick(en)).find_map(|(en, ja)| {
        let values = matches(en, text)?;
        let mut out = (*ja).to_owned();
        for (i, v) in values.iter().enumerate() {
            out = out.replace(&format!("{{{i}}}"), &value(v));
        }
        Some(out)
    })
}

/// A value put into Japanese: a phrase of the table, a list of them ("password (…), token"),
/// or itself.
fn value(v: &str) -> String {
    if let Some(t) = ja(v) {
        return t;
    }
    // A factor named with its ID ("token HW-1" in "… locked after 10 consecutive wrong codes").
    if let Some(id) = v.strip_prefix("token ").filter(|id| !id.contains(' ')) {
        return format!("トークン {id}");
    }
    if v.contains(", ") {
        let parts: Vec<String> = v
            .split(", ")
            .map(|p| ja(p).unwrap_or(p.to_owned()))
            .collect();
        return parts.join("、");
    }
    v.to_owned()
}

/// The values of `text` at the `{}` of `pattern`, if the text has the pattern's shape (each
/// value non-empty, the shortest that lets the rest match).
fn matches<'a>(pattern: &str, text: &'a str) -> Option<Vec<&'a str>> {
    let literals: Vec<&str> = pattern.split("{}").collect();
    let (first, rest) = literals.split_first()?;
    let mut at = text.strip_prefix(first)?;
    let mut values = Vec::new();
    for (i, lit) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let end = if last {
            if lit.is_empty() {
                at.len()
            } else {
                at.strip_suffix(lit).map(str::len)?
            }
        } else {
            // The shortest non-empty value followed by the next literal.
            at.get(1..)?.find(lit)? + 1
        };
        if end == 0 {
            return None;
        }
        values.push(at.get(..end)?);
        at = at.get(end + lit.len()..)?;
    }
    at.is_empty().then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_example_reads_in_japanese() {
        assert_eq!(
            ja("authenticator app: wrong or expired one-time password").as_deref(),
            Some("認証アプリ、ワンタイムパスワードの誤りまたは期限切れ")
        );
        assert_eq!(
            ja("token HW-1: wrong or expired one-time password").as_deref(),
            Some("トークン HW-1、ワンタイムパスワードの誤りまたは期限切れ")
        );
        assert_eq!(
            ja("token HW-1 locked after 10 consecutive wrong codes").as_deref(),
            Some("トークン HW-1、10回連続の誤りによりロック")
        );
        assert_eq!(
            ja("password + authenticator app").as_deref(),
            Some("パスワード+認証アプリ")
        );
        assert_eq!(
            ja("unlocked: password (locked after 5 failures), authenticator app").as_deref(),
            Some("ロック解除: パスワード(5回の誤りでロック)、認証アプリ")
        );
        assert_eq!(
            ja("login code sent to t***@example.jp").as_deref(),
            Some("送信先 t***@example.jp")
        );
        assert_eq!(
            ja("display_name=山田 花子, mfa_required=true").as_deref(),
            Some("氏名を「山田 花子」に変更、二段階認証を必須に変更")
        );
        assert_eq!(
            ja("second_factor=none, mfa_required=false").as_deref(),
            Some("二段階認証：パスワードのみ、必須：なし")
        );
        assert_eq!(
            ja("erased: password, second factor").as_deref(),
            Some("パスワード、二段階認証を消去")
        );
    }

    #[test]
    fn unknown_text_is_left_as_written() {
        assert_eq!(ja("client crm (CRM) deleted"), None);
        assert_eq!(ja("password +"), None);
    }
}
