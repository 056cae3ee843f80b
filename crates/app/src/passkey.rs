//! Passkeys (WebAuthn, issue 8) through webauthn-rs: the registration and authentication
//! ceremonies, whose state lives in the database between begin and finish (any instance can
//! finish a ceremony another one started; each is taken once and expires), and the firm's
//! passkey policy. [`finish_authentication`] is the one check of a passkey's answer, for the
//! login's second step, passwordless login and any other flow that wants a passkey's proof.

use crate::error::AppError;
use crate::mail::notices::Notice;
use crate::notify;
use crate::staff::{named_login, StaffCaller};
use crate::state::App;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::login::Login;
use sekisho_core::{token, Error};
use sekisho_store::{CeremonyKind, NewCeremony, NewPasskey, PasskeyUse, StoreError, StoredPasskey};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder, WebauthnError,
};
use webauthn_rs_proto::ResidentKeyRequirement;

/// The method name of passkeys in challenges and sessions.
pub const METHOD: &str = "passkey";

const REGISTER: CeremonyKind = CeremonyKind::Register;
const AUTHENTICATE: CeremonyKind = CeremonyKind::Authenticate;
const DISCOVERABLE: CeremonyKind = CeremonyKind::Discoverable;

/// `passkeys.*`: the relying party and the firm's passkey policy. The relying party's ID, name
/// and origins are derived from `public_url` and `mail.firm_name` by [`PasskeySettings::resolve`]
/// when not set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasskeySettings {
    /// The relying party ID: the site's domain (`login.example-sec.co.jp`); never an IP.
    pub rp_id: Option<String>,
    /// The relying party's name shown by the browser (the firm's name).
    pub rp_name: Option<String>,
    /// The origins pages may run ceremonies from (`https://login.example-sec.co.jp`).
    pub origins: Option<Vec<String>>,
    /// How long a ceremony may last between begin and finish (at least 30 s).
    pub ceremony_secs: u32,
    /// Every login must answer its second step with a passkey (codes no longer do).
    pub required: bool,
    /// During the interim, a customer with a passkey may use it instead of the code factor.
    pub instead_of_codes: bool,
}

impl Default for PasskeySettings {
    fn default() -> Self {
        PasskeySettings {
            rp_id: None,
            rp_name: None,
            origins: None,
            ceremony_secs: 300,
            required: false,
            instead_of_codes: true,
        }
    }
}

impl PasskeySettings {
    /// Fills in what is unset: the host of `public_url` as the relying party ID (`localhost`,
    /// on the same port, for a server on an IP address, which is no relying party ID), its
    /// origin, and the firm's name. Refused when webauthn-rs would not accept explicitly set
    /// values; derived ones that it would not accept only leave passkeys off, with a warning.
    pub fn resolve(mut self, public_url: &str, firm_name: &str) -> Result<Self, String> {
        let origin = public_url.trim_end_matches('/').to_owned();
        let host = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(&origin)
            .split(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_owned();
        let (host, origin) = if host.parse::<std::net::IpAddr>().is_ok() {
            let o = origin.replacen(&host, "localhost", 1);
            ("localhost".to_owned(), o)
        } else {
            (host, origin)
        };
        let explicit = self.rp_id.is_some() || self.origins.is_some();
        self.rp_id.get_or_insert(host);
        self.rp_name.get_or_insert_with(|| firm_name.to_owned());
        self.origins.get_or_insert_with(|| vec![origin]);
        self.ceremony_secs = self.ceremony_secs.max(30);
        match self.build() {
            Ok(_) => {}
            Err(e) if explicit => return Err(e),
            Err(e) => tracing::warn!("passkeys are off until passkeys.rp_id is set: {e}"),
        }
        Ok(self)
    }

    /// The webauthn-rs relying party; an error names what is wrong with the settings.
    pub fn build(&self) -> Result<Webauthn, String> {
        let rp_id = self.rp_id.as_deref().unwrap_or_default();
        let mut origins = self.origins.iter().flatten().map(|o| {
            Url::parse(o).map_err(|e| format!("passkeys.origins: {o:?} is not a URL: {e}"))
        });
        let first = origins
            .next()
            .ok_or_else(|| "passkeys.origins: at least one origin is needed".to_owned())??;
        let mut b = WebauthnBuilder::new(rp_id, &first)
            .map_err(|e| format!("passkeys.rp_id {rp_id:?}: {e}"))?
            .rp_name(self.rp_name.as_deref().unwrap_or_default())
            .timeout(std::time::Duration::from_secs(u64::from(
                self.ceremony_secs,
            )));
        for o in origins {
            b = b.append_allowed_origin(&o?);
        }
        b.build()
            .map_err(|e| format!("passkeys: {e} (rp_id must be the origins' host or a parent)"))
    }
}

fn relying_party(state: &App) -> Result<&Webauthn, AppError> {
    state.webauthn.as_deref().ok_or_else(|| {
        tracing::error!("passkeys are not configured correctly");
        AppError::from(Error::Internal)
    })
}

fn internal(e: impl std::fmt::Display) -> AppError {
    tracing::error!("passkey: {e}");
    Error::Internal.into()
}

/// The credential ID as stored (base64url).
fn credential_id(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

/// The ceremony's ID: its prefix says its kind.
fn new_ceremony_id(state: &App, kind: CeremonyKind) -> String {
    let prefix = match kind {
        REGISTER => "skwr",
        AUTHENTICATE => "skwa",
        _ => "skwd",
    };
    token::generate(prefix, state.rng.as_ref())
}

fn kind_of(ceremony_id: &str) -> Option<CeremonyKind> {
    match ceremony_id.get(..5) {
        Some("skwr_") => Some(REGISTER),
        Some("skwa_") => Some(AUTHENTICATE),
        Some("skwd_") => Some(DISCOVERABLE),
        _ => None,
    }
}

async fn store_ceremony(
    state: &App,
    kind: CeremonyKind,
    login_pk: Option<i64>,
    bound_to: Option<String>,
    ceremony_state: String,
) -> Result<String, AppError> {
    let now = state.clock.now();
    let id = new_ceremony_id(state, kind);
    state
        .store
        .create_ceremony(&NewCeremony {
            id_hash: token::hash(&id),
            kind,
            login_pk,
            bound_to,
            state: ceremony_state,
            now,
            expires_at: now.plus_secs(i64::from(state.settings.passkeys.ceremony_secs)),
        })
        .await?;
    Ok(id)
}

async fn take_ceremony(
    state: &App,
    ceremony_id: &str,
    kinds: &[CeremonyKind],
) -> Result<sekisho_store::Ceremony, AppError> {
    let kind = kind_of(ceremony_id)
        .filter(|k| kinds.contains(k))
        .ok_or(Error::PasskeyCeremonyInvalid)?;
    Ok(state
        .store
        .take_ceremony(&token::hash(ceremony_id), kind, state.clock.now())
        .await?
        .ok_or(Error::PasskeyCeremonyInvalid)?)
}

/// The login's passkeys.
pub async fn list(state: &App, login_pk: i64) -> Result<Vec<StoredPasskey>, AppError> {
    Ok(state.store.list_passkeys(login_pk).await?)
}

/// Starts registering a passkey for the login (who re-authenticated already): the options for
/// `navigator.credentials.create` and the ceremony's ID.
pub async fn begin_registration(
    state: &App,
    login: &Login,
) -> Result<(String, CreationChallengeResponse), AppError> {
    let rp = relying_party(state)?;
    let existing = list(state, login.id).await?;
    // One user handle per login, kept with its passkeys; a new one for the first.
    let handle = match existing.first() {
        Some(p) => Uuid::parse_str(&p.user_handle).map_err(internal)?,
        None => {
            let mut b = [0u8; 16];
            state.rng.fill(&mut b);
            uuid_v4(b)
        }
    };
    let exclude = existing
        .iter()
        .filter_map(|p| serde_json::from_str::<Passkey>(&p.credential).ok())
        .map(|p| p.cred_id().clone())
        .collect::<Vec<_>>();
    let (ccr, reg) = rp
        .start_passkey_registration(handle, &login.login_id, &login.display_name, Some(exclude))
        .map_err(internal)?;
    let mut options = ccr;
    // Ask for a discoverable credential (passwordless login and autofill need one) without
    // refusing authenticators that cannot store one; the finish does not depend on it.
    if let Some(sel) = options.public_key.authenticator_selection.as_mut() {
        sel.resident_key = Some(ResidentKeyRequirement::Preferred);
        sel.require_resident_key = false;
    }
    // A registration binds its ceremony to the user handle it gave the authenticator, which
    // the finish stores with the passkey (passwordless logins are matched by it).
    let id = store_ceremony(
        state,
        REGISTER,
        Some(login.id),
        Some(handle.to_string()),
        serde_json::to_string(&reg).map_err(internal)?,
    )
    .await?;
    Ok((id, options))
}

fn uuid_v4(mut b: [u8; 16]) -> Uuid {
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b)
}

/// The name a customer gives a passkey: trimmed, 1 to 64 characters, no control characters.
pub fn valid_name(name: &str) -> Result<String, AppError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) {
        return Err(Error::InvalidRequest("name: 1 to 64 characters".into()).into());
    }
    Ok(n.to_owned())
}

/// Finishes a registration begun for this login: verifies the authenticator's answer, stores
/// the passkey with its audit record and tells the customer by mail.
pub async fn finish_registration(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    ceremony_id: &str,
    response: &RegisterPublicKeyCredential,
    name: &str,
) -> Result<StoredPasskey, AppError> {
    let name = valid_name(name)?;
    let rp = relying_party(state)?;
    let ceremony = take_ceremony(state, ceremony_id, &[REGISTER]).await?;
    if ceremony.login_pk != Some(login.id) {
        return Err(Error::PasskeyCeremonyInvalid.into());
    }
    let reg: PasskeyRegistration = serde_json::from_str(&ceremony.state).map_err(internal)?;
    let passkey = match rp.finish_passkey_registration(response, &reg) {
        Ok(p) => p,
        Err(e) => {
            let ev = state
                .event(
                    EventType::PasskeyFailed,
                    Some(&login.login_id),
                    Actor::SelfService,
                    client,
                    format!("passkey registration refused: {e}"),
                )
                .with_error(Error::PasskeyInvalid.code());
            state.store.append_audit(&ev).await?;
            return Err(Error::PasskeyInvalid.into());
        }
    };
    let serialized = serde_json::to_value(&passkey).map_err(internal)?;
    let cred = &serialized["cred"];
    let now = state.clock.now();
    let new = NewPasskey {
        login_pk: login.id,
        credential_id: credential_id(passkey.cred_id().as_ref()),
        user_handle: ceremony.bound_to.unwrap_or_default(),
        name: name.clone(),
        credential: serialized.to_string(),
        sign_count: cred["counter"].as_i64().unwrap_or(0),
        backup_eligible: cred["backup_eligible"].as_bool().unwrap_or(false),
        backup_state: cred["backup_state"].as_bool().unwrap_or(false),
        now,
    };
    let ev = state.event(
        EventType::PasskeyAdded,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!("passkey \"{name}\" added"),
    );
    match state.store.add_passkey(&new, &ev).await {
        Ok(_) => {}
        Err(StoreError::Conflict) => return Err(Error::FactorAlreadyRegistered.into()),
        Err(e) => return Err(e.into()),
    }
    notify::send(state, login, &Notice::FactorAdded(METHOD)).await;
    state
        .store
        .passkey_by_credential(&new.credential_id)
        .await?
        .ok_or_else(|| AppError::from(Error::Internal))
}

/// Starts an authentication: with a login, for its passkeys (the second step after the
/// password, bound to its challenge); without one, for any discoverable passkey (passwordless
/// login and autofill). The options for `navigator.credentials.get` and the ceremony's ID.
pub async fn begin_authentication(
    state: &App,
    login: Option<&Login>,
    bound_to: Option<String>,
) -> Result<(String, RequestChallengeResponse), AppError> {
    let rp = relying_party(state)?;
    match login {
        Some(login) => {
            let keys = list(state, login.id)
                .await?
                .into_iter()
                .filter(|p| p.counter_regressed_at.is_none())
                .filter_map(|p| serde_json::from_str::<Passkey>(&p.credential).ok())
                .collect::<Vec<_>>();
            if keys.is_empty() {
                return Err(Error::FactorNotRegistered.into());
            }
            let (rcr, auth) = rp.start_passkey_authentication(&keys).map_err(internal)?;
            let id = store_ceremony(
                state,
                AUTHENTICATE,
                Some(login.id),
                bound_to,
                serde_json::to_string(&auth).map_err(internal)?,
            )
            .await?;
            Ok((id, rcr))
        }
        None => {
            let (rcr, auth) = rp.start_discoverable_authentication().map_err(internal)?;
            let id = store_ceremony(
                state,
                DISCOVERABLE,
                None,
                bound_to,
                serde_json::to_string(&auth).map_err(internal)?,
            )
            .await?;
            Ok((id, rcr))
        }
    }
}

/// A passkey's answer that was verified and recorded.
#[derive(Debug, Clone)]
pub struct VerifiedPasskey {
    /// The login the passkey belongs to (as read after the use).
    pub login: Login,
    /// The passkey.
    pub passkey_id: i64,
    /// Its name.
    pub name: String,
    /// What the ceremony was bound to when it began (a login challenge's hash).
    pub bound_to: Option<String>,
}

/// Finishes an authentication ceremony begun by [`begin_authentication`] (on any instance):
/// takes the ceremony once, verifies the answer against the stored passkey, refuses and flags
/// a passkey whose signature counter went backwards, and records the use (counter, backup
/// flags, last used) with its audit record. The caller checks the login's state and what the
/// ceremony was bound to.
pub async fn finish_authentication(
    state: &App,
    client: &ClientInfo,
    ceremony_id: &str,
    response: &PublicKeyCredential,
) -> Result<VerifiedPasskey, AppError> {
    let rp = relying_party(state)?;
    let ceremony = take_ceremony(state, ceremony_id, &[AUTHENTICATE, DISCOVERABLE]).await?;
    let cred_id = credential_id(response.get_credential_id());
    let Some(stored) = state.store.passkey_by_credential(&cred_id).await? else {
        return Err(Error::PasskeyInvalid.into());
    };
    let fail = |why: String, e: Error| {
        state
            .event(
                EventType::PasskeyFailed,
                Some(&stored.login_id),
                Actor::SelfService,
                client,
                format!("passkey \"{}\": {why}", stored.name),
            )
            .with_error(e.code())
    };
    if ceremony.login_pk.is_some_and(|pk| pk != stored.login_pk) {
        state
            .store
            .append_audit(&fail(
                "not a passkey of the login being checked".into(),
                Error::PasskeyInvalid,
            ))
            .await?;
        return Err(Error::PasskeyInvalid.into());
    }
    if stored.counter_regressed_at.is_some() {
        let e = Error::PasskeyCounterRegressed;
        state
            .store
            .append_audit(&fail(
                "suspended (counter went backwards)".into(),
                e.clone(),
            ))
            .await?;
        return Err(e.into());
    }
    let mut passkey: Passkey = serde_json::from_str(&stored.credential).map_err(internal)?;
    let result = if ceremony.kind == DISCOVERABLE {
        let auth: DiscoverableAuthentication =
            serde_json::from_str(&ceremony.state).map_err(internal)?;
        match rp.identify_discoverable_authentication(response) {
            Ok((handle, _)) if handle.to_string() == stored.user_handle => rp
                .finish_discoverable_authentication(
                    response,
                    auth,
                    &[DiscoverableKey::from(&passkey)],
                ),
            Ok(_) => Err(WebauthnError::InvalidUserUniqueId),
            Err(e) => Err(e),
        }
    } else {
        let auth: PasskeyAuthentication =
            serde_json::from_str(&ceremony.state).map_err(internal)?;
        rp.finish_passkey_authentication(response, &auth)
    };
    let res = match result {
        Ok(r) => r,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            // A counter at or below the stored one: the key may have been copied. Flag it (the
            // operator sees it), refuse it from now on, and tell the customer.
            let ev = state
                .event(
                    EventType::PasskeyCounterRegressed,
                    Some(&stored.login_id),
                    Actor::SelfService,
                    client,
                    format!(
                    "passkey \"{}\": signature counter did not move forward (stored {}); suspended",
                    stored.name, stored.sign_count
                ),
                )
                .with_error(Error::PasskeyCounterRegressed.code());
            state
                .store
                .flag_passkey_counter(stored.id, state.clock.now(), &ev)
                .await?;
            return Err(Error::PasskeyCounterRegressed.into());
        }
        Err(e) => {
            state
                .store
                .append_audit(&fail(format!("refused: {e}"), Error::PasskeyInvalid))
                .await?;
            return Err(Error::PasskeyInvalid.into());
        }
    };
    passkey.update_credential(&res);
    let used = PasskeyUse {
        id: stored.id,
        credential: serde_json::to_string(&passkey).map_err(internal)?,
        sign_count: i64::from(res.counter()),
        backup_eligible: res.backup_eligible(),
        backup_state: res.backup_state(),
        now: state.clock.now(),
    };
    let ev = state.event(
        EventType::PasskeyUsed,
        Some(&stored.login_id),
        Actor::SelfService,
        client,
        format!(
            "passkey \"{}\" used (counter {}, backed up: {})",
            stored.name,
            res.counter(),
            res.backup_state()
        ),
    );
    if !state.store.record_passkey_use(&used, &ev).await? {
        return Err(Error::PasskeyCounterRegressed.into());
    }
    let login = state
        .store
        .get_login(&stored.login_id)
        .await?
        .ok_or(Error::PasskeyInvalid)?;
    Ok(VerifiedPasskey {
        login,
        passkey_id: stored.id,
        name: stored.name,
        bound_to: ceremony.bound_to,
    })
}

/// Renames one of the login's passkeys.
pub async fn rename(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    id: i64,
    name: &str,
) -> Result<(), AppError> {
    let name = valid_name(name)?;
    let ev = state.event(
        EventType::PasskeyRenamed,
        Some(&login.login_id),
        Actor::SelfService,
        client,
        format!("passkey {id} renamed to \"{name}\""),
    );
    if !state.store.rename_passkey(login.id, id, &name, &ev).await? {
        return Err(Error::PasskeyNotFound.into());
    }
    Ok(())
}

/// Removes one of the login's passkeys (by the customer or an operator) and tells the customer.
pub async fn remove(
    state: &App,
    client: &ClientInfo,
    login: &Login,
    id: i64,
    actor: Actor,
) -> Result<(), AppError> {
    let name = list(state, login.id)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .map(|p| p.name)
        .ok_or(Error::PasskeyNotFound)?;
    let ev = state.event(
        EventType::PasskeyRemoved,
        Some(&login.login_id),
        actor,
        client,
        format!("passkey \"{name}\" removed"),
    );
    if !state.store.remove_passkey(login.id, id, &ev).await? {
        return Err(Error::PasskeyNotFound.into());
    }
    notify::send(state, login, &Notice::FactorRemoved(METHOD)).await;
    Ok(())
}

/// Whether the login has a usable passkey (none flagged as a possible clone): a fact of its
/// second step (`sekisho_core::flow::PasskeyRules` decides what it means).
pub async fn has_usable(state: &App, login_pk: i64) -> Result<bool, AppError> {
    Ok(list(state, login_pk)
        .await?
        .iter()
        .any(|p| p.counter_regressed_at.is_none()))
}

/// Removes a login's passkey for an operator (the admin API and the console). Removing a
/// credential is a credential change: admins only, like erasing credentials; the support desk
/// may look but not remove.
pub async fn operator_remove(
    state: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    login_id: &str,
    id: i64,
) -> Result<(), AppError> {
    caller.require_admin()?;
    let login = named_login(state, login_id).await?;
    remove(state, client, &login, id, caller.actor.clone()).await
}
