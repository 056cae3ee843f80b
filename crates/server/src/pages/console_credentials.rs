//! The console's Change Credentials dialog (CQG seed): one form that chooses the action (a setup
//! link shown or e-mailed, or erasing without a link), the credentials concerned and whether a
//! link erases the current ones first; anything that erases is confirmed on a page naming what
//! goes. The work is `login_admin::erase` and `setup_links::issue`, as in the admin API.

use super::console::{base, staff_form, Ct};
use super::console_logins::{render_detail, shown, NewLink};
use super::{error_page, percent_encode, status_of, Base, Ctx};
use crate::door::AppState;
use crate::error::ApiError;
use crate::extract::AdminCaller;
use crate::web::setup_link_url;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use sekisho_app::login_admin::{self, EraseRequest};
use sekisho_app::setup_links::{self, SetupLinkRequest};
use sekisho_core::login::Login;
use sekisho_core::Error;
use serde::Deserialize;

/// The Change Credentials dialog: one choice of what to do (① erase, or a new setup link ⑤
/// shown or ⑥ e-mailed), ③ what it concerns, ④ whether a link erases the current ones first.
/// Anything that erases is shown again for confirmation, naming what goes, before it is done.
#[derive(Deserialize)]
pub(super) struct CredentialsForm {
    csrf: String,
    /// `erase` (①), `generate` (⑤) or `email` (⑥).
    #[serde(default)]
    action: String,
    /// ③ what to change.
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    second_factor: Option<String>,
    /// ④ erase the current credentials first (with a link).
    #[serde(default)]
    erase_current: Option<String>,
    /// Sent by the confirmation step.
    #[serde(default)]
    confirmed: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_cred_confirm.html")]
struct CredConfirmPage {
    base: Base,
    c: Ct,
    action: String,
    login_id: String,
    /// The form's choices, sent again with the confirmation.
    choice: &'static str,
    password: bool,
    second_factor: bool,
    erase_current: bool,
    /// What will be erased, one line each.
    erased: Vec<String>,
    /// What follows the erasure (the link), if anything.
    then: Option<&'static str>,
}

/// What erasing `password`/`second_factor` removes from this login, in words.
async fn erased_items(
    state: &AppState,
    c: Ct,
    login: &Login,
    password: bool,
    second: bool,
) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    if password {
        out.push(c.t("cred.password").to_owned());
    }
    if second {
        if crate::totp::active_totp(state, login.id).await?.is_some() {
            out.push(c.t("cred.item_app").to_owned());
        }
        if let Some(t) = crate::hwtoken::registered_token(state, login.id).await? {
            out.push(format!("{}: {}", c.t("cred.item_token"), t.token_id));
        }
        let passkeys = crate::passkey::list(state, login.id).await?.len();
        if passkeys > 0 {
            out.push(format!("{}: {passkeys}", c.t("cred.item_passkeys")));
        }
        if let Some(r) = crate::recovery::status(state, login.id).await? {
            out.push(format!("{}: {}", c.t("cred.item_recovery"), r.remaining));
        }
        if out.len() == usize::from(password) {
            out.push(c.t("cred.item_none").to_owned());
        }
    }
    out.push(c.t("cred.item_sessions").to_owned());
    Ok(out)
}

pub(super) async fn credentials(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(login_id): Path<String>,
    form: Result<Form<CredentialsForm>, FormRejection>,
) -> Response {
    let (ctx, op, f) = match staff_form(&state, ctx, form, |f| &f.csrf).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let caller = AdminCaller::Operator(op).staff();
    let is_admin = caller.admin;
    let password = f.password.is_some();
    let second = f.second_factor.is_some();
    let client = ctx.client.clone();
    let c = Ct(ctx.lang);
    let (choice, link_by_mail) = match f.action.as_str() {
        "erase" => ("erase", None),
        "generate" => ("generate", Some(false)),
        "email" => ("email", Some(true)),
        _ => ("", None),
    };
    let erases = choice == "erase" || f.erase_current.is_some();
    let r: Result<Option<NewLink>, ApiError> = async {
        if choice.is_empty() {
            return Err(Error::InvalidRequest(c.t("cred.choose_action").to_owned()).into());
        }
        if !password && !second {
            return Err(Error::InvalidRequest(c.t("cred.choose").to_owned()).into());
        }
        if erases {
            caller.require_admin()?;
        }
        if erases && f.confirmed.is_none() {
            return Ok(None);
        }
        if erases {
            let req = EraseRequest {
                password,
                second_factor: second,
            };
            login_admin::erase(&state, &caller, &client, &login_id, req).await?;
        }
        let Some(send_email) = link_by_mail else {
            return Ok(None);
        };
        let req = SetupLinkRequest {
            password,
            second_factor: second,
            expires_in_secs: None,
            send_email,
        };
        let link = setup_links::issue(&state, &caller, &client, &login_id, req).await?;
        Ok(Some(NewLink {
            url: link
                .token
                .as_deref()
                .map(|t| setup_link_url(&state.settings.public_url, t)),
            expires: state.settings.zone.minutes(link.expires_at),
            emailed_to: link.email_sent_to,
        }))
    }
    .await;
    // The confirmation step: what will be erased, and what follows.
    if matches!(r, Ok(None)) && erases && f.confirmed.is_none() {
        let login = match login_admin::read_login(&state, &login_id).await {
            Ok(o) => o.login,
            Err(e) => return error_page(&state, ctx, &e.error),
        };
        let erased = match erased_items(&state, c, &login, password, second).await {
            Ok(x) => x,
            Err(e) => return error_page(&state, ctx, &e.error),
        };
        let page = CredConfirmPage {
            base: base(&state, &ctx, "cred.confirm_title"),
            c,
            action: format!("/admin/logins/{}", percent_encode(&login.login_id)),
            login_id: login.login_id,
            choice,
            password,
            second_factor: second,
            erase_current: f.erase_current.is_some(),
            erased,
            then: link_by_mail.map(|mail| {
                c.t(if mail {
                    "cred.then_email"
                } else {
                    "cred.then_generate"
                })
            }),
        };
        return ctx.render(StatusCode::OK, &page);
    }
    match r {
        Ok(None) => {
            let to = format!("/admin/logins/{}?done=erased", percent_encode(&login_id));
            ctx.redirect(&to)
        }
        // The link is shown once, on this answer (it is stored only as a keyed hash).
        Ok(Some(link)) => {
            render_detail(
                &state,
                ctx,
                is_admin,
                &login_id,
                StatusCode::OK,
                None,
                Some(link),
            )
            .await
        }
        Err(e) => {
            let shown = shown(&e.error, ctx.lang);
            let status = status_of(&e.error);
            render_detail(&state, ctx, is_admin, &login_id, status, Some(shown), None).await
        }
    }
}
