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
pub fn return_to_allowed(return_to: &str, allowlist: &[String]) -> bool {
    if return_to.len() > 2048
        || return_to
            .chars()
            .any(|c| c.is_control() || c == '\\' || c.is_whitespace())
    {
        return false;
    }
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

/// A CSV text as a download (`sekisho-audit.csv`).
pub fn csv_download(csv: String) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sekisho-audit.csv\"",
            ),
        ],
        csv,
    )
        .into_response()
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
}
