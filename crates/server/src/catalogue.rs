//! The doors' catalogue: the errors only HTTP knows (transport), the hosted pages' own refusals,
//! and the names clients have always been given for a login's pending steps. Same row shape as
//! core's catalogue (name, code, kind, Japanese, English), so docs/error-codes.md stays one
//! table; [`Failure`] is either kind of error on its way to a client.

use sekisho_core::error::{Entry, ErrorKind};
use sekisho_core::{Error, Lang};

/// Defines [`DoorError`] from its rows: the enum with each row's doc comment, and `entry()`,
/// the one `match` from a variant to its row.
macro_rules! door_catalogue {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident => $name:literal, $code:literal, $kind:ident,
            $ja:literal,
            $en:literal;
    )*) => {
        /// An error the doors raise themselves, never a use case.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum DoorError {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl DoorError {
            /// This error's row of the doors' catalogue.
            pub fn entry(self) -> Entry {
                match self {
                    $( DoorError::$variant => Entry {
                        name: $name,
                        code: $code,
                        kind: ErrorKind::$kind,
                        ja: $ja,
                        en: $en,
                    }, )*
                }
            }

            /// Every row, for the catalogue's checks and docs/error-codes.md.
            pub fn all() -> Vec<DoorError> {
                vec![ $( DoorError::$variant, )* ]
            }
        }
    };
}

door_catalogue! {
    /// The body exceeds the size limit.
    PayloadTooLarge => "payload_too_large", "SKS-GEN-0002", PayloadTooLarge,
        "リクエストが大きすぎます。",
        "The request body is too large.";
    /// The body is not `application/json`.
    UnsupportedMediaType => "unsupported_media_type", "SKS-GEN-0003", UnsupportedMediaType,
        "リクエストは application/json で送信してください。",
        "Send the request body as application/json.";
    /// No such path.
    NotFound => "not_found", "SKS-GEN-0004", NotFound,
        "指定されたURLは存在しません。",
        "There is nothing at this URL.";
    /// The path does not support this method.
    MethodNotAllowed => "method_not_allowed", "SKS-GEN-0005", MethodNotAllowed,
        "このURLではその操作はできません。",
        "This method is not allowed at this URL.";
    /// The request was not complete and answered within `server.request_timeout_secs` (a
    /// client sending its body too slowly, or an overloaded server).
    RequestTimeout => "request_timeout", "SKS-GEN-0010", Unavailable,
        "リクエストの処理が時間内に終わりませんでした。しばらくしてから、もう一度お試しください。",
        "The request could not be completed in time. Please try again shortly.";

    /// The password must be changed before the login can proceed (a pending step, and the
    /// refusal a restricted session gets elsewhere).
    PasswordChangeRequired => "password_change_required", "SKS-LGN-0004", Forbidden,
        "パスワードの変更が必要です。新しいパスワードを設定してください。",
        "You must change your password before continuing.";
    /// The password was right; a second factor must follow (a pending step).
    SecondFactorRequired => "second_factor_required", "SKS-LGN-0006", Unauthorized,
        "ワンタイムパスワードを入力してください。",
        "Enter your one-time password to complete the login.";

    /// A hosted-page form arrived without its form token (CSRF) or with a stale one.
    FormExpired => "form_expired", "SKS-WEB-0001", Forbidden,
        "画面の有効期限が切れました。お手数ですが、もう一度操作してください。",
        "This page has expired. Please try again.";
    /// The `return_to` address is not on the firm's allow-list.
    ReturnToNotAllowed => "return_to_not_allowed", "SKS-WEB-0003", BadRequest,
        "ログイン後の戻り先が許可されていません。ご利用のサービスの画面からもう一度お試しください。",
        "The address to return to after login is not allowed. Please start again from the service you were using.";
    /// The login in progress on the hosted pages is unknown or has expired.
    LoginFlowExpired => "login_flow_expired", "SKS-WEB-0004", Unauthorized,
        "ログインの有効期限が切れました。最初からログインしてください。",
        "Your login has expired. Please log in again from the start.";
}

/// An error on its way to a client: a use case's (core's catalogue) or the doors' own. JSON
/// bodies, pages and audit records read the same row either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A domain error.
    App(Error),
    /// An error of the doors.
    Door(DoorError),
}

impl Failure {
    /// The row of whichever catalogue the error belongs to.
    pub fn entry(&self) -> Entry {
        match self {
            Failure::App(e) => e.entry(),
            Failure::Door(e) => e.entry(),
        }
    }

    /// The stable snake_case name, the `error` field of the JSON body.
    pub fn name(&self) -> &'static str {
        self.entry().name
    }

    /// The stable code shown to users and recorded in the audit log.
    pub fn code(&self) -> &'static str {
        self.entry().code
    }

    /// The kind, which fixes the HTTP status.
    pub fn kind(&self) -> ErrorKind {
        self.entry().kind
    }

    /// The message in `lang` (core's own for the password policy, whose numbers vary).
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Failure::App(e) => e.message(lang),
            Failure::Door(e) => e.entry().text(lang).to_owned(),
        }
    }

    /// A developer-facing detail, if the error has one.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Failure::App(e) => e.detail(),
            Failure::Door(_) => None,
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::App(e)
    }
}

impl From<sekisho_app::AppError> for Failure {
    fn from(e: sekisho_app::AppError) -> Self {
        Failure::App(e.error)
    }
}

impl From<DoorError> for Failure {
    fn from(e: DoorError) -> Self {
        Failure::Door(e)
    }
}

impl From<&Error> for Failure {
    fn from(e: &Error) -> Self {
        Failure::App(e.clone())
    }
}

impl From<&DoorError> for Failure {
    fn from(e: &DoorError) -> Self {
        Failure::Door(*e)
    }
}

impl From<&Failure> for Failure {
    fn from(e: &Failure) -> Self {
        e.clone()
    }
}

#[cfg(test)]
mod tests;
