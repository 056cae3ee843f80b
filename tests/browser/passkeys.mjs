// Passkeys in chromium with its virtual authenticator (CDP WebAuthn domain): register a passkey
// in the security settings after re-authentication, log out, log in with the password and the
// passkey as second factor, log out, log in passwordless with the passkey. Started by
// crates/server/tests/api/passkeys_browser.rs. Passkeys need a domain: the pages are opened on
// http://localhost:PORT (a secure context in chromium), the relying party ID is "localhost".
import { url, shot, expect, text, newContext, loginWith, run } from "./lib.mjs";

const base = url.replace("127.0.0.1", "localhost");
const ID = "kobayashi";
const PASSWORD = "kabu2026xyz";

async function authenticator(ctx, page) {
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
  return { cdp, authenticatorId };
}

async function logout(page) {
  await page.goto(`${base}/account/security`);
  await Promise.all([page.waitForURL(/\/login/), page.locator('form[action="/logout"] button').click()]);
}

async function passkeys(browser) {
  const ctx = await newContext(browser, { width: 1100, height: 900 });
  const page = await ctx.newPage();
  const { cdp, authenticatorId } = await authenticator(ctx, page);

  // Password only so far: the security settings recommend a passkey.
  await page.goto(`${base}/login`);
  await loginWith(page, ID, PASSWORD);
  expect(page.url().endsWith("/account/security"), `security page, got ${page.url()}`);
  expect(await page.locator("#passkey-nudge").isVisible(), "the nudge to register a passkey");
  await shot(page, "pk-01-security-nudge");

  // Re-authenticate, then register a passkey named by the customer.
  await page.fill("#reauth-secret", PASSWORD);
  await Promise.all([page.waitForURL(/done=reauth/), page.locator('form[action="/account/reauth"] button').click()]);
  await page.click("#passkeys-link");
  expect((await text(page)).includes("パスキーは登録されていません"), "no passkey yet");
  await page.fill("#passkey-name", "ノートPC");
  await shot(page, "pk-02-passkeys-register");
  await Promise.all([page.waitForURL(/done=added/), page.click("#passkey-register [data-passkey-start]")]);
  let body = await text(page);
  expect(body.includes("パスキーを登録しました") && body.includes("ノートPC"), `registered:\n${body}`);
  await shot(page, "pk-03-passkey-added");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials.length === 1 && credentials[0].isResidentCredential, "one discoverable credential");
  await page.goto(`${base}/account/security`);
  expect((await page.locator("#passkey-count").innerText()) === "1", "the security page counts the passkey");

  // Password, then the passkey as second factor.
  await logout(page);
  await loginWith(page, ID, PASSWORD);
  expect(page.url().endsWith("/login/passkey"), `passkey step, got ${page.url()}`);
  await shot(page, "pk-04-passkey-step");
  await Promise.all([
    page.waitForURL(/\/account\/security/),
    page.click("#passkey-step [data-passkey-start]"),
  ]);
  await shot(page, "pk-05-logged-in-second-factor");

  // Passwordless: the login page's passkey button.
  await logout(page);
  await page.waitForSelector("#passkey-login:not([hidden])");
  await shot(page, "pk-06-login-with-passkey-button");
  await Promise.all([
    page.waitForURL(/\/account\/security/),
    page.click("#passkey-login [data-passkey-start]"),
  ]);
  await page.goto(`${base}/account/passkeys`);
  body = await text(page);
  expect(!body.includes("未使用"), `last use recorded:\n${body}`);
  await shot(page, "pk-07-passkeys-used");
  await ctx.close();
}

await run(passkeys);
