//! The domain's error catalogue. Every error a use case reports has a stable snake_case name, a stable
//! code (`SKS-…`) that a support desk can look up, a kind that fixes its HTTP status, and a
//! message in Japanese and English: one row each in [`catalogue`](self) (and the password
//! policy's rows in `policy`), from which `Error` and its accessors follow. The doors' own errors
//! are rows of the same shape in the server crate; docs/error-codes.md lists both.

use crate::lang::Lang;

/// Defines [`Error`] from the catalogue's rows: the enum with each row's doc comment, and
/// `entry()`, the one `match` from a variant to its row. The password policy's variant is
/// added by hand, since its rows (and numbers) come from [`PolicyViolation`].
macro_rules! catalogue {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident $(($field:ty))? => $name:literal, $code:literal, $kind:ident,
            $ja:literal,
            $en:literal;
    )*) => {
        /// Every error a use case reports, from input validation to login denials.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Error {
            $( $(#[doc = $doc])* $variant $(($field))?, )*
            /// The new password breaks the policy.
            PasswordPolicy(PolicyViolation),
        }

        impl Error {
            /// This error's row of the catalogue.
            pub fn entry(&self) -> Entry {
                match self {
                    $( Error::$variant { .. } => Entry {
                        name: $name,
                        code: $code,
                        kind: ErrorKind::$kind,
                        ja: $ja,
                        en: $en,
                    }, )*
                    Error::PasswordPolicy(v) => v.entry(),
                }
            }

            /// One error of every row (empty details, the jp-broker preset's numbers): what
            /// the catalogue's checks and docs/error-codes.md walk.
            pub fn examples() -> Vec<Error> {
                let mut all = vec![ $( Error::$variant $((<$field>::default()))?, )* ];
                all.extend(PolicyViolation::examples().into_iter().map(Error::PasswordPolicy));
                all
            }
        }
    };
}

/// What kind of failure an error is; it fixes the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request itself is malformed or fails validation (400).
    BadRequest,
    /// The body is larger than allowed (413).
    PayloadTooLarge,
    /// The body is not JSON (415).
    UnsupportedMediaType,
    /// No credentials, or credentials that do not check out (401).
    Unauthorized,
    /// Authenticated, but not allowed or not able to proceed (403).
    Forbidden,
    /// The addressed thing does not exist (404).
    NotFound,
    /// The HTTP method is not supported on this path (405).
    MethodNotAllowed,
    /// The change conflicts with what is stored (409).
    Conflict,
    /// Too many requests right now (429).
    TooManyRequests,
    /// The server cannot take the request right now (503).
    Unavailable,
    /// A fault on the server side (500); details go to the log, never to the client.
    Internal,
}

impl ErrorKind {
    /// The HTTP status of this kind (the doors map it once; core only names the number).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::Conflict => 409,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
        }
    }
}

/// One row of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The stable snake_case name (the JSON body's `error`).
    pub name: &'static str,
    /// The stable code shown to users and recorded in the audit log.
    pub code: &'static str,
    /// The kind, which fixes the HTTP status.
    pub kind: ErrorKind,
    /// The message in Japanese.
    pub ja: &'static str,
    /// The message in English.
    pub en: &'static str,
}

impl Entry {
    /// The message in `lang`.
    pub fn text(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Ja => self.ja,
            Lang::En => self.en,
        }
    }
}

// The macro must come before the module that uses it (textual scope).
mod catalogue;
mod policy;

pub use catalogue::Error;
pub use policy::PolicyViolation;

impl Error {
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

    /// The message for the user, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Error::PasswordPolicy(v) => v.message(lang),
            _ => self.entry().text(lang).to_owned(),
        }
    }

    /// A developer-facing detail (only for malformed requests, seed files and client metadata).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::InvalidRequest(d)
            | Error::TokenFileInvalid(d)
            | Error::TokenFileKey(d)
            | Error::TokenFileNoKeys(d)
            | Error::InvalidRedirectUri(d)
            | Error::InvalidClientMetadata(d)
                if !d.is_empty() =>
            {
                Some(d)
            }
            _ => None,
        }
    }
}

/// For logs and the CLI: the name in words, and the detail if there is one.
impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name().replace('_', " "))?;
        match (self, self.detail()) {
            (Error::PasswordPolicy(v), _) => write!(f, ": {v:?}"),
            (_, Some(d)) => write!(f, ": {d}"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests;
