//! The console's Change Activity History (CQG): event ID, time, login, event group and type,
//! description, actor and IP, filtered by login, event type, operator and time range, paged,
//! with the CSV export. It reads through the application's own functions (`audit_history`), so the
//! rows and the CSV are the API's.

use super::console::{base, signed_in, Ct};
use super::{error_page, percent_encode, query_param, Base, Ctx};
use crate::door::AppState;
use crate::web::csv_download;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use sekisho_app::audit_history::{history_page, history_row, AuditParams, CsvExport};
use sekisho_core::audit::EventType;
use sekisho_core::Error;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/history", get(history))
        .route("/admin/history.csv", get(csv))
}

/// One row of the table.
pub struct Row {
    pub event_id: i64,
    pub time: String,
    pub login_id: String,
    pub login_name: String,
    pub group: String,
    pub event_type: String,
    pub description: String,
    pub actor: String,
    pub ip: String,
}

/// The filters as the form shows them.
#[derive(Default)]
pub struct Filters {
    pub login_id: String,
    pub event_type: String,
    pub operator: String,
    pub since: String,
    pub until: String,
}

#[derive(Template)]
#[template(path = "admin_history.html")]
struct HistoryPage {
    base: Base,
    c: Ct,
    f: Filters,
    types: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    next: Option<String>,
    csv: String,
    /// The firm's zone, which the times shown and the filters' times are in (`JST`).
    zone: String,
}

/// `2026-05-22T21:02` (a `datetime-local` field, read in the firm's zone) as RFC 3339.
fn local_time(zone: &sekisho_app::zone::Zone, v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    // Unreadable text goes on as typed, for the app's check to refuse with its code.
    Some(
        zone.local_input(v)
            .map_or_else(|| v.to_owned(), |t| t.to_rfc3339()),
    )
}

fn filters(query: &str) -> Filters {
    let q = |k: &str| query_param(query, k).unwrap_or_default().trim().to_owned();
    Filters {
        login_id: q("login_id"),
        event_type: q("event_type"),
        operator: q("operator"),
        since: q("since"),
        until: q("until"),
    }
}

fn params(zone: &sekisho_app::zone::Zone, f: &Filters, before: Option<i64>) -> AuditParams {
    let some = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
    AuditParams {
        login_id: some(&f.login_id),
        event_type: some(&f.event_type),
        operator: some(&f.operator),
        since: local_time(zone, &f.since),
        until: local_time(zone, &f.until),
        before,
        limit: Some(50),
        ..AuditParams::default()
    }
}

/// The filters as a query string (for the next page and the CSV link).
fn query_of(f: &Filters) -> String {
    [
        ("login_id", &f.login_id),
        ("event_type", &f.event_type),
        ("operator", &f.operator),
        ("since", &f.since),
        ("until", &f.until),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", percent_encode(v)))
    .collect::<Vec<_>>()
    .join("&")
}

async fn history(State(state): State<AppState>, ctx: Ctx) -> Response {
    let (ctx, _) = match signed_in(&state, ctx).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let f = filters(&ctx.query);
    let before = query_param(&ctx.query, "before").and_then(|b| b.parse().ok());
    let (events, next) = match history_page(&state, &params(&state.settings.zone, &f, before)).await
    {
        Ok(x) => x,
        Err(e) => return error_page(&state, ctx, &e.error),
    };
    let rows = events
        .iter()
        .map(|e| {
            let r = history_row(e, ctx.lang);
            Row {
                event_id: e.event_id,
                time: state.settings.zone.minutes(e.time),
                login_id: e.login_id.clone().unwrap_or_default(),
                login_name: e.login_name.clone().unwrap_or_default(),
                group: r.group_label.to_owned(),
                event_type: EventType::parse(&e.event_type)
                    .map(|t| t.label(ctx.lang).to_owned())
                    .unwrap_or_else(|| e.event_type.clone()),
                description: r.description,
                actor: r.actor,
                ip: e.client_ip.clone().unwrap_or_default(),
            }
        })
        .collect();
    let q = query_of(&f);
    let sep = if q.is_empty() { "" } else { "&" };
    let next = next.map(|n| format!("/admin/history?{q}{sep}before={n}"));
    let csv = format!("/admin/history.csv?{q}{sep}lang={}", ctx.lang.as_str());
    let types = EventType::ALL
        .iter()
        .map(|t| (t.as_str(), t.label(ctx.lang)))
        .collect();
    let page = HistoryPage {
        base: base(&state, &ctx, "title.history"),
        c: Ct(ctx.lang),
        f,
        types,
        rows,
        next,
        csv,
        zone: state.settings.zone.abbreviation(state.clock.now()),
    };
    ctx.render(StatusCode::OK, &page)
}

/// The export: the API's CSV for the operator signed in on the console.
async fn csv(State(state): State<AppState>, ctx: Ctx) -> Response {
    let (ctx, _) = match signed_in(&state, ctx).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let f = filters(&ctx.query);
    let mut p = params(&state.settings.zone, &f, None);
    p.limit = None;
    let export = match CsvExport::new(&state, &p, ctx.lang) {
        Ok(e) => csv_download(e).await,
        Err(e) => Err(e),
    };
    match export {
        Ok(csv) => ctx.finish(csv),
        Err(e) => {
            let e: Error = e.error;
            error_page(&state, ctx, &e)
        }
    }
}
