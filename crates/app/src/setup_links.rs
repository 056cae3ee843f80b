//! Setup links (issue 6): an operator makes a single-use, expiring link to the hosted setup
//! wizard, where the newcomer sets a password and registers a second factor. Shared by the
//! admin API, the console and the CLI (`sekisho login setup-link`).
//!
//! Whoever holds the link can set the login's password, and setting passwords is the admins'
//! (issue 16 item 4): a `support` operator may make a link, but it is only mailed to the
//! login's registered address and its URL is never shown to them; an admin (or an admin API
//! token, or the CLI) is shown the URL. The link's creator is recorded on its use, and the
//! customer is always sent the password notice when a password is set through a link.

use crate::error::AppError;
use crate::mail::notices::Notice;
use crate::mail::{self, templates};
use crate::notify;
use crate::staff::{named_login, StaffCaller};
use crate::state::App;
use sekisho_core::audit::{Actor, ClientInfo, EventType};
use sekisho_core::login::Login;
use sekisho_core::{token, Error, Timestamp};
use sekisho_store::{NewSetupLink, SetupLink};

/// Default lifetime of a setup link (7 days) and the longest allowed (30 days).
const DEFAULT_SECS: i64 = 7 * 86_400;
const MAX_SECS: i64 = 30 * 86_400;

/// What a setup link is for.
#[derive(Debug, Clone)]
pub struct SetupLinkRequest {
    /// The holder sets a password.
    pub password: bool,
    /// The holder registers a second factor.
    pub second_factor: bool,
    /// Lifetime (default 7 days, 60 s to 30 days).
    pub expires_in_secs: Option<i64>,
    /// Also send the welcome mail with the link to the login's registered address (always for a
    /// `support` operator).
    pub send_email: bool,
}

/// A link just made (its token is shown only now).
#[derive(Debug, Clone)]
pub struct IssuedSetupLink {
    /// The login it is for.
    pub login_id: String,
    /// The link's secret token; the doors make the link from it (`{public_url}/setup/{token}`).
    /// `None` for a `support` operator, who may only have the link mailed to the customer.
    pub token: Option<String>,
    /// The holder sets a password.
    pub password: bool,
    /// The holder registers a second factor.
    pub second_factor: bool,
    /// When it stops working.
    pub expires_at: Timestamp,
    /// The address the welcome mail was queued for, if one was.
    pub email_sent_to: Option<String>,
}

/// The keyed hash a setup link's token is kept as.
pub fn link_hash(app: &App, tok: &str) -> String {
    app.secrets.code_hash("sekisho-setup-link", tok)
}

/// Makes a setup link (support may) and, when asked (always for support), records the welcome
/// mail carrying it in the outbox. Only an admin caller gets the link's token back.
pub async fn issue(
    app: &App,
    caller: &StaffCaller,
    client: &ClientInfo,
    login_id: &str,
    req: SetupLinkRequest,
) -> Result<IssuedSetupLink, AppError> {
    let login = named_login(app, login_id).await?;
    if !req.password && !req.second_factor {
        return Err(Error::InvalidRequest("password or second_factor must be true".into()).into());
    }
    let secs = req.expires_in_secs.unwrap_or(DEFAULT_SECS);
    if !(60..=MAX_SECS).contains(&secs) {
        return Err(
            Error::InvalidRequest(format!("expires_in_secs must be 60 to {MAX_SECS}")).into(),
        );
    }
    // Support never sees the URL: the link goes only to the registered address.
    let send_email = req.send_email || !caller.admin;
    let actor = caller.actor.clone();
    let now = app.clock.now();
    let tok = token::generate("skst", app.rng.as_ref());
    let new = NewSetupLink {
        token_hash: link_hash(app, &tok),
        login_pk: login.id,
        set_password: req.password,
        set_second_factor: req.second_factor,
        created_by: {
            let (kind, id) = actor.parts();
            format!("{kind}:{id}")
        },
        now,
        expires_at: now.plus_secs(secs),
    };
    let what = format!(
        "setup link created (password: {}, second factor: {}; {}; older unused links revoked)",
        req.password,
        req.second_factor,
        if caller.admin {
            "URL shown to the creator"
        } else {
            "mailed to the registered address only"
        }
    );
    let ev = app.event(
        EventType::SetupLinkCreated,
        Some(&login.login_id),
        actor,
        client,
        what,
    );
    let link = app.store.create_setup_link(&new, &ev).await?;
    if send_email {
        let url = mail::link(&app.settings.public_url, &format!("/setup/{tok}"));
        // Recorded right after the link; if this fails the operator is told and a new link
        // (which replaces this one) can be sent.
        let rendered = templates::setup_link(
            login.lang,
            &app.settings.zone,
            &app.settings.mail.firm_name,
            &app.settings.mail.support_contact,
            &login.display_name,
            &url,
            link.expires_at,
            templates::SetupWork {
                password: link.set_password,
                second_factor: link.set_second_factor.then_some(login.second_factor),
            },
        );
        let mail = mail::seal(app, Some(&login.login_id), &login.email, rendered)?;
        mail::enqueue(app, &mail).await?;
    }
    Ok(IssuedSetupLink {
        login_id: login.login_id,
        token: caller.admin.then_some(tok),
        password: link.set_password,
        second_factor: link.set_second_factor,
        expires_at: link.expires_at,
        email_sent_to: send_email.then_some(login.email),
    })
}

/// Who made a link, as the audit names them (from the stored `kind:id`).
pub fn creator(link: &SetupLink) -> Actor {
    match link.created_by.split_once(':') {
        Some((kind, id)) => Actor::from_parts(kind, id),
        None => Actor::System,
    }
}

/// Sets the password chosen in the setup wizard (already checked against the policy and
/// hashed): the audit record names the link's creator as actor (the customer did not prove
/// anything but holding the link), and the customer is always sent the password notice.
pub async fn set_password(
    app: &App,
    client: &ClientInfo,
    link: &SetupLink,
    login: &Login,
    hash: &str,
) -> Result<(), AppError> {
    let by = creator(link);
    let (kind, id) = by.parts();
    let ev = app.event(
        EventType::PasswordSet,
        Some(&login.login_id),
        by.clone(),
        client,
        format!("password set in the setup wizard from a link made by {kind} {id}"),
    );
    app.store
        .set_password(login.id, hash, false, app.clock.now(), None, &ev)
        .await?;
    // The customer chose it, so it reads as a change; a takeover through a mailed link would
    // show up here on the customer's registered address.
    let what = Notice::PasswordChanged { by_operator: false };
    notify::send(app, login, &what).await;
    Ok(())
}
