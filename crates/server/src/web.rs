//! HTTP helpers every door shares (JSON API, hosted pages, console): query encoding and the
//! `return_to` allow-list check, CSV downloads, and the familiar browser's cookie.

use sekisho_app::devices::IssuedDevice;
use sekisho_core::Timestamp;

/// A link on the public URL (`{public_url}{path}`): the doors make every URL they hand out
/// here; the application returns tokens.
pub fn public_link(public_url: &str, path: &str) -> String {
    format!("{}{path}", public_url.trim_end_matches('/'))
}

/// The hosted setup wizard's link for a setup-link token.
pub fn setup_link_url(public_url: &str, token: &str) -> String {
    public_link(public_url, &format!("/setup/{token}"))
}

/// The console's setup page for an operator's setup token.
pub fn operator_setup_url(public_url: &str, token: &str) -> String {
    public_link(public_url, &format!("/admin/setup/{token}"))
}

/// The cookie that carries the device token in browsers.
pub const DEVICE_COOKIE: &str = "__Host-sekisho_device";

/// The `Set-Cookie` value for a remembered browser: it lasts as long as the device's record.
pub fn device_cookie(d: &IssuedDevice, now: Timestamp) -> String {
    format!(
        "{DEVICE_COOKIE}={}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Lax",
        d.token,
        (d.device.expires_at.0 - now.0).max(0)
    )
}

/// The device token from a `Cookie` header, if any.
pub fn device_from_cookie_header(header: Option<&str>) -> Option<String> {
    header?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == DEVICE_COOKIE)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Percent-encodes a query value.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether `return_to` may be used: it must start with an allow-listed origin plus path prefix,
/// and the match must end at a path boundary (`https://a.example/app` allows
/// `https://a.example/app/x` and `https://a.example/app?x`, not `https://a.example/apple`).
///
/// The prefix is compared with the path as a browser will resolve it: encoded unreserved
/// characters decoded (`%2e` is a dot) and dot segments removed (RFC 3986 §5.2.4), so
/// `https://a.example/app/../evil` is `https://a.example/evil`. A path with an encoded slash
/// or backslash (`..%2fevil`), or a broken escape, is refused: servers disagree about it.
pub fn return_to_allowed(return_to: &str, allowlist: &[String]) -> bool {
    if return_to.len() > 2048
        || return_to
            .chars()
            .any(|c| c.is_control() || c == '\\' || c.is_whitespace())
    {
        return false;
    }
    let Some(return_to) = normalize_path(return_to) else {
        return false;
    };
    allowlist.iter().any(|entry| {
        !entry.is_empty()
            && return_to.starts_with(entry.as_str())
            && (entry.ends_with('/')
                || return_to.len() == entry.len()
                || matches!(
                    return_to.as_bytes().get(entry.len()),
                    Some(b'/' | b'?' | b'#')
                ))
    })
}

/// `url` with its path (between the authority and `?` or `#`) in normal form; other text
/// (a relative reference, `javascript:`) unchanged. `None` for a path no normal form is safe for.
fn normalize_path(url: &str) -> Option<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Some(url.to_owned());
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    let (path, suffix) = tail.split_at(tail.find(['?', '#']).unwrap_or(tail.len()));
    let path = remove_dot_segments(&decode_unreserved(path)?);
    Some(format!("{scheme}://{authority}{path}{suffix}"))
}

/// Decodes percent-encoded unreserved characters (letters, digits, `-._~`), keeps other escapes
/// (upper-cased); `None` for an encoded `/` or `\` or a `%` not followed by two hex digits.
fn decode_unreserved(path: &str) -> Option<String> {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 1..i + 3)?;
        let b = u8::from_str_radix(hex, 16).ok()?;
        match b {
            b'/' | b'\\' => return None,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Some(out)
}

/// RFC 3986 §5.2.4 for an absolute path (or an empty one): `.` segments go, `..` removes the
/// segment before it (never above the root); a path ending in a dot segment ends in `/`.
fn remove_dot_segments(path: &str) -> String {
    let Some(rest) = path.strip_prefix('/') else {
        return path.to_owned();
    };
    let mut out: Vec<&str> = Vec::new();
    let mut dir = false;
    for seg in rest.split('/') {
        dir = matches!(seg, "." | "..");
        match seg {
            "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut joined = format!("/{}", out.join("/"));
    if dir && !joined.ends_with('/') {
        joined.push('/');
    }
    joined
}

/// The audit CSV export as a streamed download (`sekisho-audit.csv`), a page of rows at a time.
/// The first piece (header and first page) is read before answering, so a filter the app
/// refuses or a database that fails at once gets an error answer; a failure later cuts the body
/// short, so the client sees a broken download rather than a file that looks complete.
pub async fn csv_download(
    mut export: sekisho_app::audit_history::CsvExport,
) -> Result<axum::response::Response, sekisho_app::AppError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let first = export.next_chunk().await?;
    let pieces = futures_util::stream::unfold(
        (first, export, false),
        |(pending, mut export, started)| async move {
            let next = match (pending, started) {
                (Some(piece), false) => Ok(Some(piece)),
                (_, false) => Ok(None),
                (_, true) => export.next_chunk().await,
            };
            match next {
                Ok(Some(piece)) => Some((Ok(piece), (None, export, true))),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!(error = %e.error, "audit CSV export cut short");
                    Some((
                        Err(std::io::Error::other("audit export failed")),
                        (None, export, true),
                    ))
                }
            }
        },
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sekisho-audit.csv\"",
            ),
        ],
        axum::body::Body::from_stream(pieces),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_made_on_the_public_url_with_or_without_its_slash() {
        for base in [
            "https://login.example.co.jp",
            "https://login.example.co.jp/",
        ] {
            assert_eq!(
                setup_link_url(base, "skst_a"),
                "https://login.example.co.jp/setup/skst_a"
            );
            assert_eq!(
                operator_setup_url(base, "skst_b"),
                "https://login.example.co.jp/admin/setup/skst_b"
            );
        }
    }

    fn list() -> Vec<String> {
        vec![
            "https://trade.example.co.jp/app/".to_owned(),
            "https://web.example.co.jp/web".to_owned(),
        ]
    }

    /// Issue 16 item 6: dot segments, raw or encoded, do not leave the allowed prefix.
    #[test]
    fn dot_segments_do_not_escape_the_prefix() {
        let l = list();
        for trick in [
            "https://trade.example.co.jp/app/../evil",
            "https://trade.example.co.jp/app/..",
            "https://trade.example.co.jp/app/%2e%2e/evil",
            "https://trade.example.co.jp/app/%2E%2E/evil",
            "https://trade.example.co.jp/app/.%2e/evil",
            "https://trade.example.co.jp/app/%2e./evil?x=1",
            "https://trade.example.co.jp/app/./../../evil",
            "https://trade.example.co.jp/app/a/../../evil#f",
            "https://trade.example.co.jp/app/..%2fevil",
            "https://trade.example.co.jp/app/..%2Fevil",
            "https://trade.example.co.jp/app/%2e%2e%2fevil",
            "https://trade.example.co.jp/app/..%5cevil",
            "https://trade.example.co.jp/app/..\\evil",
            "https://trade.example.co.jp/app/%zz",
            "https://trade.example.co.jp/app/%2",
            "https://web.example.co.jp/web/../webevil",
            "https://web.example.co.jp/web/%2e%2e",
        ] {
            assert!(!return_to_allowed(trick, &l), "{trick}");
        }
    }

    #[test]
    fn paths_that_stay_inside_are_allowed() {
        let l = list();
        for fine in [
            "https://trade.example.co.jp/app/",
            "https://trade.example.co.jp/app/home?next=../x",
            "https://trade.example.co.jp/app/a/../b",
            "https://trade.example.co.jp/app/./b#../../x",
            "https://trade.example.co.jp/app/%E6%A0%AA",
            "https://trade.example.co.jp/app/%7Euser",
            "https://web.example.co.jp/web",
            "https://web.example.co.jp/web/a/..",
        ] {
            assert!(return_to_allowed(fine, &l), "{fine}");
        }
    }

    #[test]
    fn dot_segments_are_removed_as_rfc_3986_says() {
        // RFC 3986 §5.2.4's examples, and the root as the floor.
        assert_eq!(remove_dot_segments("/a/b/c/./../../g"), "/a/g");
        assert_eq!(remove_dot_segments("/a/b/.."), "/a/");
        assert_eq!(remove_dot_segments("/a/./b/"), "/a/b/");
        assert_eq!(remove_dot_segments("/../../x"), "/x");
        assert_eq!(remove_dot_segments("/.."), "/");
        assert_eq!(remove_dot_segments(""), "");
        assert_eq!(
            decode_unreserved("/%41%2d%2E%25%e6").as_deref(),
            Some("/A-.%25%E6")
        );
    }
}
