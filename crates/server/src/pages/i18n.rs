//! The pages' own words in Japanese and English (domain errors bring their own messages).

use sekisho_core::Lang;

/// Looks up the pages' texts in one language; templates call `tx.t("key")`.
#[derive(Debug, Clone, Copy)]
pub struct Tx(pub Lang);

impl Tx {
    /// The text for `key` (the key itself if unknown, which a test catches).
    pub fn t(&self, key: &str) -> &'static str {
        let (ja, en) = text(key);
        match self.0 {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    /// Sentences one after the other: run together in Japanese (a space after 。 reads as a
    /// stray gap), a space apart in English.
    pub fn sentences(&self, parts: &[&str]) -> String {
        match self.0 {
            Lang::Ja => parts.concat(),
            Lang::En => parts.join(" "),
        }
    }
}

fn text(key: &str) -> (&'static str, &'static str) {
    match key {
        "switch" => ("English", "日本語"),
        "skip" => ("本文へ移動", "Skip to content"),
        "login.title" => ("ログイン", "Log in"),
        "login.id" => ("ログインID", "Login ID"),
        "login.setup_hint" => (
            "ご登録のメールアドレスにお送りした設定用リンクから登録してください。リンクの有効期限: ",
            "Visit the setup link e-mailed to you; it expires ",
        ),
        "login.locked_hint" => (
            "ログインがロックされた場合は、ご登録のメールアドレスにお知らせをお送りしています。お知らせが届いている場合は、サポートデスクにロックの解除をご依頼ください。",
            "If your login has been locked, a notice was sent to your registered e-mail address; if you received it, please ask the support desk to unlock the login.",
        ),
        "login.password" => ("パスワード", "Password"),
        "login.submit" => ("ログイン", "Log in"),
        "login.changed" => (
            "パスワードを変更しました。新しいパスワードでログインしてください。",
            "Your password has been changed. Please log in with the new password.",
        ),
        "login.logged_out" => ("ログアウトしました。", "You have logged out."),
        "login.ended" => (
            "ログインしていないか、ログインの有効期限が切れています。もう一度ログインしてください。",
            "You are not logged in, or your login has expired. Please log in again.",
        ),
        "sf.title" => ("追加認証", "Additional authentication"),
        "sf.totp" => (
            "認証アプリに表示されているワンタイムパスワード(6桁)を入力してください。",
            "Enter the one-time password (6 digits) shown in your authenticator app.",
        ),
        "sf.email" => (
            "ご登録のメールアドレスに認証コードを送信しました。メールに記載の認証コードを入力してください。",
            "We have sent an authentication code to your registered e-mail address. Enter the code from the e-mail.",
        ),
        "sf.email_delivery" => (
            "ご指定の送信先メールアドレスに認証コードを送信しました。メールに記載の認証コードを入力してください。",
            "We have sent an authentication code to the delivery address you registered for codes. Enter the code from the e-mail.",
        ),
        "sf.sent_to" => ("送信先", "Sent to"),
        "sf.token" => (
            "お手元のトークンに表示されているワンタイムパスワードを入力してください。",
            "Enter the one-time password shown on your token.",
        ),
        "sf.token_id" => ("トークンID", "Token ID"),
        "sf.resync" => (
            "ワンタイムパスワードが通らない場合は、トークンの再同期を行ってください。",
            "If the one-time password is not accepted, resynchronise your token.",
        ),
        "sf.code" => ("ワンタイムパスワード", "One-time password"),
        "sf.email_code" => ("認証コード", "Authentication code"),
        "sf.remember" => (
            "このブラウザでは次回から追加認証を省略する",
            "Don't ask again on this browser",
        ),
        "sf.submit" => ("認証する", "Verify"),
        "sf.resend" => ("認証コードを再発行する", "Send a new code"),
        "sf.other" => ("別の方法で認証する", "Use another method"),
        "sf.use_totp" => (
            "認証アプリのワンタイムパスワードを使う",
            "Use the one-time password of your authenticator app",
        ),
        "sf.use_token" => (
            "トークンのワンタイムパスワードを使う",
            "Use the one-time password of your token",
        ),
        "sf.use_email" => (
            "メールで認証コードを受け取る",
            "Receive an authentication code by e-mail",
        ),
        "sf.use_recovery" => (
            "電話をなくした場合(リカバリーコードを使う)",
            "Lost your device? Use a recovery code",
        ),
        "sf.lost_title" => ("電話をなくした場合", "Lost your device"),
        "sf.recovery" => (
            "お手元に保管しているリカバリーコードを1つ入力してください。使ったコードは再度使えません。ログイン後、セキュリティ設定で認証アプリの再登録とリカバリーコードの再発行をおすすめします。",
            "Enter one of the recovery codes you kept. A code works only once. After logging in, we recommend registering your authenticator app again and generating new recovery codes in the security settings.",
        ),
        "sf.recovery_code" => ("リカバリーコード", "Recovery code"),
        "sf.restart" => ("最初からログインする", "Start the login again"),
        "tr.title" => ("トークンの利用開始登録", "Register your token"),
        "tr.intro" => (
            "初めてトークンでログインする前に、利用開始登録が必要です。トークンIDと、続けて表示される2回分のワンタイムパスワードを入力してください。",
            "Before your first login with your token, please register it: enter its token ID and two one-time passwords it shows one after the other.",
        ),
        "tr.where" => (
            "トークンIDは、ワンタイムパスワード生成アプリ(VIP Accessなど)では画面に表示される「クレデンシャルID」、ハードウェアトークンでは裏面に記載のIDです。2回目のワンタイムパスワードは、アプリでは表示が次の数字に切り替わるのを待って、ハードウェアトークンではボタンをもう一度押して、表示された数字を入力してください。",
            "The token ID is the “Credential ID” shown in a one-time password app (such as VIP Access), or the ID printed on the back of a hardware token. For the second one-time password, wait until the app shows the next one, or press the hardware token's button again.",
        ),
        "tr.done" => (
            "トークンを登録しました。次に表示されたワンタイムパスワードを入力してログインしてください。",
            "Your token is registered. Enter the next one-time password it shows to log in.",
        ),
        "resync.title" => ("トークンの再同期", "Resynchronise your token"),
        "resync.intro" => (
            "トークンに続けて表示される2回分のワンタイムパスワードを入力してください。2回目は、アプリでは表示が次の数字に切り替わるのを待って、ハードウェアトークンではボタンをもう一度押して、表示された数字を入力してください。",
            "Enter two one-time passwords your token shows one after the other (wait for the app to show the next one, or press the hardware token's button again).",
        ),
        "resync.otp1" => ("ワンタイムパスワード1(OTP1)", "One-time password 1 (OTP1)"),
        "resync.otp2" => ("ワンタイムパスワード2(OTP2)", "One-time password 2 (OTP2)"),
        "resync.submit" => ("再同期する", "Resynchronise"),
        "resync.back" => ("追加認証へ戻る", "Back to the additional authentication"),
        "resync.done" => (
            "トークンを再同期しました。新しいワンタイムパスワードでログインしてください。",
            "Your token is resynchronised. Please log in with a new one-time password.",
        ),
        "pc.title" => ("パスワード変更", "Change your password"),
        "pc.intro" => (
            "ログインを続けるには、パスワードの変更が必要です。",
            "To continue, please change your password.",
        ),
        "pc.reason.temporary" => (
            "仮パスワードでログインしました。",
            "You logged in with a temporary password.",
        ),
        "pc.reason.expired" => (
            "パスワードの有効期限が切れています。",
            "Your password has expired.",
        ),
        "pc.current" => ("現在のパスワード", "Current password"),
        "pc.new" => ("新しいパスワード", "New password"),
        "pc.confirm" => ("新しいパスワード(確認)", "New password (again)"),
        "pc.mismatch" => (
            "新しいパスワードと確認用のパスワードが一致しません。",
            "The new password and its confirmation do not match.",
        ),
        "pc.submit" => ("変更する", "Change password"),
        "policy.title" => ("パスワードの条件", "Password rules"),
        "sec.title" => ("登録情報照会(セキュリティ設定)", "Security settings"),
        "sec.login_id" => ("ログインID", "Login ID"),
        "sec.name" => ("お名前", "Name"),
        "sec.methods" => ("追加認証の方法", "Additional authentication methods"),
        "sec.method" => ("方法", "Method"),
        "sec.state" => ("状態", "State"),
        "sec.action" => ("操作", "Action"),
        "sec.totp" => ("認証アプリ(ワンタイムパスワード)", "Authenticator app (one-time password)"),
        "sec.email" => ("メール認証コード", "E-mail authentication code"),
        "sec.token" => ("ハードウェアトークン", "Hardware token"),
        "sec.in_use" => ("利用中", "In use"),
        "sec.not_registered" => ("未登録", "Not registered"),
        "sec.pending" => ("申込中", "Registration in progress"),
        "sec.apply" => ("申込", "Register"),
        "sec.proof" => (
            "変更の前に、ご本人確認のためパスワードを入力してください。",
            "Before any change, please enter your password to confirm it is you.",
        ),
        "sec.proof_trading" => (
            "変更の前に、ご本人確認のため取引パスワードを入力してください。",
            "Before any change, please enter your trading password to confirm it is you.",
        ),
        "sec.trading_password" => ("取引パスワード", "Trading password"),
        "sec.address" => ("認証コードの送信先", "Code delivery address"),
        "sec.done_totp" => (
            "認証アプリの登録が完了しました。次回のログインから、ワンタイムパスワードの入力が必要です。",
            "Your authenticator app is registered. From your next login you will be asked for its one-time password.",
        ),
        "sec.reauth_title" => ("ご本人確認", "Confirm it is you"),
        "sec.reauth_submit" => ("確認する", "Confirm"),
        "sec.reauth_first" => (
            "変更の前に、ご本人確認のためパスワードを入力してください。",
            "Please confirm it is you with your password before making changes.",
        ),
        "sec.fresh" => (
            "ご本人確認済みです(5分間)。各項目を変更できます。",
            "You have confirmed it is you (for 5 minutes) and can make changes.",
        ),
        "sec.done_reauth" => ("ご本人確認が完了しました。", "Confirmed."),
        "sec.done_stop" => (
            "認証アプリの利用を停止しました。",
            "The authenticator app is no longer used.",
        ),
        "sec.done_notify" => (
            "ログイン通知の設定を変更しました。",
            "Login notifications have been changed.",
        ),
        "sec.done_device" => (
            "ブラウザの登録を解除しました。",
            "The browser is no longer remembered.",
        ),
        "sec.done_session" => ("ログイン中の端末を解除しました。", "The session has been ended."),
        "sec.done_password" => (
            "パスワードを変更しました。他の端末のログインは解除されました。",
            "Your password has been changed. Your other sessions have been ended.",
        ),
        "sec.reveal" => ("コード再表示", "Show the key again"),
        "totp.reveal_title" => ("シークレットキーの再表示", "Your secret key again"),
        "totp.back" => ("登録情報照会へ戻る", "Back to the security settings"),
        "sec.stop" => ("利用停止", "Stop using"),
        "sec.notify" => ("ログイン通知", "Login notifications"),
        "sec.notify_text" => (
            "ログインのたびにメールでお知らせ",
            "An e-mail at every login",
        ),
        "sec.on" => ("受け取る", "On"),
        "sec.off" => ("受け取らない", "Off"),
        "sec.turn_on" => ("受け取るに変更", "Turn on"),
        "sec.turn_off" => ("受け取らないに変更", "Turn off"),
        "sec.devices" => (
            "追加認証を省略しているブラウザ",
            "Browsers that skip the additional authentication",
        ),
        "sec.none" => ("ありません。", "None."),
        "sec.last_used" => ("最終利用", "Last used"),
        "sec.revoke" => ("解除", "Revoke"),
        "sec.sessions" => ("ログイン中の端末", "Active sessions"),
        "sec.since" => ("ログイン日時", "Logged in"),
        "sec.recovery" => ("リカバリーコード", "Recovery codes"),
        "sec.recovery_left" => ("残り", "Left"),
        "sec.recovery_locked" => (
            "誤入力が続いたため利用停止中です。お問い合わせ窓口へご連絡ください。",
            "Locked after repeated wrong codes. Please contact the support desk.",
        ),
        "sec.generate" => ("発行", "Generate"),
        "sec.regenerate" => ("再発行", "Generate a new set"),
        "sec.regenerate_warn" => (
            "再発行すると、お手元の以前のリカバリーコードは使えなくなります。",
            "A new set makes your earlier recovery codes stop working.",
        ),
        "sec.change" => ("変更", "Change"),
        "sec.change_address" => ("送信先を変更する", "Change the delivery address"),
        "sec.login_password" => ("ログインパスワード", "Login password"),
        "sec.registered" => ("ご登録のメールアドレス", "Registered e-mail address"),
        "sec.new_address" => ("新しい送信先メールアドレス", "New delivery address"),
        "sec.pending_to" => ("確認待ちの送信先", "Waiting for confirmation"),
        "sec.address_sent" => (
            "新しい送信先に確認コードを送信しました。メールに記載の確認コードを入力してください。確認が済むまで、認証コードはこれまでの送信先に届きます。",
            "We have sent a confirmation code to the new address. Enter the code from the e-mail. Until then, codes keep going to the current address.",
        ),
        "sec.confirm_code" => ("確認コード", "Confirmation code"),
        "sec.confirm_submit" => ("送信先を確定する", "Confirm the new address"),
        "sec.done_address" => (
            "認証コードの送信先を変更しました。以前の送信先にもお知らせしました。",
            "The code delivery address has been changed. We told the previous address too.",
        ),
        "sec.trading_change" => ("取引パスワード変更", "Change trading password"),
        "sec.trading_current" => ("現在の取引パスワード", "Current trading password"),
        "sec.trading_first" => (
            "取引パスワードは未設定です。ログインパスワードでご本人確認のうえ設定してください。",
            "No trading password is set yet. Confirm with your login password to set one.",
        ),
        "sec.trading_new" => ("新しい取引パスワード", "New trading password"),
        "sec.trading_again" => ("新しい取引パスワード(確認)", "New trading password (again)"),
        "sec.trading_submit" => ("取引パスワードを変更する", "Change trading password"),
        "sec.done_trading" => (
            "取引パスワードを変更しました。",
            "Your trading password has been changed.",
        ),
        "rc.title" => ("リカバリーコード", "Your recovery codes"),
        "rc.intro" => (
            "電話やトークンをなくした場合に、追加認証の代わりに使えるコードです。各コードは1回だけ使えます。",
            "Use one of these codes in place of the additional authentication if you lose your phone or token. Each code works once.",
        ),
        "rc.once" => (
            "この画面は一度しか表示されません。印刷するか、安全な場所に保管してください。",
            "This page is shown only once. Print the codes or keep them somewhere safe.",
        ),
        "rc.old" => (
            "以前のリカバリーコードは使えなくなりました。",
            "Your earlier recovery codes no longer work.",
        ),
        "rc.created" => ("発行日時", "Generated"),
        "rc.print" => ("印刷する", "Print"),
        "rc.copy" => ("コピー", "Copy"),
        "rc.back" => ("保管しました(セキュリティ設定へ戻る)", "I have kept them (back to the security settings)"),
        "sec.this_session" => ("この端末", "This device"),
        "sec.password_change" => ("パスワード変更", "Change password"),
        "sec.passwords" => ("パスワード", "Passwords"),
        "act.progress" => ("お手続きの流れ", "Steps"),
        "act.input" => ("入力", "Enter"),
        "act.confirm" => ("確認", "Confirm"),
        "act.done" => ("完了", "Done"),
        "act.next" => ("確認画面へ", "Next"),
        "act.back" => ("入力画面に戻る", "Back"),
        "act.cancel" => ("登録情報照会に戻る", "Back to the security settings"),
        "act.confirm_do" => ("確定する", "Confirm"),
        "act.app_apply" => ("認証アプリの申込", "Register an authenticator app"),
        "act.app_apply_intro" => (
            "スマートフォンの認証アプリ(Google Authenticator、Microsoft Authenticator など)を登録します。次の画面で表示されるQRコードまたはシークレットキーを認証アプリに登録してください。",
            "Register an authenticator app on your phone (Google Authenticator, Microsoft Authenticator and others). The next screen shows the QR code and the secret key to add to the app.",
        ),
        "act.app_reveal" => ("認証アプリのコード再表示", "Show the authenticator app's key again"),
        "act.app_reveal_intro" => (
            "機種変更などで別の端末の認証アプリに登録するため、シークレットキーとQRコードを再表示します。現在お使いの認証アプリに表示されているワンタイムパスワードを入力してください。",
            "To add your login to the authenticator app on another device (for example a new phone), the secret key and the QR code are shown again. Enter the one-time password your current app shows.",
        ),
        "act.app_stop" => ("認証アプリの利用停止", "Stop using the authenticator app"),
        "act.app_stop_intro" => (
            "認証アプリによるワンタイムパスワードの利用を停止します。ご本人確認のため、認証アプリに表示されているワンタイムパスワードを入力してください。",
            "This stops the one-time passwords of your authenticator app. To confirm it is you, enter the one-time password the app shows.",
        ),
        "act.app_stop_confirm" => (
            "認証アプリの利用を停止します。停止後、ログイン時の追加認証は登録されている別の方法で行います。再度利用するには、あらためて申込が必要です。よろしければ「利用停止する」を押してください。",
            "Your authenticator app will no longer be used. At login, your other registered method is used for the second step; to use an app again, register it anew. Press \"Stop using\" to continue.",
        ),
        "act.app_stop_do" => ("利用停止する", "Stop using"),
        "act.address" => ("認証コードの送信先の変更", "Change where codes are sent"),
        "act.address_intro" => (
            "ログイン時の認証コードを受け取るメールアドレスを変更します。新しいアドレスに確認コードをお送りし、そのコードを入力いただくと変更が完了します。",
            "Change the e-mail address that receives your login codes. We send a confirmation code to the new address; the change is complete once you enter it.",
        ),
        "act.address_pending" => (
            "このアドレスに確認コードをお送りしました。メールに記載の確認コードを入力すると、送信先の変更が完了します。",
            "We sent a confirmation code to this address. Enter the code from the e-mail to complete the change.",
        ),
        "act.address_other" => ("別のアドレスに変更する", "Use another address"),
        "act.address_confirm" => (
            "次のメールアドレスに確認コードを送信します。送信先の変更は、確認コードの入力後に完了します。",
            "A confirmation code will be sent to the address below. The change is complete once you enter the code.",
        ),
        "act.address_do" => ("確認コードを送信する", "Send the confirmation code"),
        "act.notify" => ("ログイン通知の変更", "Change login notifications"),
        "act.notify_on_confirm" => (
            "ログインのたびに、ご登録のメールアドレスへ通知をお送りするように変更します。よろしければ「確定する」を押してください。",
            "You will receive an e-mail at your registered address each time you log in. Press \"Confirm\" to continue.",
        ),
        "act.notify_off_confirm" => (
            "ログイン通知を受け取らないように変更します。身に覚えのないログインに気づきにくくなります。よろしければ「確定する」を押してください。",
            "You will no longer receive login notices, which makes a login you did not make harder to notice. Press \"Confirm\" to continue.",
        ),
        "act.recovery" => ("リカバリーコードの発行", "Generate recovery codes"),
        "act.recovery_intro" => (
            "スマートフォンの紛失などで追加認証ができないときに、一度だけ使えるリカバリーコードを発行します。次の画面に表示されるコードは、印刷するなどして大切に保管してください。",
            "Recovery codes let you log in once each when you cannot use your second factor (for example after losing your phone). Print or store the codes shown on the next screen safely.",
        ),
        "logout" => ("ログアウト", "Log out"),
        "totp.title" => ("認証アプリの登録", "Register your authenticator app"),
        "totp.step1_title" => ("シークレットキーの登録", "Register the secret key"),
        "totp.step1" => (
            "認証アプリでQRコードを読み取ってください。",
            "Scan the QR code with your authenticator app.",
        ),
        "totp.qr_alt" => (
            "認証アプリに登録するためのQRコード",
            "QR code to register in your authenticator app",
        ),
        "totp.manual" => (
            "QRコードを読み取れない場合は、次の内容を認証アプリに手入力してください。",
            "If you cannot scan the QR code, enter the following in your app by hand.",
        ),
        "totp.account" => ("アカウント名", "Account name"),
        "totp.issuer" => ("発行者", "Issuer"),
        "totp.kind" => ("種類", "Type"),
        "totp.time_based" => ("時間ベース", "Time-based"),
        "totp.key" => ("シークレットキー", "Secret key"),
        "totp.on_this_phone" => (
            "このスマートフォンに認証アプリを入れている場合は、下のボタンを押すと認証アプリが開き、登録できます。開かない場合は「コードを表示」のキーを認証アプリに入力してください。",
            "If the authenticator app is on this phone, the button below opens it to add the account. If it does not open, enter the key under “Show code” in the app.",
        ),
        "totp.add_here" => ("認証アプリに登録する", "Add to my authenticator app"),
        "totp.show" => ("コードを表示", "Show code"),
        "totp.copy" => ("コピー", "Copy"),
        "totp.copied" => ("コピーしました", "Copied"),
        "totp.step2_title" => ("ワンタイムパスワードの確認", "Check a one-time password"),
        "totp.step2" => (
            "認証アプリに表示された6桁の数字を入力してください。",
            "Enter the 6 digits your app shows.",
        ),
        "totp.submit" => ("保存して完了", "Save and finish"),
        "return.title" => ("ログイン完了", "Logged in"),
        "return.text" => (
            "ログインしました。ご利用のサービスへ移動します。",
            "You are logged in. Taking you back to the service.",
        ),
        "return.link" => ("サービスへ進む", "Continue to the service"),
        "setup.password_title" => ("初期設定", "Set up your login"),
        "setup.steps" => (
            "1. パスワードの設定 → 2.1 シークレットキーの登録 → 2.2 ワンタイムパスワードの確認",
            "1. Set your password → 2.1 Register the secret key → 2.2 Check a one-time password",
        ),
        "setup.step1" => ("1. パスワードの設定", "1. Set your password"),
        "setup.password_only" => ("パスワードの設定", "Set your password"),
        "setup.steps_totp" => (
            "1. パスワードの設定(完了) → 2.1 シークレットキーの登録 → 2.2 ワンタイムパスワードの確認",
            "1. Set your password (done) → 2.1 Register the secret key → 2.2 Check a one-time password",
        ),
        "setup.next" => ("次へ", "Next"),
        "setup.steps_email_done" => (
            "1. パスワードの設定(完了) → 2. 認証コードの送信先の確認",
            "1. Set your password (done) → 2. Confirm where codes are sent",
        ),
        "setup.steps_token_done" => (
            "1. パスワードの設定(完了) → 2. トークンの利用開始登録",
            "1. Set your password (done) → 2. Register your token",
        ),
        "setup.steps_passkey_done" => (
            "1. パスワードの設定(完了) → 2. パスキーの登録",
            "1. Set your password (done) → 2. Register a passkey",
        ),
        "setup.later" => ("保存して終了", "Save and exit"),
        "setup.later_hint" => (
            "設定したパスワードは保存されます。二段階認証の登録は、リンクの有効期限内であれば同じリンクから再開できます。",
            "Your new password is kept. You can finish the second step later with the same link while it is valid.",
        ),
        "setup.later_title" => ("初期設定の中断", "Setup saved"),
        "setup.later_saved" => ("パスワードを保存しました。", "Your password has been saved."),
        "setup.later_text" => (
            "二段階認証の登録はまだ完了していません。次の有効期限までに、同じ設定用リンクを開いて登録を完了してください。",
            "Your second step is not set up yet. Open the same setup link again before it expires to finish it.",
        ),
        "setup.later_until" => ("リンクの有効期限", "Link valid until"),
        "setup.later_expired" => (
            "期限を過ぎた場合は、サポートデスクに新しいリンクの発行をご依頼ください。",
            "If the link expires, please ask the support desk for a new one.",
        ),
        "setup.later_continue" => ("今すぐ登録を続ける", "Continue now"),
        "setup.steps_email" => (
            "1. パスワードの設定 → 2. 認証コードの送信先の確認",
            "1. Set your password → 2. Confirm where codes are sent",
        ),
        "setup.steps_token" => (
            "1. パスワードの設定 → 2. トークンの利用開始登録",
            "1. Set your password → 2. Register your token",
        ),
        "setup.email_title" => ("認証コードの送信先の確認", "Confirm where codes are sent"),
        "setup.email_intro" => (
            "ログイン時の認証コードは次のメールアドレスに送信されます。確認コードを送信し、届いたコードを入力してください。",
            "At login, authentication codes are sent to the address below. Send a confirmation code and enter the code you receive.",
        ),
        "setup.send_code" => ("確認コードを送信する", "Send a confirmation code"),
        "setup.resend_code" => ("確認コードを再送信する", "Send the code again"),
        "setup.email_sent" => (
            "確認コードを送信しました。メールに記載の確認コードを入力してください。",
            "We have sent a confirmation code. Enter the code from the e-mail.",
        ),
        "setup.steps_passkey" => (
            "1. パスワードの設定 → 2. パスキーの登録",
            "1. Set your password → 2. Register a passkey",
        ),
        "setup.passkey_title" => ("パスキーの登録", "Register a passkey"),
        "setup.passkey_intro" => (
            "ログインの二段階認証にはパスキーを使います。お使いのスマートフォンやパソコンの生体認証・画面ロックで登録してください。フィッシングに強く、コードの入力は不要です。",
            "Your login's second step uses a passkey. Register one with your phone's or computer's fingerprint, face or screen lock: it resists phishing and needs no code.",
        ),
        "setup.token_title" => ("トークンの利用開始登録", "Register your token"),
        "setup.token_intro" => (
            "お手元のトークンのトークンIDと、続けて表示される2回分のワンタイムパスワードを入力してください。",
            "Enter your token's ID and two one-time passwords it shows one after the other.",
        ),
        "setup.register" => ("登録する", "Register"),
        "setup.done_title" => ("初期設定の完了", "Setup complete"),
        "setup.done" => (
            "初期設定が完了しました。ログイン画面から、設定したパスワードでログインしてください。",
            "Your setup is complete. Please log in with the password you chose.",
        ),
        "setup.to_login" => ("ログイン画面へ", "Go to the login page"),
        "error.title" => ("エラー", "Error"),
        "su.title" => ("お手続きの確認", "Confirm the operation"),
        "su.intro" => (
            "次のお手続きを行おうとしています。内容をご確認のうえ、ご本人であることを確認するため追加認証を行ってください。",
            "The following operation is about to be carried out. Check it, then confirm that it is you with your second factor.",
        ),
        "su.login" => ("ログインID", "Login ID"),
        "su.app" => ("ご依頼元", "Requested by"),
        "su.until" => ("確認期限", "Confirm before"),
        "su.check" => (
            "お心当たりのないお手続きの場合は、認証せずに「取り消す」を押し、サポートデスクへご連絡ください。",
            "If you did not start this operation, do not confirm it: press Cancel and contact the support desk.",
        ),
        "su.method" => ("認証方法", "Method"),
        "su.totp" => ("認証アプリ", "Authenticator app"),
        "su.token" => ("トークン", "Token"),
        "su.passkey" => ("パスキーで認証して確定する", "Confirm with my passkey"),
        "su.passkey_prompt" => (
            "ご登録のパスキー(スマートフォンやパソコンの生体認証・画面ロック)でご本人確認を行ってください。",
            "Confirm it is you with your passkey (your phone's or computer's fingerprint, face or screen lock).",
        ),
        "su.use_code" => (
            "ワンタイムパスワードで認証する場合はこちら",
            "Use a one-time code instead",
        ),
        "su.confirm" => ("認証してお手続きを確定する", "Verify and confirm"),
        "su.refuse" => ("取り消す", "Cancel"),
        "su.refuse_back" => (
            "お手続きを取り消して元の画面に戻る",
            "Cancel the operation and go back",
        ),
        "su.not_you" => (
            "パスワードや取引パスワードをこの画面で入力することはありません。",
            "This page never asks for your password or trading password.",
        ),
        "error.code" => ("エラーコード", "Error code"),
        "error.back" => ("ログイン画面へ戻る", "Back to the login page"),
        "footer.contact" => ("お問い合わせ", "Contact"),
        "required" => ("必須", "required"),
        k if k.starts_with("pk.") => super::passkey::text(k),
        k if k.starts_with("kb.") || k.starts_with("pw.") => super::keyboard::text(k),
        "oc.title" => ("アプリへの情報提供の確認", "Allow this app to use your information?"),
        "oc.intro" => (
            "次のアプリが、お客さまの情報の利用を求めています。内容をご確認のうえ、許可するかどうかをお選びください。",
            "The app below is asking to use information from your account. Please check what it asks for, then allow or deny it.",
        ),
        "oc.app" => ("アプリ", "App"),
        "oc.login" => ("ログインID", "Login ID"),
        "oc.asks" => ("アプリに提供される情報", "Information the app will receive"),
        "oc.note" => (
            "許可した内容は、セキュリティ設定の「連携中のアプリ」からいつでも取り消せます。",
            "You can withdraw this at any time under “Connected apps” in your security settings.",
        ),
        "oc.allow" => ("許可する", "Allow"),
        "oc.deny" => ("許可しない", "Deny"),
        "oc.scope.openid" => (
            "お客さまを識別する番号(ログインIDとは異なり、変わりません)",
            "An identifier for you (not your login ID; it does not change)",
        ),
        "oc.scope.profile" => ("お名前と言語の設定", "Your name and language"),
        "oc.scope.email" => ("ご登録のメールアドレス", "Your registered e-mail address"),
        "oc.scope.login_id" => ("ログインID", "Your login ID"),
        "oc.scope.offline_access" => (
            "ログアウトした後も、上記の情報を引き続き利用すること",
            "Continued use of the information above after you log out",
        ),
        "lo.title" => ("ログアウト", "Logged out"),
        "lo.done" => ("ログアウトしました。", "You have logged out."),
        "lo.from" => ("ご利用のアプリ", "The app you used"),
        "lo.close" => (
            "このままブラウザを閉じていただいて問題ありません。",
            "You can now close this window.",
        ),
        "lo.again" => ("もう一度ログインする", "Log in again"),
        "sec.apps" => ("連携中のアプリ", "Connected apps"),
        "sec.apps_none" => ("連携中のアプリはありません。", "No apps are connected."),
        "sec.apps_since" => ("許可した日時", "Allowed on"),
        "sec.apps_revoke" => ("連携を解除", "Disconnect"),
        "sec.done_app" => (
            "アプリとの連携を解除しました。次にそのアプリを利用するときは、あらためて許可が必要です。",
            "The app has been disconnected. It will ask for your permission again the next time you use it.",
        ),
        _ => super::console::text(key),
    }
}

/// The words for a scope on the consent page and in the settings (the scope itself if Sekisho
/// has none).
pub fn scope_label(tx: Tx, scope: &str) -> String {
    let key = format!("oc.scope.{scope}");
    match text(&key) {
        ("?", _) => scope.to_owned(),
        _ => tx.t(&key).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_use_only_known_keys() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| unreachable!("{dir}: {e}"));
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for part in text.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                assert_ne!(
                    text_of(key),
                    "?",
                    "unknown text key {key} in {:?}",
                    entry.path()
                );
            }
        }
    }

    /// The console's table continues this one: a console key this table also has would show
    /// the customer pages' words on the console.
    #[test]
    fn console_keys_are_not_shadowed() {
        let src = include_str!("console.rs");
        for line in src.lines() {
            let Some(key) = line
                .trim()
                .strip_prefix('"')
                .and_then(|r| r.split_once("\" =>"))
            else {
                continue;
            };
            let key = key.0;
            assert_eq!(
                text(key),
                super::super::console::text(key),
                "console key {key} is shadowed by the customer pages' table"
            );
        }
    }

    fn text_of(key: &str) -> &'static str {
        Tx(Lang::Ja).t(key)
    }
}
