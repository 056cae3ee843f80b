//! The catalogue: one row per error, in the order of their codes' families. A row is the
//! variant (with its doc comment), its stable snake_case name (the JSON `error` field), its
//! stable code (shown to customers, support and the audit log), its kind (which fixes the HTTP
//! status), and its message in Japanese and in English. Codes and names never change once
//! released: apps and support desks rely on them. The doors' own errors (transport, the hosted
//! pages' refusals, the login's pending steps) are rows of the server crate's catalogue, which
//! shares this row shape and, with this table, makes docs/error-codes.md.

use super::{Entry, ErrorKind, PolicyViolation};

catalogue! {
    /// The request is malformed; the detail says what (in English, for developers).
    InvalidRequest(String) => "invalid_request", "SKS-GEN-0001", BadRequest,
        "リクエストの形式が正しくありません。",
        "The request is malformed.";
    /// A server-side fault; the cause is logged, not shown.
    Internal => "internal_error", "SKS-GEN-0006", Internal,
        "システムエラーが発生しました。しばらくしてから再度お試しください。",
        "A system error occurred. Please try again later.";
    /// Too many password checks are waiting; try again shortly.
    Busy => "server_busy", "SKS-GEN-0007", Unavailable,
        "ただいま混み合っています。しばらくしてから再度お試しください。",
        "The service is busy. Please try again shortly.";
    /// The database is out of reach for now (restarting, failing over).
    StorageUnavailable => "service_unavailable", "SKS-GEN-0008", Unavailable,
        "ただいまサービスをご利用いただけません。しばらくしてから再度お試しください。",
        "The service is temporarily unavailable. Please try again shortly.";

    /// Missing or unknown bearer token.
    Unauthorized => "unauthorized", "SKS-AUT-0001", Unauthorized,
        "認証情報がないか、正しくありません。",
        "Authentication is missing or invalid.";
    /// The API token lacks the scope this endpoint needs.
    InsufficientScope => "insufficient_scope", "SKS-AUT-0002", Forbidden,
        "この操作を行う権限がありません。",
        "This credential is not allowed to perform this operation.";
    /// The session token is unknown, expired or revoked.
    SessionInvalid => "session_invalid", "SKS-AUT-0003", Unauthorized,
        "セッションの有効期限が切れたか、ログアウトされています。再度ログインしてください。",
        "Your session has expired or was ended. Please log in again.";

    /// Unknown login ID or wrong password (deliberately indistinguishable).
    InvalidCredentials => "invalid_credentials", "SKS-LGN-0001", Unauthorized,
        "ログインIDもしくはパスワードに誤りがあります。所定回数連続して誤るとロックされます。",
        "The login ID or password is incorrect. Repeated failures lock the login.";
    /// Locked after consecutive password failures; an operator must unlock it.
    LoginLocked => "login_locked", "SKS-LGN-0002", Forbidden,
        "パスワードを所定回数連続して誤ったため、ログインがロックされています。サポートデスクにロック解除をご依頼ください。",
        "The login is locked after repeated password failures. Please ask the support desk to unlock it.";
    /// Disabled by an operator.
    LoginDisabled => "login_disabled", "SKS-LGN-0003", Forbidden,
        "このログインIDは利用停止されています。サポートデスクにお問い合わせください。",
        "This login has been disabled. Please contact the support desk.";
    /// A second factor is mandatory for this login but none is registered yet.
    SecondFactorNotInitialized => "second_factor_not_initialized", "SKS-LGN-0005", Forbidden,
        "二段階認証の登録が必要です。登録を完了してから再度ログインしてください。",
        "Second factor authentication must be initialized before you can log in.";
    /// The one-time code is wrong, expired or already used.
    SecondFactorInvalid => "second_factor_invalid", "SKS-LGN-0007", Unauthorized,
        "ワンタイムパスワードに誤りがあるか、有効期限切れか、既に使用されています。最新のワンタイムパスワードを入力してください。",
        "The one-time password is wrong, expired or already used. Enter the current one.";
    /// Locked after consecutive wrong codes; an operator must unlock it.
    SecondFactorLocked => "second_factor_locked", "SKS-LGN-0008", Forbidden,
        "ワンタイムパスワードを所定回数連続して誤ったため、ロックされています。サポートデスクにロック解除をご依頼ください。",
        "The second factor is locked after repeated wrong one-time passwords. Please ask the support desk to unlock it.";
    /// The login challenge is unknown, expired or already used.
    ChallengeInvalid => "challenge_invalid", "SKS-LGN-0009", Unauthorized,
        "ログインの有効期限が切れたか、既に完了しています。最初からログインしてください。",
        "This login attempt has expired or was already completed. Please log in again.";
    /// The e-mail code is wrong; the customer may enter it again.
    EmailCodeInvalid => "email_code_invalid", "SKS-LGN-0010", Unauthorized,
        "認証コードに誤りがあります。再度ご入力ください。",
        "The verification code is wrong. Please enter it again.";
    /// The e-mail code has expired; log in again or have a new one sent.
    EmailCodeExpired => "email_code_expired", "SKS-LGN-0011", Unauthorized,
        "認証コードの有効期限が切れています。再度、お手続きをやり直してください。再度ログインいただくか、「認証コード再発行」で新しいコードをお受け取りください。",
        "The verification code has expired. Please log in again or have a new code sent.";
    /// The e-mail code no longer works after too many wrong tries; log in again or re-issue.
    EmailCodeExhausted => "email_code_exhausted", "SKS-LGN-0012", Unauthorized,
        "無効な認証コードです。再度、お手続きをやり直してください。認証コードは所定の回数を超えて誤入力すると無効になります。再度ログインいただくか、「認証コード再発行」で新しいコードをお受け取りください。",
        "The verification code is no longer valid after too many wrong entries. Please log in again or have a new code sent.";
    /// A new code was sent too recently; wait before asking again.
    EmailCodeResendTooSoon => "email_code_resend_too_soon", "SKS-LGN-0013", TooManyRequests,
        "認証コードを送信したばかりです。しばらくしてから再発行してください。",
        "A code was sent a moment ago. Please wait a little before asking for a new one.";
    /// No more codes for this login attempt; log in again.
    EmailCodeResendLimit => "email_code_resend_limit", "SKS-LGN-0014", TooManyRequests,
        "認証コードの再発行回数の上限に達しました。最初からログインしてください。",
        "No more codes can be sent for this login. Please log in again.";

    /// The confirmation code for a new delivery address is wrong, expired or used up.
    ConfirmationCodeInvalid => "confirmation_code_invalid", "SKS-ACC-0006", BadRequest,
        "確認コードに誤りがあるか、有効期限が切れています。もう一度お手続きください。",
        "The confirmation code is wrong or has expired. Please start the change again.";

    /// The recovery code is wrong or already used, or the login has none left.
    RecoveryCodeInvalid => "recovery_code_invalid", "SKS-LGN-0015", Unauthorized,
        "リカバリーコードに誤りがあるか、既に使用されています。所定回数連続して誤るとロックされます。",
        "The recovery code is wrong or was already used. Repeated wrong codes lock it.";

    /// The passkey's answer could not be verified (signature, origin, user verification, or a
    /// passkey this login does not have).
    PasskeyInvalid => "passkey_invalid", "SKS-PKY-0001", Unauthorized,
        "パスキーによる認証を確認できませんでした。もう一度お試しください。",
        "The passkey could not be verified. Please try again.";
    /// The passkey ceremony is unknown, expired or already finished.
    PasskeyCeremonyInvalid => "passkey_ceremony_invalid", "SKS-PKY-0002", Unauthorized,
        "パスキーの手続きの有効期限が切れたか、既に使用されています。最初からやり直してください。",
        "The passkey request has expired or was already used. Please start again.";
    /// No passkey with this ID belongs to the login.
    PasskeyNotFound => "passkey_not_found", "SKS-PKY-0003", NotFound,
        "指定されたパスキーは登録されていません。",
        "No such passkey is registered.";
    /// The passkey's signature counter went backwards (a possible clone): it is flagged and
    /// refused until it is removed.
    PasskeyCounterRegressed => "passkey_counter_regressed", "SKS-PKY-0004", Forbidden,
        "このパスキーは複製された可能性があるため利用を停止しました。削除して新しいパスキーを登録するか、サポートデスクにお問い合わせください。",
        "This passkey may have been copied and has been suspended. Remove it and register a new one, or contact the support desk.";
    /// The firm requires a passkey for this login; a code is not enough.
    PasskeyRequired => "passkey_required", "SKS-PKY-0005", Forbidden,
        "このログインにはパスキーによる認証が必要です。",
        "This login requires a passkey.";

    /// An active factor of this method exists.
    FactorAlreadyRegistered => "second_factor_already_registered", "SKS-FAC-0001", Conflict,
        "認証アプリは既に登録されています(利用中)。変更する場合は利用停止してからお申し込みください。",
        "An authenticator app is already registered. Stop using it before registering another.";
    /// No factor of this method is registered.
    FactorNotRegistered => "second_factor_not_registered", "SKS-FAC-0002", NotFound,
        "認証アプリは登録されていません(未登録)。",
        "No authenticator app is registered.";
    /// The pending enrolment expired before it was confirmed.
    EnrolmentExpired => "enrolment_expired", "SKS-FAC-0003", BadRequest,
        "登録の有効期限が切れました。もう一度お申し込みください。",
        "The registration has expired. Please start again.";

    /// The current password given for a change is wrong.
    CurrentPasswordInvalid => "current_password_invalid", "SKS-PWD-0008", Unauthorized,
        "現在のパスワードに誤りがあります。",
        "The current password is incorrect.";
    /// The firm asks for the trading password for this operation and none was given.
    TradingPasswordRequired => "trading_password_required", "SKS-PWD-0009", Unauthorized,
        "この操作には取引パスワードの入力が必要です。",
        "This operation requires your trading password.";
    /// The trading password given is wrong.
    TradingPasswordInvalid => "trading_password_invalid", "SKS-PWD-0010", Unauthorized,
        "取引パスワードに誤りがあります。",
        "The trading password is incorrect.";
    /// A trading password may not be the same as the login password.
    TradingPasswordSameAsLogin => "trading_password_same_as_login", "SKS-PWD-0011", BadRequest,
        "取引パスワードにはログインパスワードと異なるものを設定してください。",
        "The trading password must differ from the login password.";

    /// The login ID breaks the login ID rules.
    InvalidLoginId => "invalid_login_id", "SKS-ACC-0001", BadRequest,
        "ログインIDは4〜64文字の半角英数字と記号 . _ - @ で指定してください(先頭は英数字)。",
        "A login ID is 4 to 64 characters: letters, digits and . _ - @, starting with a letter or digit.";
    /// The e-mail address is not a valid address.
    InvalidEmail => "invalid_email", "SKS-ACC-0002", BadRequest,
        "メールアドレスの形式が正しくありません。",
        "The e-mail address is not valid.";
    /// The display name is empty, too long or has control characters.
    InvalidDisplayName => "invalid_display_name", "SKS-ACC-0003", BadRequest,
        "表示名は1〜100文字で、制御文字を含めずに指定してください。",
        "The display name must be 1 to 100 characters without control characters.";
    /// A login with this ID already exists.
    LoginExists => "login_exists", "SKS-ACC-0004", Conflict,
        "このログインIDは既に登録されています。",
        "A login with this ID already exists.";
    /// No login with this ID.
    LoginNotFound => "login_not_found", "SKS-ACC-0005", NotFound,
        "指定されたログインIDは存在しません。",
        "No login with this ID exists.";

    /// No API token with this ID.
    ApiTokenNotFound => "api_token_not_found", "SKS-TOK-0001", NotFound,
        "指定されたAPIトークンは存在しません。",
        "No API token with this ID exists.";

    /// No familiar browser with this ID (for this login).
    DeviceNotFound => "device_not_found", "SKS-DEV-0001", NotFound,
        "指定された端末(普段ご利用の環境)は登録されていません。",
        "No familiar browser with this ID is registered.";

    /// No hardware/software token with this token ID in the inventory.
    TokenNotFound => "token_not_found", "SKS-HWT-0001", NotFound,
        "指定されたトークンIDは登録されていません。",
        "No token with this token ID is in the inventory.";
    /// The token's state does not allow this change (e.g. assigning a revoked token).
    TokenStateConflict => "token_state_conflict", "SKS-HWT-0002", Conflict,
        "このトークンは現在の状態(在庫・割当済・失効)ではこの操作ができません。",
        "The token's current state (in stock, assigned, revoked) does not allow this operation.";
    /// The login already has as many tokens as allowed.
    LoginHasToken => "login_has_token", "SKS-HWT-0003", Conflict,
        "このログインIDには既にトークンが登録されています。",
        "This login already has a token.";
    /// The seed file cannot be read as a whole; the detail says why.
    TokenFileInvalid(String) => "token_file_invalid", "SKS-HWT-0004", BadRequest,
        "トークンファイルを読み込めません。",
        "The token file cannot be read.";
    /// The seed file's key or passphrase is missing, wrong, or not how the file is protected.
    TokenFileKey(String) => "token_file_key", "SKS-HWT-0005", BadRequest,
        "トークンファイルの復号鍵またはパスフレーズが必要か、正しくありません。",
        "The token file needs a key or passphrase, or the one given is wrong.";
    /// Some entries of the seed file cannot be imported, so nothing was (the report says which).
    TokenImportRejected => "token_import_rejected", "SKS-HWT-0006", BadRequest,
        "取り込めないトークンがあるため、ファイル全体を取り込みませんでした。",
        "Some tokens in the file cannot be imported, so none were.";
    /// The seed file holds no key package that can be imported; the detail says why.
    TokenFileNoKeys(String) => "token_file_no_keys", "SKS-HWT-0007", BadRequest,
        "トークンファイルに取り込めるキーパッケージがありません。",
        "The token file holds no key package that can be imported.";
    /// The token is outside the validity period its seed file gave it (PSKC `StartDate` /
    /// `ExpiryDate`), so it can neither be assigned nor log in.
    TokenExpired => "token_expired", "SKS-HWT-0008", Forbidden,
        "このトークンは有効期間外のため利用できません。サポートデスクにお問い合わせください。",
        "This token is outside its validity period and cannot be used. Please contact the support desk.";
    /// OTP1 and OTP2 are codes of the token but not two in a row.
    TokenCodesNotConsecutive => "token_codes_not_consecutive", "SKS-HWT-0010", Unauthorized,
        "OTP1、OTP2には連続して生成されたワンタイムパスワードを入力してください。OTP1、OTP2ともに再入力をお願いいたします。",
        "Enter two one-time passwords generated one after the other as OTP1 and OTP2. Please enter both again.";
    /// OTP1 and OTP2 (or the second of them) were already used.
    TokenCodeUsed => "token_code_used", "SKS-HWT-0011", Unauthorized,
        "入力されたワンタイムパスワードは使用済みです。新たに生成されたOTP1、OTP2を入力してください。",
        "These one-time passwords were already used. Enter two newly generated ones as OTP1 and OTP2.";
    /// OTP1 and OTP2 are an old pair: more than 30 s passed since OTP2 was shown.
    TokenCodeExpired => "token_code_expired", "SKS-HWT-0012", Unauthorized,
        "入力されたワンタイムパスワードは有効期限切れです。OTP2は生成後30秒以内に入力してください。最新のOTP1、OTP2を入力してください。",
        "These one-time passwords have expired: OTP2 must be entered within 30 seconds of being shown. Enter the latest OTP1 and OTP2.";
    /// The token ID is unknown, revoked, locked, or not available to this login.
    TokenIdInvalid => "token_id_invalid", "SKS-HWT-0013", Unauthorized,
        "トークンIDに誤りがあるか、このトークンは利用できません。トークンID(クレデンシャルID)をご確認ください。",
        "The token ID is wrong or this token cannot be used. Check the token (credential) ID.";
    /// The login has no registered token to resynchronise.
    TokenNotRegistered => "token_not_registered", "SKS-HWT-0014", NotFound,
        "ワンタイムパスワードのトークンが登録されていません。利用開始登録を行ってください。",
        "No token is registered. Please complete the start-of-use registration first.";

    /// The caller is an operator whose role (`support`) does not allow this operation.
    AdminRoleRequired => "admin_role_required", "SKS-OPR-0001", Forbidden,
        "この操作は管理者(admin)のオペレーターのみ行えます。",
        "Only an operator with the admin role can do this.";
    /// No operator with this name.
    OperatorNotFound => "operator_not_found", "SKS-OPR-0002", NotFound,
        "指定されたオペレーターは存在しません。",
        "There is no operator with this name.";
    /// An operator with this name exists.
    OperatorExists => "operator_exists", "SKS-OPR-0003", Conflict,
        "このオペレーター名は既に使われています。",
        "An operator with this name already exists.";
    /// The operator setup link is unknown, expired, or already used.
    OperatorSetupInvalid => "operator_setup_invalid", "SKS-OPR-0004", Unauthorized,
        "この設定用URLは無効です(期限切れまたは使用済み)。管理者に再発行を依頼してください。",
        "This setup link is invalid, expired or already used. Ask an administrator for a new one.";
    /// An operator name must be 1–64 of `a-z 0-9 . _ -`.
    InvalidOperatorName => "invalid_operator_name", "SKS-OPR-0005", BadRequest,
        "オペレーター名は半角英小文字・数字・「.」「_」「-」の1〜64文字で指定してください。",
        "An operator name is 1 to 64 characters of a-z, 0-9, '.', '_' and '-'.";
    /// The change would leave no active administrator.
    LastAdmin => "last_admin", "SKS-OPR-0006", Conflict,
        "有効な管理者が他にいないため、この変更はできません。",
        "This change would leave no active administrator.";

    /// Too many attempts from one address or for one login ID in a short time, or a wait after
    /// consecutive wrong passwords (the throttle); answered with `Retry-After`.
    TooManyAttempts => "too_many_attempts", "SKS-WEB-0002", TooManyRequests,
        "短時間に操作が繰り返されました。しばらく時間をおいてから、もう一度お試しください。",
        "Too many attempts in a short time. Please wait a while and try again.";

    /// The setup link is unknown, used, replaced by a newer one, or expired.
    SetupLinkInvalid => "setup_link_invalid", "SKS-WEB-0005", NotFound,
        "このリンクは使用済みか、有効期限が切れています。お手数ですが、下記のお問い合わせ先へご連絡のうえ、新しいリンクの発行をご依頼ください。",
        "This link has already been used or has expired. Please contact us (see below) and ask for a new link.";

    /// A redirect URI of a client's metadata cannot be registered (RFC 7591 §3.2.2); the detail
    /// names the field and the URI and says why (not https, a fragment, a wildcard, `http`
    /// other than a native app's loopback).
    InvalidRedirectUri(String) => "invalid_redirect_uri", "SKS-OIC-0001", BadRequest,
        "リダイレクトURIが正しくありません。https のURI(ネイティブアプリは http://127.0.0.1 または http://[::1])を、フラグメントやワイルドカードなしで指定してください。",
        "A redirect URI is invalid. Use an https URI (native apps: http://127.0.0.1 or http://[::1]) without a fragment or wildcard.";
    /// A field of a client's metadata is missing, unknown or not allowed (RFC 7591 §3.2.2); the
    /// detail names the field first.
    InvalidClientMetadata(String) => "invalid_client_metadata", "SKS-OIC-0002", BadRequest,
        "クライアントのメタデータに誤りがあります。詳細に示された項目を確認してください。",
        "The client metadata is invalid. Check the field named in the detail.";
    /// No OpenID Connect client with this ID.
    OidcClientNotFound => "oidc_client_not_found", "SKS-OIC-0003", NotFound,
        "指定されたクライアントは登録されていません。",
        "There is no client with this ID.";
    /// The client authenticates without a client secret, so it has none to rotate.
    OidcClientNoSecret => "oidc_client_no_secret", "SKS-OIC-0004", Conflict,
        "このクライアントはクライアントシークレットを使わない認証方式のため、シークレットを再発行できません。",
        "This client does not authenticate with a client secret, so there is none to rotate.";
    /// An authorization request names no client, or one that is not registered or is disabled:
    /// shown on a page, never redirected.
    OidcClientUnknown => "oidc_client_unknown", "SKS-OIC-0005", BadRequest,
        "ログインを求めたアプリが登録されていないか、利用が停止されています。お手数ですが、アプリの提供元へお問い合わせください。",
        "The app that asked you to log in is not registered or has been disabled. Please contact the app's provider.";
    /// An authorization request's redirect URI is missing or not one the client registered:
    /// shown on a page, never redirected.
    OidcRedirectUriUnregistered => "oidc_redirect_uri_unregistered", "SKS-OIC-0006", BadRequest,
        "ログイン後の戻り先が登録されていないため、ログインを続けられません。お手数ですが、アプリの提供元へお問い合わせください。",
        "You cannot continue: the address to return to after login is not registered for this app. Please contact the app's provider.";
    /// The authorization request (its `request_uri`, or the login in progress) is unknown,
    /// used or expired.
    OidcRequestUnusable => "oidc_request_unusable", "SKS-OIC-0007", BadRequest,
        "このログイン要求は使用済みか、有効期限が切れています。お手数ですが、アプリからもう一度ログインしてください。",
        "This login request has already been used or has expired. Please log in again from the app.";
    /// The app asked for the phishing-resistant level (a passkey) and the customer has no
    /// passkey to answer with: shown on a page that says how to register one.
    OidcPasskeyRequired => "oidc_passkey_required", "SKS-OIC-0008", Forbidden,
        "このアプリへのログインにはパスキーが必要ですが、お客さまのログインIDにはパスキーが登録されていません。",
        "This app requires you to log in with a passkey, and no passkey is registered for your login ID.";
    /// A logout request's `id_token_hint` is not an ID token Sekisho issued (bad signature,
    /// another issuer) or names another client than `client_id`: shown on a page, the session
    /// is kept and nothing is redirected.
    OidcLogoutHintInvalid => "oidc_logout_hint_invalid", "SKS-OIC-0030", BadRequest,
        "ログアウトの要求が正しくないため、処理できませんでした。お手数ですが、アプリからもう一度ログアウトしてください。",
        "The logout request is not valid, so it could not be processed. Please log out again from the app.";
    /// A logout request's `post_logout_redirect_uri` is not one the client registered, or names
    /// no client (no `client_id` nor `id_token_hint`): shown on a page, never redirected.
    OidcLogoutRedirectUnregistered => "oidc_logout_redirect_unregistered", "SKS-OIC-0031", BadRequest,
        "ログアウト後の戻り先がアプリに登録されていないため、ログアウトを続けられません。お手数ですが、アプリの提供元へお問い合わせください。",
        "The address to return to after logging out is not registered for this app, so the logout cannot continue. Please contact the app's provider.";
    /// The consent being revoked does not exist (already revoked).
    OidcConsentNotFound => "oidc_consent_not_found", "SKS-OIC-0032", NotFound,
        "この同意は見つかりません。既に取り消されている可能性があります。",
        "This consent cannot be found. It may have been revoked already.";

    /// No step-up request with this ID (for this app).
    StepUpNotFound => "step_up_not_found", "SKS-STP-0001", NotFound,
        "このお手続きの確認依頼は見つかりません。ご利用のサービスの画面からもう一度お手続きください。",
        "This confirmation request cannot be found. Please start the operation again from the service you were using.";
    /// The step-up request expired before the customer answered.
    StepUpExpired => "step_up_expired", "SKS-STP-0002", Forbidden,
        "このお手続きの確認期限が切れました。ご利用のサービスの画面からもう一度お手続きください。",
        "The time to confirm this operation has passed. Please start the operation again from the service you were using.";
    /// The step-up request was already confirmed or refused.
    StepUpFinished => "step_up_finished", "SKS-STP-0003", Conflict,
        "このお手続きの確認は既に完了しているか、取り消されています。",
        "This operation has already been confirmed or cancelled.";
    /// The step-up request belongs to another login than the one signed in.
    StepUpOtherLogin => "step_up_other_login", "SKS-STP-0004", Forbidden,
        "このお手続きは、現在ログイン中のログインIDのものではありません。お手続きをしたログインIDでログインし直してください。",
        "This operation belongs to another login ID than the one you are logged in with. Please log in with the login ID that started it.";
    /// The login has no second factor that may confirm this operation.
    StepUpNoMethod => "step_up_no_method", "SKS-STP-0005", Forbidden,
        "このお手続きを確認できる二段階認証(認証アプリ・トークン)が登録されていません。登録してからもう一度お手続きください。",
        "No second factor (authenticator app or token) that can confirm this operation is registered. Please register one and start again.";
    /// Only a passkey confirms this kind of operation, and none was offered (or none is
    /// registered).
    StepUpPasskeyRequired => "step_up_passkey_required", "SKS-STP-0006", Forbidden,
        "このお手続きはパスキーでのみ確認できます。「セキュリティ設定」の「パスキーの管理」でパスキーを登録してから、もう一度お手続きください。",
        "This operation can only be confirmed with a passkey. Register one under Security settings → Passkeys, then start the operation again.";
}
