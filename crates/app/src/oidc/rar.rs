//! Rich Authorization Requests (RFC 9396): an app asks, inside the authorization request, for
//! the customer's confirmation of one operation (a withdrawal, a change of the withdrawal
//! account, a large order). The customer confirms it on the step-up page (the same page, rules
//! and audit as `POST /api/v1/step-up`: a passkey where `step_up.passkey_required_kinds` says
//! so), and the confirmed operation comes back in the token response, in the access token and
//! at introspection, so the app's withdrawal API verifies one DPoP-bound token.
//!
//! One entry of the one type [`OPERATION_TYPE`] per request: the step-up page confirms one
//! operation. Anything else — another type, an unknown field, a second entry — is
//! `invalid_authorization_details` (RFC 9396 §5).

use super::clients::Client;
use super::request::{AuthRequest, OAuthError};
use crate::error::AppError;
use crate::state::App;
use crate::step_up;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::session::Session;
use sekisho_core::step_up::{
    check_amount, check_description, format_amount, ConfirmMethod, OperationKind, StepUpState,
};
use sekisho_core::token;
use sekisho_store::{NewStepUp, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `type` of Sekisho's authorization details (listed in the discovery document as
/// `authorization_details_types_supported`).
pub const OPERATION_TYPE: &str = "sekisho_operation";
/// The RFC 9396 error for authorization details that are not accepted.
pub const INVALID: &str = "invalid_authorization_details";
/// Longest `authorization_details` text read.
pub const MAX_LEN: usize = 4096;
/// The fields an entry may have.
const FIELDS: &[&str] = &["type", "kind", "description", "amount", "currency"];

/// The operation an app asked the customer to confirm (one `sekisho_operation` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// What kind of operation (the step-up kinds).
    pub kind: OperationKind,
    /// What the customer is shown and confirms (1–500 characters).
    pub description: String,
    /// The amount as decimal text, with `currency` (both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    /// ISO 4217 currency of the amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

fn invalid(why: impl Into<String>) -> OAuthError {
    OAuthError::new(INVALID, why)
}

/// A refusal of the step-up checks (description, amount), with their words.
fn from_check(e: sekisho_core::Error) -> OAuthError {
    match e {
        sekisho_core::Error::InvalidRequest(why) => invalid(why),
        _ => invalid("the operation is not valid"),
    }
}

/// Parses and checks the `authorization_details` parameter (a JSON array, RFC 9396 §2): exactly
/// one entry of type [`OPERATION_TYPE`] with only the known fields, a known kind, a description
/// the step-up page accepts, and an amount with its currency or neither.
pub fn parse(text: &str) -> Result<Operation, OAuthError> {
    if text.len() > MAX_LEN {
        return Err(invalid(format!(
            "authorization_details is longer than {MAX_LEN} bytes"
        )));
    }
    let v: Value = serde_json::from_str(text)
        .map_err(|_| invalid("authorization_details must be a JSON array"))?;
    let Some(entries) = v.as_array() else {
        return Err(invalid("authorization_details must be a JSON array"));
    };
    let [entry] = entries.as_slice() else {
        return Err(invalid(format!(
            "authorization_details must hold exactly one {OPERATION_TYPE} entry"
        )));
    };
    let Some(obj) = entry.as_object() else {
        return Err(invalid("an authorization_details entry must be an object"));
    };
    match obj.get("type").and_then(Value::as_str) {
        Some(OPERATION_TYPE) => {}
        Some(t) => return Err(invalid(format!("unknown authorization_details type {t}"))),
        None => return Err(invalid("authorization_details entry without type")),
    }
    if let Some(k) = obj.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(format!(
            "unknown field {k} in a {OPERATION_TYPE} entry"
        )));
    }
    let text_field = |name: &str| -> Result<Option<&str>, OAuthError> {
        match obj.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(invalid(format!("{name} must be a string"))),
        }
    };
    let kind = text_field("kind")?
        .ok_or_else(|| invalid("kind is required"))
        .and_then(|k| {
            OperationKind::parse(k).ok_or_else(|| {
                invalid("kind must be withdrawal, withdrawal_account_change, large_order or other")
            })
        })?;
    let description = text_field("description")?
        .ok_or_else(|| invalid("description is required"))?
        .to_owned();
    check_description(&description).map_err(from_check)?;
    let (amount, currency) = match (text_field("amount")?, text_field("currency")?) {
        (Some(a), Some(c)) => {
            check_amount(a, c).map_err(from_check)?;
            (Some(a.to_owned()), Some(c.to_owned()))
        }
        (None, None) => (None, None),
        _ => return Err(invalid("amount and currency go together")),
    };
    Ok(Operation {
        kind,
        description,
        amount,
        currency,
    })
}

impl Operation {
    /// The granted entry (RFC 9396 §7): the requested one, plus how the customer confirmed it
    /// (`method`: `passkey`, `totp` or `token`, as in step-up proofs) and when.
    pub fn granted(&self, method: ConfirmMethod, confirmed_at: i64) -> Value {
        let mut v = serde_json::json!({
            "type": OPERATION_TYPE,
            "kind": self.kind.as_str(),
            "description": self.description,
        });
        if let (Some(a), Some(c)) = (&self.amount, &self.currency) {
            v["amount"] = Value::String(a.clone());
            v["currency"] = Value::String(c.clone());
        }
        v["method"] = Value::String(method.as_str().into());
        v["confirmed_at"] = Value::from(confirmed_at);
        Value::Array(vec![v])
    }

    /// The operation in a few words for audit records (`withdrawal 1,500,000 JPY`).
    pub fn summary(&self) -> String {
        match (&self.amount, &self.currency) {
            (Some(a), Some(c)) => format!("{} {}", self.kind.as_str(), format_amount(a, c)),
            _ => self.kind.as_str().to_owned(),
        }
    }
}

/// The ID of the step-up request that confirms the operation of the pending request `handle`:
/// derived from the handle (which only the customer's browser knows), so every instance finds
/// the same one without another column, and the step-up page's URL does not reveal the handle.
pub fn step_up_id(handle: &str) -> String {
    let digest = Sha256::digest(format!("oidc-rar:{handle}").as_bytes());
    format!("{}_{}", step_up::ID_PREFIX, URL_SAFE_NO_PAD.encode(digest))
}

/// Where the operation of a pending request stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// The customer must confirm it on the step-up page of this request ID.
    Ask(String),
    /// Confirmed with this method at this time.
    Confirmed(ConfirmMethod, i64),
    /// Refused by the customer, expired, or asked of another login.
    Refused,
}

/// The confirmation of `op` (of request `r`) for the pending request `handle` by the session's
/// login: the step-up request is made on first need (audited as `step_up_requested`, naming the
/// client), unless `prompt=none`, and read afterwards. The step-up page returns to the pending
/// request's own page.
pub async fn confirmation(
    state: &App,
    handle: &str,
    r: &AuthRequest,
    op: &Operation,
    s: &Session,
    c: &Client,
    client: &ClientInfo,
) -> Result<Confirmation, AppError> {
    let may_ask = !r.prompt_none;
    let back = format!("{}?id={handle}", super::RESUME_PATH);
    let id = step_up_id(handle);
    let id_hash = token::hash(&id);
    let now = state.clock.now();
    let found = match state.store.get_step_up(&id_hash).await? {
        Some(r) => r,
        None if !may_ask => return Ok(Confirmation::Ask(id)),
        None => {
            let new = NewStepUp {
                id_hash: id_hash.clone(),
                login_pk: s.login_pk,
                login_id: s.login_id.clone(),
                kind: op.kind,
                description: op.description.clone(),
                amount: op.amount.clone().zip(op.currency.clone()),
                // Asked by an OpenID Connect client, not an API token: no token may read it.
                api_token_id: 0,
                audience: c.metadata.client_name.clone(),
                return_to: back,
                now,
                expires_at: now.plus_secs(state.settings.step_up.request_ttl_secs),
            };
            let ev = state.event(
                EventType::StepUpRequested,
                Some(&s.login_id),
                Actor::SelfService,
                client,
                format!(
                    "{} requested by client {} ({}) through authorization_details: {}",
                    op.summary(),
                    c.client_id,
                    c.metadata.client_name,
                    op.description
                ),
            );
            match state.store.create_step_up(&new, &ev).await {
                Ok(r) => r,
                // Two tabs resumed at once: the other one made it.
                Err(StoreError::Conflict) => state
                    .store
                    .get_step_up(&id_hash)
                    .await?
                    .ok_or(sekisho_core::Error::Internal)?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    if found.login_pk != s.login_pk {
        return Ok(Confirmation::Refused);
    }
    Ok(
        match (found.state_at(now), found.method, found.answered_at) {
            (StepUpState::Pending, _, _) => Confirmation::Ask(id),
            (StepUpState::Confirmed, Some(m), Some(at)) => Confirmation::Confirmed(m, at.0),
            _ => Confirmation::Refused,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text) {
            Err(e) => {
                assert_eq!(e.error, INVALID, "{text}");
                e.description
            }
            Ok(op) => unreachable!("accepted {text}: {op:?}"),
        }
    }

    #[test]
    fn one_operation_is_read() {
        let op = parse(
            r#"[{"type":"sekisho_operation","kind":"withdrawal","description":"出金 みずほ銀行",
                "amount":"1500000","currency":"JPY"}]"#,
        )
        .unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(op.kind, OperationKind::Withdrawal);
        assert_eq!(op.summary(), "withdrawal 1,500,000 JPY");
        let g = op.granted(ConfirmMethod::Passkey, 1_700_000_000);
        assert_eq!(g[0]["type"], OPERATION_TYPE);
        assert_eq!(g[0]["amount"], "1500000");
        assert_eq!(g[0]["method"], "passkey");
        assert_eq!(g[0]["confirmed_at"], 1_700_000_000);
        let plain = parse(
            r#"[{"type":"sekisho_operation","kind":"withdrawal_account_change","description":"x"}]"#,
        )
        .unwrap_or_else(|e| unreachable!("{e:?}"));
        assert_eq!(plain.amount, None);
        assert!(plain.granted(ConfirmMethod::Totp, 1)[0]
            .get("amount")
            .is_none());
    }

    #[test]
    fn anything_else_is_invalid_authorization_details() {
        assert!(err("{}").contains("JSON array"));
        assert!(err("not json").contains("JSON array"));
        assert!(err("[]").contains("exactly one"));
        let one = r#"{"type":"sekisho_operation","kind":"other","description":"x"}"#;
        assert!(err(&format!("[{one},{one}]")).contains("exactly one"));
        assert!(
            err(r#"[{"type":"payment_initiation","kind":"other","description":"x"}]"#)
                .contains("unknown authorization_details type")
        );
        assert!(err(r#"[{"kind":"other","description":"x"}]"#).contains("without type"));
        assert!(err(
            r#"[{"type":"sekisho_operation","kind":"other","description":"x","actions":["x"]}]"#
        )
        .contains("unknown field actions"));
        assert!(
            err(r#"[{"type":"sekisho_operation","kind":"transfer","description":"x"}]"#)
                .contains("kind must be")
        );
        assert!(err(r#"[{"type":"sekisho_operation","kind":"other"}]"#).contains("description"));
        assert!(
            err(r#"[{"type":"sekisho_operation","kind":"other","description":""}]"#)
                .contains("description")
        );
        assert!(err(
            r#"[{"type":"sekisho_operation","kind":"other","description":"x","amount":"5"}]"#
        )
        .contains("go together"));
        assert!(err(
            r#"[{"type":"sekisho_operation","kind":"other","description":"x","amount":5,"currency":"JPY"}]"#
        )
        .contains("must be a string"));
        assert!(err(
            r#"[{"type":"sekisho_operation","kind":"other","description":"x","amount":"-5","currency":"JPY"}]"#
        )
        .contains("amount"));
        assert!(err(&format!("[\"{}\"]", "x".repeat(MAX_LEN))).contains("longer"));
        assert!(err("[1]").contains("object"));
    }

    #[test]
    fn the_step_up_id_is_the_pages_own_and_reveals_no_handle() {
        let id = step_up_id("skar_abc");
        assert!(id.starts_with("sksu_") && id.len() <= 64);
        assert!(!id.contains("abc"));
        assert_eq!(id, step_up_id("skar_abc"));
        assert_ne!(id, step_up_id("skar_abd"));
    }
}
