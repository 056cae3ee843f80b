//! The activity history (CQG's Change Activity History): the audit trail filtered and paged
//! as the admin API and the console show it, each record labelled in the reader's language,
//! and its CSV export.

use crate::error::AppError;
use crate::state::App;
use sekisho_core::audit::{
    types_of_group, Actor, AuditEvent, AuditFilter, EventType, EVENT_GROUPS,
};
use sekisho_core::{Error, Lang, Timestamp};
use serde::{Deserialize, Serialize};

/// `audit.*`: retention of the audit trail in the database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSettings {
    /// `audit.retain_days`: records older than this many days are what `sekisho audit archive`
    /// moves to an archive file when no `--before` is given; 0 (the default) keeps every record
    /// in the database and archives only on an explicit `--before`. Nothing is ever removed
    /// without being written to an archive first.
    pub retain_days: u32,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    pub login_id: Option<String>,
    pub event_type: Option<String>,
    pub event_group: Option<String>,
    pub actor_kind: Option<String>,
    pub actor_id: Option<String>,
    pub operator: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<u32>,
    pub lang: Option<String>,
    pub format: Option<String>,
}

fn time_param(name: &str, v: Option<String>) -> Result<Option<Timestamp>, AppError> {
    v.map(|s| {
        Timestamp::parse_rfc3339(&s).ok_or_else(|| {
            AppError::from(Error::InvalidRequest(format!(
                "{name} must be an RFC 3339 time such as 2026-05-22T12:02:20Z"
            )))
        })
    })
    .transpose()
}

/// The filter from the query (the row limit is set by the caller).
fn audit_filter(p: &AuditParams) -> Result<AuditFilter, AppError> {
    let event_type = p
        .event_type
        .as_deref()
        .map(|t| {
            EventType::parse(t).ok_or_else(|| {
                let all: Vec<_> = EventType::ALL.iter().map(|e| e.as_str()).collect();
                AppError::from(Error::InvalidRequest(format!(
                    "event_type must be one of {}",
                    all.join(", ")
                )))
            })
        })
        .transpose()?;
    let event_types = p
        .event_group
        .as_deref()
        .map(|g| {
            types_of_group(g).ok_or_else(|| {
                AppError::from(Error::InvalidRequest(format!(
                    "event_group must be one of {}",
                    EVENT_GROUPS.join(", ")
                )))
            })
        })
        .transpose()?;
    if let Some(k) = &p.actor_kind {
        if !["self", "operator", "api_token", "system"].contains(&k.as_str()) {
            return Err(Error::InvalidRequest(
                "actor_kind must be one of self, operator, api_token, system".into(),
            )
            .into());
        }
    }
    let (actor_kind, actor_id) = match &p.operator {
        Some(name) => {
            if p.actor_kind.as_deref().is_some_and(|k| k != "operator") || p.actor_id.is_some() {
                return Err(Error::InvalidRequest(
                    "operator cannot be combined with actor_kind or actor_id".into(),
                )
                .into());
            }
            (Some("operator".to_owned()), Some(name.clone()))
        }
        None => (p.actor_kind.clone(), p.actor_id.clone()),
    };
    Ok(AuditFilter {
        login_id: p.login_id.as_ref().map(|l| l.to_ascii_lowercase()),
        event_type,
        event_types,
        actor_kind,
        actor_id,
        since: time_param("since", p.since.clone())?,
        until: time_param("until", p.until.clone())?,
        before_id: p.before,
        limit: 100,
    })
}

/// One record as the activity history shows it.
pub struct HistoryRow<'a> {
    pub event: &'a AuditEvent,
    pub group: &'a str,
    /// The group in words ("二段階認証"), the key itself if it is not one of [`EVENT_GROUPS`].
    pub group_label: &'a str,
    pub description: String,
    pub actor: String,
}

pub fn history_row(e: &AuditEvent, lang: Lang) -> HistoryRow<'_> {
    let ty = EventType::parse(&e.event_type);
    // The group follows the type, so records written under older group names read the same.
    let group = ty.map(EventType::group).unwrap_or(e.event_group.as_str());
    let label = ty.map(|t| t.label(lang)).unwrap_or(e.event_type.as_str());
    let detail = e.description.trim();
    let description = if detail.is_empty() || detail == e.event_type {
        label.to_owned()
    } else {
        match lang {
            Lang::Ja => {
                let detail = crate::audit_words::ja(detail).unwrap_or_else(|| detail.to_owned());
                format!("{label}({detail})")
            }
            Lang::En => format!("{label} ({detail})"),
        }
    };
    let actor = match (&e.actor, lang) {
        (Actor::SelfService, Lang::Ja) => "本人".to_owned(),
        (Actor::SelfService, Lang::En) => "customer".to_owned(),
        (Actor::Operator(n), Lang::Ja) => format!("オペレーター {n}"),
        (Actor::Operator(n), Lang::En) => format!("operator {n}"),
        (Actor::ApiToken(n), Lang::Ja) => format!("APIトークン {n}"),
        (Actor::ApiToken(n), Lang::En) => format!("API token {n}"),
        (Actor::System, Lang::Ja) => "システム".to_owned(),
        (Actor::System, Lang::En) => "system".to_owned(),
    };
    HistoryRow {
        event: e,
        group,
        group_label: group_label(group, lang).unwrap_or(group),
        description,
        actor,
    }
}

/// An event group (one of [`EVENT_GROUPS`]) in words.
pub fn group_label(group: &str, lang: Lang) -> Option<&'static str> {
    let (ja, en) = match group {
        "login" => ("ログイン", "Login"),
        "second_factor" => ("二段階認証", "Second factor"),
        "password" => ("パスワード", "Password"),
        "credentials" => ("認証情報・設定用リンク", "Credentials and setup links"),
        "account" => ("ログイン情報", "Login details"),
        "token" => ("トークン", "Tokens"),
        "operator" => ("オペレーター", "Operators"),
        "api_token" => ("APIトークン・アプリ連携", "API tokens and apps"),
        "mail" => ("メール", "Mail"),
        _ => return None,
    };
    Some(match lang {
        Lang::Ja => ja,
        Lang::En => en,
    })
}

/// One page of the history (newest first) and the `before` of the next page.
pub async fn history_page(
    state: &App,
    p: &AuditParams,
) -> Result<(Vec<AuditEvent>, Option<i64>), AppError> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let mut filter = audit_filter(p)?;
    filter.limit = limit;
    let events = state.store.query_audit(&filter).await?;
    let next = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.event_id))
        .flatten();
    Ok((events, next))
}

/// Rows read per query while exporting: the export holds one page at a time, however many rows
/// it carries.
const CSV_PAGE_ROWS: u32 = 1000;

/// One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break; a cell a
/// spreadsheet would read as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return)
/// gets a leading apostrophe first.
pub fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

fn csv_line(out: &mut String, cells: &[&str]) {
    let line: Vec<String> = cells.iter().map(|c| csv_cell(c)).collect();
    out.push_str(&line.join(","));
    out.push_str("\r\n");
}

/// The activity history as CSV (UTF-8 with a byte order mark, so spreadsheet programs read the
/// Japanese text), newest first, the same filters as the JSON list, every matching record or up
/// to `limit`. Produced in pieces (the header with the first page of rows, then a page at a
/// time, read by keyset on the event ID), so the doors stream it as a download without holding
/// the result in memory.
pub struct CsvExport {
    state: App,
    filter: AuditFilter,
    lang: Lang,
    /// Rows still to write.
    left: u64,
    started: bool,
    done: bool,
}

impl CsvExport {
    /// An export of the records `p` selects (refused here, before anything is sent, if a filter
    /// is invalid).
    pub fn new(state: &App, p: &AuditParams, lang: Lang) -> Result<CsvExport, AppError> {
        Ok(CsvExport {
            state: state.clone(),
            filter: audit_filter(p)?,
            lang,
            left: p.limit.map_or(u64::MAX, |l| u64::from(l.max(1))),
            started: false,
            done: false,
        })
    }

    /// The next piece: the header and the first page of rows, then one page of rows at a time;
    /// `None` once every row is written (or after an error).
    pub async fn next_chunk(&mut self) -> Result<Option<String>, AppError> {
        if self.done {
            return Ok(None);
        }
        let mut out = String::new();
        if !self.started {
            self.started = true;
            out.push('\u{feff}');
            csv_header(&mut out, &self.state, self.lang);
        }
        if self.left == 0 {
            self.done = true;
            return Ok(Some(out).filter(|o| !o.is_empty()));
        }
        self.filter.limit =
            u32::try_from(self.left.min(u64::from(CSV_PAGE_ROWS))).unwrap_or(CSV_PAGE_ROWS);
        let events = match self.state.store.query_audit(&self.filter).await {
            Ok(e) => e,
            Err(e) => {
                self.done = true;
                return Err(e.into());
            }
        };
        for e in &events {
            csv_record(&mut out, &self.state, e, self.lang);
        }
        self.left -= events.len() as u64;
        match events.last() {
            Some(last) if events.len() as u32 == self.filter.limit => {
                self.filter.before_id = Some(last.event_id)
            }
            _ => self.done = true,
        }
        Ok(Some(out).filter(|o| !o.is_empty()))
    }
}

fn csv_header(out: &mut String, state: &App, lang: Lang) {
    let head: &[&str] = match lang {
        Lang::Ja => &[
            "イベントID",
            "日時",
            "ログインID",
            "名前",
            "イベントグループ",
            "イベント種別",
            "内容",
            "実行者",
            "IPアドレス",
        ],
        Lang::En => &[
            "event_id",
            "time",
            "login_id",
            "login_name",
            "event_group",
            "event_type",
            "description",
            "actor",
            "ip",
        ],
    };
    // Times as people read them, in the firm's zone, named in the header.
    let abbr = state.settings.zone.abbreviation(state.clock.now());
    let mut head: Vec<String> = head.iter().map(|h| (*h).to_owned()).collect();
    head[1] = match lang {
        Lang::Ja => format!("日時({abbr})"),
        Lang::En => format!("time ({abbr})"),
    };
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    csv_line(out, &head);
}

fn csv_record(out: &mut String, state: &App, e: &AuditEvent, lang: Lang) {
    let r = history_row(e, lang);
    let id = e.event_id.to_string();
    let time = state.settings.zone.plain(e.time);
    csv_line(
        out,
        &[
            &id,
            &time,
            e.login_id.as_deref().unwrap_or(""),
            e.login_name.as_deref().unwrap_or(""),
            // The English export's columns are the API's names; the Japanese one is read by
            // people, so the group is in words.
            match lang {
                Lang::Ja => r.group_label,
                Lang::En => r.group,
            },
            &e.event_type,
            &r.description,
            &r.actor,
            e.client_ip.as_deref().unwrap_or(""),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::csv_cell;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("+81"), "'+81");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(
            csv_cell("=HYPERLINK(\"x\",\"y\")"),
            "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\""
        );
        assert_eq!(csv_cell("ログイン失敗"), "ログイン失敗");
    }
}
