//! The console's view of the back-channel logout outbox (admin role): the logouts queued for
//! clients when sessions ended, where each is in its delivery (waiting, delivered, given up),
//! its attempts and last error, filtered by state and client, paged. It reads through the same
//! application function as the admin API (`oidc::outbox`).

use super::console::{base, signed_in, Ct};
use super::{error_page, percent_encode, query_param, Base, Ctx};
use crate::door::AppState;
use crate::extract::AdminCaller;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use sekisho_app::oidc::{clients, outbox};
use sekisho_store::{LogoutState, OutboxLogout};

pub fn router() -> Router<AppState> {
    Router::new().route("/admin/oidc/logouts", get(list))
}

/// The page's own words in Japanese and English (the continuation of the console's table).
pub(super) fn text(key: &str) -> (&'static str, &'static str) {
    match key {
        "nav.logouts" => ("ログアウト通知", "Logout notices"),
        "title.logouts" => ("バックチャネルログアウト通知", "Back-channel logouts"),
        "bl.intro" => (
            "セッションが終了したときに、そのセッションでログインしていたアプリ(クライアント)へ送るログアウト通知の一覧です。送信に失敗した通知は、間隔を空けて自動で再送します。",
            "The logouts sent to the apps (clients) a session had signed in to when it ended. A failed delivery is retried automatically, at growing intervals.",
        ),
        "bl.state" => ("状態", "State"),
        "bl.client" => ("クライアント", "Client"),
        "bl.all" => ("すべて", "All"),
        "bl.state.pending" => ("送信待ち", "Pending"),
        "bl.state.sent" => ("送信済み", "Delivered"),
        "bl.state.failed" => ("送信失敗", "Given up"),
        "bl.login" => ("ログインID", "Login ID"),
        "bl.attempts" => ("試行回数", "Attempts"),
        "bl.next" => ("次回送信予定", "Next attempt"),
        "bl.error" => ("直近のエラー", "Last error"),
        "bl.created" => ("登録日時", "Queued"),
        "bl.ended" => ("送信済み・失敗の日時", "Delivered or given up"),
        "bl.filter" => ("絞り込む", "Filter"),
        "bl.empty" => ("該当するログアウト通知はありません。", "No logout matches."),
        "bl.unknown_client" => ("(削除済みのクライアント)", "(deleted client)"),
        _ => ("?", "?"),
    }
}

/// One row of the table.
pub struct Row {
    pub client_id: String,
    pub client_name: String,
    pub login_id: String,
    pub state: &'static str,
    pub state_label: &'static str,
    pub attempts: i64,
    pub next_attempt: String,
    pub last_error: String,
    pub created: String,
    pub ended: String,
}

#[derive(Template)]
#[template(path = "admin_logouts.html")]
struct ListPage {
    base: Base,
    c: Ct,
    /// The filters as chosen (`pending`… / a client ID; empty for all).
    state: String,
    client_id: String,
    states: Vec<(&'static str, &'static str)>,
    /// Registered clients for the filter: (client ID, name).
    clients: Vec<(String, String)>,
    rows: Vec<Row>,
    next: Option<String>,
}

const STATES: [LogoutState; 3] = [LogoutState::Pending, LogoutState::Sent, LogoutState::Failed];

fn state_label(c: Ct, s: LogoutState) -> &'static str {
    c.t(&format!("bl.state.{}", s.as_str()))
}

fn row(state: &AppState, c: Ct, names: &[(String, String)], l: &OutboxLogout) -> Row {
    let zone = &state.settings.zone;
    let client_name = names
        .iter()
        .find(|(id, _)| *id == l.client_id)
        .map_or_else(|| c.t("bl.unknown_client").to_owned(), |(_, n)| n.clone());
    Row {
        client_id: l.client_id.clone(),
        client_name,
        login_id: l.login_id.clone(),
        state: l.state.as_str(),
        state_label: state_label(c, l.state),
        attempts: l.attempts,
        next_attempt: if l.state == LogoutState::Pending {
            zone.minutes(l.next_attempt_at)
        } else {
            String::new()
        },
        last_error: l.last_error.clone().unwrap_or_default(),
        created: zone.minutes(l.created_at),
        ended: l
            .sent_at
            .or(l.failed_at)
            .map(|t| zone.minutes(t))
            .unwrap_or_default(),
    }
}

async fn list(State(state): State<AppState>, ctx: Ctx) -> Response {
    let (ctx, op) = match signed_in(&state, ctx).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let c = Ct(ctx.lang);
    let q = |k: &str| {
        query_param(&ctx.query, k)
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let (state_f, client_f, before) = (q("state"), q("client_id"), q("before"));
    let params = outbox::OutboxParams {
        state: Some(state_f.clone()),
        client_id: Some(client_f.clone()),
        before: before.parse().ok(),
        limit: None,
    };
    let caller = AdminCaller::Operator(op).staff();
    let (logouts, next) = match outbox::page(&state, &caller, &params).await {
        Ok(x) => x,
        Err(e) => return error_page(&state, ctx, &e.error),
    };
    let names: Vec<(String, String)> = match clients::list(&state).await {
        Ok(all) => all
            .into_iter()
            .map(|cl| (cl.client_id, cl.metadata.client_name))
            .collect(),
        Err(e) => return error_page(&state, ctx, &e.error),
    };
    let rows = logouts.iter().map(|l| row(&state, c, &names, l)).collect();
    let filters: String = [("state", &state_f), ("client_id", &client_f)]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}&", percent_encode(v)))
        .collect();
    let page = ListPage {
        base: base(&state, &ctx, "title.logouts"),
        c,
        states: STATES
            .iter()
            .map(|s| (s.as_str(), state_label(c, *s)))
            .collect(),
        state: state_f,
        client_id: client_f,
        clients: names,
        rows,
        next: next.map(|n| format!("/admin/oidc/logouts?{filters}before={n}")),
    };
    ctx.render(StatusCode::OK, &page)
}
