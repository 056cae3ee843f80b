// OpenID Connect in a real browser with a real relying party: the example trading app
// (examples/relying-app, openid-client v6) sends the customer to Sekisho's hosted pages, the
// customer logs in with password and an app code from oathtool, and the app receives the result
// (ID token, DPoP-bound access token) through the standard flow. A second app (a basic client)
// then signs in with the same Sekisho session (single sign-on). Started by
// crates/server/tests/api/oidc_rp_browser.rs; see lib.mjs for what the harness passes.
import { chromium } from "playwright-core";
import { now, advance, totp, shot, expect, text, submit } from "./lib.mjs";

const KEY = process.env.SEKISHO_TOTP_KEY;
const LOGIN = process.env.SEKISHO_LOGIN;
const PASSWORD = process.env.SEKISHO_PASSWORD;
const TRADE = process.env.RP_TRADE_URL;
const CRM = process.env.RP_CRM_URL;
const MFA = "http://schemas.openid.net/pape/policies/2007/06/multi-factor";
const PHR = "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant";

async function json(page, method, url) {
  const r = method === "GET" ? await page.request.get(url) : await page.request.post(url);
  const body = await r.json();
  expect(r.ok(), `${method} ${url}: ${r.status()} ${JSON.stringify(body)}`);
  return body;
}

async function signIn(page, width) {
  // The app's login button: PAR at Sekisho, then the browser goes to the authorization endpoint
  // and on to the hosted login page.
  await page.goto(`${TRADE}/`);
  await Promise.all([page.waitForURL(/\/login\?/), page.click("#login")]);
  await shot(page, `oidc-rp-login-${width}`);
  await page.fill("#login_id", LOGIN);
  await page.fill("#password", PASSWORD);
  await submit(page);
  await page.fill("#otp", totp(KEY, await now()));
  await shot(page, `oidc-rp-otp-${width}`);
  await Promise.all([page.waitForURL(`${TRADE}/`), submit(page)]);
  await shot(page, `oidc-rp-back-in-app-${width}`);
  expect((await page.locator("h1").innerText()).includes("様"), "the app greets the customer");
}

const browser = await chromium.launch({
  executablePath: process.env.SEKISHO_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox"],
});
let page;
try {
  // The browser carries only redirects and the customer's form posts; the relying apps check
  // Sekisho's certificate against the test CA themselves (NODE_EXTRA_CA_CERTS).
  const ctx = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: "ja-JP",
    ignoreHTTPSErrors: true,
  });
  page = await ctx.newPage();
  await signIn(page, "desktop");

  // What the app received: an ID token with the level and methods the customer really used.
  const s = await json(page, "GET", `${TRADE}/session.json`);
  expect(s.claims && s.claims.acr === MFA, `acr multi-factor: ${JSON.stringify(s)}`);
  for (const m of ["pwd", "otp", "mfa"]) expect(s.claims.amr.includes(m), `amr has ${m}`);
  expect(s.claims.sid && s.claims.auth_time, "sid and auth_time");
  expect(s.claims.sub !== LOGIN, "sub is not the login ID");

  // UserInfo with the access token.
  const info = await json(page, "POST", `${TRADE}/userinfo`);
  expect(info.sub === s.claims.sub && info.email, `userinfo: ${JSON.stringify(info)}`);
  expect(info.login_id === LOGIN, "the login_id scope releases the login ID");

  // Refresh: a FAPI client keeps its refresh token; the new access token is DPoP-bound too.
  const fresh = await json(page, "POST", `${TRADE}/refresh`);
  expect(/^dpop$/i.test(fresh.token_type) && fresh.rotated === false, `refresh: ${JSON.stringify(fresh)}`);
  const again = await json(page, "POST", `${TRADE}/userinfo`);
  expect(again.sub === s.claims.sub, "UserInfo with the refreshed access token");
  // Introspection (RFC 7662) with the client's own credentials.
  let intro = await json(page, "POST", `${TRADE}/introspect`);
  expect(intro.active === true && intro.sub === s.claims.sub, `introspection: ${JSON.stringify(intro)}`);
  expect(intro.cnf && intro.cnf.jkt, "the token is bound to the app's DPoP key");
  // Revocation (RFC 7009) of the refresh token ends the grant: its access token is no longer
  // active and the refresh token no longer refreshes.
  await json(page, "POST", `${TRADE}/revoke`);
  intro = await json(page, "POST", `${TRADE}/introspect`);
  expect(intro.active === false, `revoked: ${JSON.stringify(intro)}`);
  const refused = await page.request.post(`${TRADE}/refresh`);
  const why = await refused.text();
  expect(!refused.ok() && why.includes("invalid_grant"), `refresh after revocation: ${refused.status()} ${why}`);

  // Single sign-on: the CRM app signs in with the same Sekisho session, no form on the way.
  await page.goto(`${CRM}/`);
  await Promise.all([page.waitForURL(`${CRM}/`), page.click("#login")]);
  const crm = await json(page, "GET", `${CRM}/session.json`);
  expect(crm.claims && crm.claims.sid === s.claims.sid, `same Sekisho session: ${JSON.stringify(crm)}`);
  expect(crm.claims.sub === s.claims.sub, "public sub is the same for both apps");
  expect(crm.claims.auth_time === s.claims.auth_time, "auth_time is the login's, not the SSO's");
  const crmInfo = await json(page, "POST", `${CRM}/userinfo`);
  expect(crmInfo.sub === s.claims.sub, "basic client's UserInfo");
  expect(crmInfo.login_id === undefined, "no login_id without its scope");

  // prompt=login asks again even with a session (a second later: the server's clock is the
  // test's, so the request must be younger than the session).
  await advance(1);
  await page.goto(`${CRM}/login?prompt=login`);
  expect(/\/login\?/.test(page.url()), `prompt=login shows the login page: ${page.url()}`);

  // RP-initiated logout from the trading app: Sekisho ends its session and sends the browser
  // back to the app's registered page with the app's state.
  await Promise.all([page.waitForURL(/\/logged-out\?/), page.goto(`${TRADE}/logout`)]);
  expect(await page.locator("#out").isVisible(), "the app's logged-out page, with its own state");
  // Back-channel logout: the CRM app, signed in with the same Sekisho session, is told (a
  // logout token with the session's sid, verified with Sekisho's keys) and ends its session.
  let events = [];
  for (let i = 0; i < 100 && events.length === 0; i++) {
    events = await json(page, "GET", `${CRM}/backchannel-events.json`);
    if (events.length === 0) await page.waitForTimeout(100);
  }
  expect(events.length === 1 && events[0].sid === s.claims.sid, `one logout token: ${JSON.stringify(events)}`);
  expect(events[0].ended === 1, "the CRM app ended its session");
  const after = await json(page, "GET", `${CRM}/session.json`);
  expect(after.claims === null, `CRM signed out: ${JSON.stringify(after)}`);
  // The Sekisho session is over: the next login from an app shows the login page.
  await page.goto(`${CRM}/`);
  await Promise.all([page.waitForURL(/\/login\?/), page.click("#login")]);

  // The same journey on a phone (the next app code: the clock moves 30 s).
  await advance(29);
  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    locale: "ja-JP",
    ignoreHTTPSErrors: true,
    isMobile: true,
  });
  page = await phone.newPage();
  await signIn(page, "phone");

  // The phishing-resistant level for a withdrawal: the app asks for it, Sekisho asks for a
  // passkey; without one the customer is told how to register one, registers it with the
  // browser's (virtual) authenticator, and the app then gets the level it asked for.
  const pkCtx = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: "ja-JP",
    ignoreHTTPSErrors: true,
  });
  // No passkey autofill: the virtual authenticator would answer a conditional request at once.
  await pkCtx.addInitScript(() => {
    if (window.PublicKeyCredential) {
      Object.defineProperty(PublicKeyCredential, "isConditionalMediationAvailable", {
        value: () => Promise.resolve(false),
        configurable: true,
      });
    }
  });
  page = await pkCtx.newPage();
  const cdp = await pkCtx.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  await page.goto(`${TRADE}/`);
  await Promise.all([page.waitForURL(/\/login\?/), page.click('a[href="/login?acr=phishing"]')]);
  expect((await text(page)).includes("パスキーが必要です"), "the login page says the app needs a passkey");
  await shot(page, "oidc-rp-pk-login-desktop");
  await page.fill("#login_id", LOGIN);
  await page.fill("#password", PASSWORD);
  await submit(page);
  let body = await text(page);
  expect(body.includes("SKS-OIC-0008") && body.includes("パスキーの登録方法"), `how to register:\n${body}`);
  await shot(page, "oidc-rp-pk-required-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "oidc-rp-pk-required-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
  // Back to the app without logging in: the app learns that the customer did not log in.
  await Promise.all([page.waitForURL(`${TRADE}/`), page.click("#back-to-app")]);
  expect((await page.locator("#error").innerText()).includes("access_denied"), "the app was told access_denied");

  // Register a passkey: log in (password and app code), re-authenticate, register.
  await page.goto(`${TRADE}/`);
  await Promise.all([page.waitForURL(/\/login\?/), page.click('a[href="/login?acr=phishing"]')]);
  await page.fill("#login_id", LOGIN);
  await page.fill("#password", PASSWORD);
  await submit(page);
  await Promise.all([page.waitForURL(/\/login/), page.click("#to-passkeys")]);
  await page.fill("#login_id", LOGIN);
  await page.fill("#password", PASSWORD);
  await submit(page);
  await advance(30);
  await page.fill("#otp", totp(KEY, await now()));
  await Promise.all([page.waitForURL(/\/account\/security/), submit(page)]);
  await page.fill("#reauth-secret", PASSWORD);
  await Promise.all([page.waitForURL(/done=reauth/), page.locator('form[action="/account/reauth"] button').click()]);
  await page.click("#passkeys-link");
  await page.fill("#passkey-name", "ノートPC");
  await Promise.all([page.waitForURL(/done=added/), page.click("#passkey-register [data-passkey-start]")]);
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials.length === 1, "one passkey registered");

  // Back in the app: the Sekisho session came from a code, so the passkey is asked for; the
  // login page's passkey button logs in without the password. (A second later: a session from
  // the same second as the request counts as made for it, and the server's clock is the test's.)
  await advance(1);
  await page.goto(`${TRADE}/`);
  await Promise.all([page.waitForURL(/\/login\?/), page.click('a[href="/login?acr=phishing"]')]);
  await page.waitForSelector("#passkey-login:not([hidden])");
  await Promise.all([page.waitForURL(`${TRADE}/`), page.click("#passkey-login [data-passkey-start]")]);
  await shot(page, "oidc-rp-pk-back-in-app-desktop");
  const pk = await json(page, "GET", `${TRADE}/session.json`);
  expect(pk.claims && pk.claims.acr === PHR, `acr phishing-resistant: ${JSON.stringify(pk)}`);
  expect(pk.claims.amr.includes("hwk") && !pk.claims.amr.includes("otp"), `amr of a passkey: ${pk.claims.amr}`);
  expect(pk.claims.sub === s.claims.sub, "the same customer");

  // A withdrawal confirmed inside the flow (Rich Authorization Requests): the app pushes the
  // operation in authorization_details, Sekisho shows it on its confirmation page, the customer
  // confirms it with the passkey, and the app receives it, confirmed, in the token response;
  // the DPoP-bound access token carries it too (introspection says so).
  await Promise.all([page.waitForURL(/\/step-up\/sksu_/), page.click("#withdraw")]);
  const op = await text(page);
  for (const w of ["出金", "1,500,000 JPY", "みずほ銀行 本店 普通 1234567", "パスキーで認証して確定する"]) {
    expect(op.includes(w), `the confirmation page shows ${w}:\n${op}`);
  }
  await shot(page, "oidc-rp-rar-step-up-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await shot(page, "oidc-rp-rar-step-up-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
  await Promise.all([page.waitForURL(`${TRADE}/withdrawal`), page.click("#confirm-passkey")]);
  expect((await page.locator("#op-method").innerText()) === "パスキー", "confirmed with the passkey");
  await shot(page, "oidc-rp-rar-confirmed-desktop");
  const w = await json(page, "GET", `${TRADE}/session.json`);
  const d = (w.operation ?? [])[0];
  expect(
    d && d.type === "sekisho_operation" && d.kind === "withdrawal" && d.amount === "1500000" && d.currency === "JPY",
    `authorization_details in the token response: ${JSON.stringify(w)}`,
  );
  expect(d.method === "passkey", `confirmed with: ${d.method}`);
  const wi = await json(page, "POST", `${TRADE}/introspect`);
  expect(
    wi.active === true && JSON.stringify(wi.authorization_details) === JSON.stringify(w.operation),
    `introspection: ${JSON.stringify(wi)}`,
  );
  console.log("oidc relying-party journey passed");
} catch (e) {
  if (page) {
    await shot(page, "oidc-rp-failure").catch(() => {});
    console.error(`failed at ${page.url()}\n${await text(page).catch(() => "")}`);
  }
  throw e;
} finally {
  await browser.close();
}
