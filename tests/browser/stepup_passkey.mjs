// Step-up confirmed with a passkey in chromium (virtual authenticator, CDP WebAuthn domain): the
// signed-in customer registers a passkey in the security settings, the app asks for a withdrawal
// to be confirmed, the page offers the passkey first (codes a link away), the passkey confirms,
// the customer is back at the app, and the app verifies the proof with the JWK Set alone. Then a
// newcomer whose second factor is `passkey` registers one in the setup wizard and logs in with it.
// Started by crates/server/tests/api/stepup_passkey_browser.rs. Passkeys need a domain: the
// pages are opened on http://localhost:PORT, the relying party ID is "localhost".
import { createPublicKey, verify } from "node:crypto";
import { url, now, advance, totp, shot, expect, text, submit, newContext, loginWith, run } from "./lib.mjs";

const base = url.replace("127.0.0.1", "localhost");
const TOKEN = process.env.SEKISHO_STEP_UP_TOKEN;
const KEY = process.env.SEKISHO_TOTP_KEY;
const LOGIN = process.env.SEKISHO_LOGIN;
const DONE = "https://trade.example.co.jp/withdraw/done?ref=W-88";

async function api(method, path, body) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json() };
}

async function verifyProof(jws) {
  const set = await (await fetch(`${url}/.well-known/jwks.json`)).json();
  const [h, p, s] = jws.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString());
  expect(header.alg === "EdDSA" && header.typ === "step-up+jwt", "proof header");
  const jwk = set.keys.find((k) => k.kid === header.kid);
  expect(jwk, "the proof's key is published");
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const ok = verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, "base64url"));
  return { ok, claims: JSON.parse(Buffer.from(p, "base64url").toString()) };
}

// A browser context with chromium's virtual authenticator (user verification on).
async function withAuthenticator(browser, viewport) {
  const ctx = await newContext(browser, viewport);
  // No passkey autofill on the login page: the virtual authenticator would answer at once.
  await ctx.addInitScript(() => {
    if (window.PublicKeyCredential) {
      Object.defineProperty(PublicKeyCredential, "isConditionalMediationAvailable", {
        value: () => Promise.resolve(false),
        configurable: true,
      });
    }
  });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
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
  return { ctx, page, cdp, authenticatorId };
}

async function confirmWithPasskey(browser) {
  const { ctx, page, cdp, authenticatorId } = await withAuthenticator(browser, { width: 390, height: 844 });

  // Signed in with the password and the app's code.
  await page.goto(`${base}/login`);
  await loginWith(page, LOGIN, "abc12345");
  await page.waitForURL(/\/login\/second-factor$/);
  await page.fill("#otp", totp(KEY, await now()));
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await advance(30);

  // A change of the withdrawal account needs a passkey (step_up.passkey_required_kinds): without
  // one the page says so, with its code, and leads to the security settings.
  const change = await api("POST", "/api/v1/step-up", {
    login_id: LOGIN,
    operation: { kind: "withdrawal_account_change", description: "出金先口座の変更: 三井住友銀行 本店 普通 7654321" },
    return_to: DONE,
  });
  await page.goto(`${base}${new URL(change.json.url).pathname}`);
  expect((await text(page)).includes("SKS-STP-0006"), "passkey required page");
  await shot(page, "spk-49-step-up-passkey-required");
  await Promise.all([page.waitForURL(/\/account\/security$/), page.click("#to-security")]);

  // Register a passkey (re-authentication first).
  await page.fill("#reauth-secret", "abc12345");
  await Promise.all([page.waitForURL(/done=reauth/), page.locator('form[action="/account/reauth"] button').click()]);
  await page.click("#passkeys-link");
  await page.fill("#passkey-name", "iPhone");
  await Promise.all([page.waitForURL(/done=added/), page.click("#passkey-register [data-passkey-start]")]);
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials.length === 1, "one credential on the authenticator");

  // The app asks; the page offers the passkey first, the codes behind a link.
  const desc = "出金 2,000,000円 → 三井住友銀行 本店 普通 7654321";
  const r = await api("POST", "/api/v1/step-up", {
    login_id: LOGIN,
    operation: { kind: "withdrawal", description: desc, amount: { value: "2000000", currency: "JPY" } },
    return_to: DONE,
  });
  expect(r.status === 201, `step-up created (${r.status})`);
  const id = r.json.id;
  await page.goto(`${base}${new URL(r.json.url).pathname}`);
  const shown = await text(page);
  expect(shown.includes("2,000,000 JPY") && shown.includes("三井住友銀行"), "operation shown");
  expect(await page.locator("#confirm-passkey").isVisible(), "passkey offered");
  expect(!(await page.locator("#otp").isVisible()), "the code field is a link away");
  await shot(page, "spk-50-step-up-passkey");
  await page.click("#use-code");
  expect(await page.locator("#otp").isVisible(), "the link opens the code form");
  await shot(page, "spk-51-step-up-passkey-codes-open");
  await page.click("#use-code");

  // The passkey confirms: back at the app.
  await Promise.all([page.waitForURL(DONE), page.click("#confirm-passkey")]);
  expect((await page.locator("h1").innerText()).includes("Trade app"), "back at the app");
  const done = await api("GET", `/api/v1/step-up/${id}`);
  expect(done.json.state === "confirmed" && done.json.method === "passkey", `confirmed with passkey: ${JSON.stringify(done.json)}`);
  const { ok, claims } = await verifyProof(done.json.proof);
  expect(ok, "signature verifies with the JWKS");
  expect(claims.sub === LOGIN && claims.jti === id && claims.aud === "trade-web", "sub, jti, aud");
  expect(claims.method === "passkey" && JSON.stringify(claims.amr) === '["hwk","user"]', `amr ${claims.amr}`);
  expect(claims.operation.description === desc, "operation signed");
  await ctx.close();
}

// A `passkey` login's setup link: 1. password → 2. passkey → finished; then the password and
// the passkey log in.
async function wizard(browser) {
  const { ctx, page, cdp, authenticatorId } = await withAuthenticator(browser, { width: 390, height: 844 });
  const link = `${base}${process.env.SEKISHO_SETUP_PATH}`;
  await page.goto(link);
  expect((await text(page)).includes("2. パスキーの登録"), "the steps name the passkey");
  await page.fill("#new_password", "hana2026ko");
  await page.fill("#confirm_password", "hana2026ko");
  await submit(page);
  expect((await page.locator("h1").innerText()).includes("パスキーの登録"), `step 2: ${await text(page)}`);
  await page.fill("#passkey-name", "スマートフォン");
  await shot(page, "spk-52-setup-2-passkey");
  await Promise.all([
    page.waitForFunction(() => document.body.innerText.includes("初期設定が完了しました")),
    page.click("#passkey-register [data-passkey-start]"),
  ]);
  await shot(page, "spk-53-setup-passkey-done");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials.length === 1, "the passkey is on the authenticator");
  await page.goto(link);
  expect((await text(page)).includes("SKS-WEB-0005"), "the link is used");

  await advance(30);
  await page.goto(`${base}/login`);
  await loginWith(page, process.env.SEKISHO_NEWCOMER, "hana2026ko");
  await page.waitForURL(/\/login\/passkey$/);
  expect((await page.locator("#use-code").count()) === 0, "no code alternative for a passkey login");
  await Promise.all([page.waitForURL(/\/account\/security/), page.click("#passkey-step [data-passkey-start]")]);
  await shot(page, "spk-54-logged-in-with-setup-passkey");
  await ctx.close();
}

await run(confirmWithPasskey, wizard);
console.log("step-up passkey journeys passed");
