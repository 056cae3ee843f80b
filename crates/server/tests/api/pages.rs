//! The hosted pages over plain HTTP (the browser journeys are in `browser.rs`): headers,
//! cookies, form tokens, `return_to`, rate limits, and a password login through the form.

use crate::common::{ok, spawn_app, spawn_with, Options, TestApp};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
                   script-src 'self'; connect-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A browser without redirects or a cookie jar: the test carries the cookies.
pub struct Browser {
    http: Client,
    cookies: Vec<(String, String)>,
}

impl Browser {
    pub fn new() -> Browser {
        Browser {
            http: ok(Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let v = v.to_str().unwrap_or_default();
            let pair = v.split(';').next().unwrap_or_default();
            if let Some((k, val)) = pair.split_once('=') {
                self.cookies.retain(|(n, _)| n != k);
                if !val.is_empty() {
                    self.cookies.push((k.to_owned(), val.to_owned()));
                }
            }
        }
    }

    /// The value of a cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// Puts a cookie back (as a replaying client would).
    pub fn set_cookie(&mut self, name: &str, value: &str) {
        self.cookies.retain(|(k, _)| k != name);
        self.cookies.push((name.to_owned(), value.to_owned()));
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The password step on the login page; answers the form token and where the login goes
    /// next (the redirect every accepted password gets).
    pub async fn log_in(
        &mut self,
        app: &TestApp,
        login_id: &str,
        password: &str,
    ) -> (String, String) {
        let (_, _, html) = self.get(app, "/login").await;
        let token = csrf(&html);
        let form = [
            ("csrf", token.as_str()),
            ("login_id", login_id),
            ("password", password),
        ];
        let (status, h, _) = self.post(app, "/login", &form).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let to = header(&h, LOCATION.as_str()).to_owned();
        (token, to)
    }

    pub async fn get(&mut self, app: &TestApp, path: &str) -> (StatusCode, HeaderMap, String) {
        let r = ok(self
            .http
            .get(format!("{}{path}", app.url))
            .header("cookie", self.cookie_header())
            .send()
            .await);
        self.read(r).await
    }

    pub async fn post(
        &mut self,
        app: &TestApp,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let r = ok(self
            .http
            .post(format!("{}{path}", app.url))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await);
        self.read(r).await
    }

    /// A JSON `POST` with the browser's cookies (what the pages' script sends with `fetch`).
    pub async fn post_json(
        &mut self,
        app: &TestApp,
        path: &str,
        body: &serde_json::Value,
    ) -> (StatusCode, HeaderMap, String) {
        let r = ok(self
            .http
            .post(format!("{}{path}", app.url))
            .header("cookie", self.cookie_header())
            .json(body)
            .send()
            .await);
        self.read(r).await
    }

    async fn read(&mut self, r: Response) -> (StatusCode, HeaderMap, String) {
        let status = r.status();
        let headers = r.headers().clone();
        self.keep(&headers);
        (status, headers, ok(r.text().await))
    }
}

pub fn csrf(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn pages_have_strict_headers_and_host_cookies_and_speak_both_languages() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let (status, h, html) = b.get(&app, "/login").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&h, "content-security-policy"), CSP);
    assert_eq!(header(&h, "x-frame-options"), "DENY");
    assert_eq!(header(&h, "referrer-policy"), "no-referrer");
    assert_eq!(header(&h, "cache-control"), "no-store");
    assert_eq!(header(&h, "content-language"), "ja");
    assert!(header(&h, "content-type").starts_with("text/html"));
    let set = header(&h, "set-cookie");
    assert!(set.starts_with("__Host-sekisho_form="), "{set}");
    for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(set.contains(attr), "{set}");
    }
    assert!(html.contains("<html lang=\"ja\">") && html.contains("ログインID"));
    assert!(
        html.contains("関所証券"),
        "the firm's name (mail.firm_name) is shown"
    );
    assert!(
        html.contains("href=\"/login?lang=en\""),
        "the English switch"
    );
    let (_, h, html) = b.get(&app, "/login?lang=en").await;
    assert_eq!(header(&h, "content-language"), "en");
    assert!(html.contains("<html lang=\"en\">") && html.contains("Login ID"));
    // The choice sticks (cookie).
    let (_, _, html) = b.get(&app, "/login").await;
    assert!(html.contains("Login ID"));
    // The stylesheet and script come from the server itself.
    let (status, h, css) = b.get(&app, "/assets/pages.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&h, "content-type").starts_with("text/css") && css.contains("--brand"));
    let (_, _, brand) = b.get(&app, "/assets/brand.css").await;
    assert!(brand.contains("--brand: #1f4e79"));
}

/// Issue 17 item 14: the bare address sends a person to the login page (it answered the JSON
/// API's `not_found`), keeping the language choice.
#[tokio::test]
async fn the_bare_address_leads_to_the_login_page() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let (status, headers, _) = b.get(&app, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/login");
    let (status, headers, _) = b.get(&app, "/?lang=en").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/login?lang=en");
    let (status, _, html) = b.get(&app, "/login?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Log in"), "{html}");
}

/// Issue 17 item 6: without a choice the pages speak the browser's language; a choice
/// (`?lang=`, then its cookie) wins over it.
#[tokio::test]
async fn pages_speak_the_browsers_language_unless_the_customer_chose() {
    let app = spawn_app().await;
    let get = |lang: &'static str, cookie: Option<&'static str>| {
        let mut r = app
            .http
            .get(format!("{}/login", app.url))
            .header("accept-language", lang);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        async move {
            let r = ok(r.send().await);
            let l = r.headers()["content-language"]
                .to_str()
                .unwrap_or("")
                .to_owned();
            (l, ok(r.text().await))
        }
    };
    let (lang, html) = get("en-US,en;q=0.9", None).await;
    assert_eq!(lang, "en");
    assert!(html.contains("Log in"), "{html}");
    let (lang, _) = get("fr, ja;q=0.5", None).await;
    assert_eq!(lang, "ja");
    let (lang, _) = get("en-US", Some("__Host-sekisho_lang=ja")).await;
    assert_eq!(lang, "ja", "the customer's choice wins");
}

/// Issue 17 items 1 and 2: every page carries the show-password helper; the software keyboard
/// (its dialog, with the symbols the password policy allows) only when the firm offers it; the
/// script that runs them is a file of its own (the CSP allows no inline script).
#[tokio::test]
async fn the_software_keyboard_is_offered_per_firm_with_the_policys_symbols() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let (_, headers, html) = b.get(&app, "/login").await;
    assert_eq!(headers["content-security-policy"], CSP);
    assert!(html.contains(r#"<script src="/assets/password.js" defer></script>"#));
    assert!(
        html.contains(r#"data-show="パスワードを表示する""#),
        "{html}"
    );
    assert!(html.contains(r#"data-keyboard="ソフトウェアキーボードを開く""#));
    assert!(html.contains(r#"<dialog id="kb""#));
    // Every half-width symbol of the jp-broker policy, as askama escapes them.
    let symbols = "!&#34;#$%&#38;&#39;()*+,-./:;&#60;=&#62;?@[\\]^_`{|}~";
    assert!(
        html.contains(&format!(r#"data-symbols="{symbols}""#)),
        "the jp-broker symbols: {html}"
    );
    assert!(
        html.contains("安全を保証するものではありません"),
        "the caveat"
    );
    let (status, headers, js) = b.get(&app, "/assets/password.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"]
        .to_str()
        .is_ok_and(|t| t.starts_with("text/javascript")));
    assert!(js.contains("crypto.getRandomValues"));
    let (_, _, html) = b.get(&app, "/login?lang=en").await;
    assert!(html.contains(r#"data-show="Show password""#));
    assert!(html.contains(r#"data-keyboard="Open the software keyboard""#));
    assert!(html.contains("does not guarantee"));

    let off = spawn_with(Options {
        settings: vec![("pages.software_keyboard", false.into())],
        ..Options::default()
    })
    .await;
    let (_, _, html) = Browser::new().get(&off, "/login").await;
    assert!(html.contains(r#"data-show="パスワードを表示する""#));
    assert!(!html.contains("data-keyboard") && !html.contains(r#"<dialog id="kb""#));
}

#[tokio::test]
async fn forms_without_their_token_are_refused() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let (status, _, html) = b
        .post(
            &app,
            "/login",
            &[("csrf", "x"), ("login_id", "a"), ("password", "b")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("SKS-WEB-0001"), "{html}");
    // With the cookie but a token from elsewhere.
    b.get(&app, "/login").await;
    let (status, _, _) = b
        .post(
            &app,
            "/login",
            &[("csrf", "forged"), ("login_id", "a"), ("password", "b")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn return_to_must_be_on_the_allow_list() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let (status, _, html) = b
        .get(&app, "/login?return_to=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("SKS-WEB-0003"));
    // Smuggled into the form instead.
    let (_, _, html) = b.get(&app, "/login").await;
    let token = csrf(&html);
    let (status, _, _) = b
        .post(
            &app,
            "/login",
            &[
                ("csrf", &token),
                ("login_id", "a"),
                ("password", "b"),
                ("return_to", "https://trade.example.co.jp.evil.jp/"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_password_login_through_the_form_returns_to_the_app_with_a_session_cookie() {
    let app = spawn_app().await;
    app.create_login("yamada", "kabu2026xyz").await;
    let mut b = Browser::new();
    let back = "https://trade.example.co.jp/home?tab=1";
    let (_, _, html) = b
        .get(
            &app,
            "/login?return_to=https%3A%2F%2Ftrade.example.co.jp%2Fhome%3Ftab%3D1",
        )
        .await;
    assert!(html.contains(&format!("value=\"{}\"", back.replace('&', "&amp;"))));
    let token = csrf(&html);
    // A wrong password: the page again, with the domain error's message and code.
    let (status, _, html) = b
        .post(
            &app,
            "/login",
            &[
                ("csrf", &token),
                ("login_id", "yamada"),
                ("password", "wrong1234"),
                ("return_to", back),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        html.contains("SKS-LGN-0001") || html.contains("SKS-"),
        "{html}"
    );
    assert!(html.contains("role=\"alert\""));
    let (status, h, _) = b
        .post(
            &app,
            "/login",
            &[
                ("csrf", &token),
                ("login_id", "yamada"),
                ("password", "kabu2026xyz"),
                ("return_to", back),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let via = header(&h, LOCATION.as_str()).to_owned();
    assert_eq!(
        via,
        "/login/return?to=https%3A%2F%2Ftrade.example.co.jp%2Fhome%3Ftab%3D1"
    );
    let set = header(&h, "set-cookie");
    assert!(set.contains("__Host-sekisho_session=skss"), "{set}");
    // The same-origin hop (form-action 'self' covers redirects) checks the allow-list again.
    let (status, _, html) = b.get(&app, &via).await;
    assert_eq!(status, StatusCode::OK);
    let escaped = back.replace('&', "&amp;");
    assert!(
        html.contains(&format!("content=\"0;url={escaped}\"")),
        "{html}"
    );
    assert!(html.contains(&format!("href=\"{escaped}\"")));
    let (status, _, _) = b
        .get(&app, "/login/return?to=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, html) = b.get(&app, "/account/security").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("yamada") && html.contains("未登録"));
    // Times in Japan time, named, as the mails and the console show them (issue 17 item 7).
    assert!(html.contains(" JST") && !html.contains(" UTC"), "{html}");
    // Logout ends the session.
    let token = csrf(&html);
    let (status, h, _) = b.post(&app, "/logout", &[("csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(header(&h, LOCATION.as_str()), "/login?done=logout");
    let (status, h, _) = b.get(&app, "/account/security").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(header(&h, LOCATION.as_str()), "/login");
    assert_eq!(app.count_events("yamada", "session_revoked").await, 1);
}

#[tokio::test]
async fn forms_are_rate_limited_per_login() {
    let app = crate::common::spawn_with(crate::throttle::tight(&[
        ("throttle.per_login_per_minute", 20),
        ("throttle.per_login_burst", 20),
    ]))
    .await;
    let mut b = Browser::new();
    let (_, _, html) = b.get(&app, "/login").await;
    let token = csrf(&html);
    let mut last = StatusCode::OK;
    let mut body = String::new();
    for _ in 0..21 {
        let (status, _, html) = b
            .post(
                &app,
                "/login",
                &[("csrf", &token), ("login_id", "nobody"), ("password", "x")],
            )
            .await;
        last = status;
        body = html;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    assert!(body.contains("SKS-WEB-0002"));
    // Three seconds later (one interval at 20 a minute) one more goes through.
    app.clock.advance(3);
    let (status, _, _) = b
        .post(
            &app,
            "/login",
            &[("csrf", &token), ("login_id", "nobody"), ("password", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn settings_changes_need_a_fresh_proof_and_touch_only_the_customers_own_sessions() {
    let app = spawn_app().await;
    app.create_login("yamada", "kabu2026xyz").await;
    // Another session of the same customer (an app).
    let other = app.session("yamada", "kabu2026xyz").await;
    let mut b = Browser::new();
    let (_, _, html) = b.get(&app, "/login").await;
    let token = csrf(&html);
    let (status, _, _) = b
        .post(
            &app,
            "/login",
            &[
                ("csrf", &token),
                ("login_id", "yamada"),
                ("password", "kabu2026xyz"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, html) = b.get(&app, "/account/security").await;
    assert!(html.contains("action=\"/account/reauth\""));
    // Without the proof: asked to confirm first; nothing changes.
    let (status, _, html) = b
        .post(
            &app,
            "/account/notifications",
            &[("csrf", &token), ("on", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("ご本人確認のため"), "{html}");
    // A wrong password counts as a failure (the lock of the foundation).
    let (status, _, html) = b
        .post(
            &app,
            "/account/reauth",
            &[("csrf", &token), ("password", "wrong9999")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("SKS-"));
    assert_eq!(app.count_events("yamada", "step_up_failed").await, 1);
    let (status, _, _) = b
        .post(
            &app,
            "/account/reauth",
            &[("csrf", &token), ("password", "kabu2026xyz")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // 入力 → 確認 → 完了: the first answer is the confirmation, and nothing changed yet.
    let (status, _, html) = b
        .post(
            &app,
            "/account/notifications",
            &[("csrf", &token), ("on", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"confirm-submit\"") && html.contains("name=\"confirmed\""));
    assert!(!notify_on(&mut b, &app).await);
    let (status, _, _) = b
        .post(
            &app,
            "/account/notifications",
            &[("csrf", &token), ("on", "1"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(notify_on(&mut b, &app).await);
    let (_, _, html) = b.get(&app, "/account/security?done=notify").await;
    assert!(html.contains("id=\"notify-state\">受け取る"), "{html}");
    // The other session is listed and can be ended; a stranger's id cannot.
    let r = app.get("/api/v1/me", Some(&other)).await;
    let me: serde_json::Value = ok(r.json().await);
    let other_id = html
        .split("name=\"id\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();
    assert!(!other_id.is_empty(), "{me}");
    let (status, _, _) = b
        .post(
            &app,
            "/account/sessions/revoke",
            &[("csrf", &token), ("id", "999999")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = b
        .post(
            &app,
            "/account/sessions/revoke",
            &[("csrf", &token), ("id", &other_id)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let r = app.get("/api/v1/me", Some(&other)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The proof lasts five minutes.
    app.clock.advance(301);
    let (status, _, html) = b
        .post(
            &app,
            "/account/notifications",
            &[("csrf", &token), ("on", "0"), ("confirmed", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Refused on the action's own page, which now asks for the password.
    assert!(
        html.contains("id=\"proof\"") && html.contains("ご本人確認のため"),
        "{html}"
    );
    assert!(notify_on(&mut b, &app).await);
}

async fn notify_on(b: &mut Browser, app: &crate::common::TestApp) -> bool {
    let (_, _, html) = b.get(app, "/account/security").await;
    html.contains("id=\"notify-state\">受け取る")
}
