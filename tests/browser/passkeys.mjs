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
  // This context plays a browser without passkey autofill: chromium's virtual authenticator
  // answers a conditional request at once, which would log in before the password journeys.
  await ctx.addInitScript(() => {
    if (window.PublicKeyCredential) {
      Object.defineProperty(PublicKeyCredential, "isConditionalMediationAvailable", {
        value: () => Promise.resolve(false),
        configurable: true,
      });
    }
  });
  const page = await ctx.newPage();
  const { cdp, authenticatorId } = await authenticator(ctx, page);

  // Password only so far: the security settings recommend a passkey.
  await page.goto(`${base}/login`);
  await shot(page, "pk-00-login");
  await loginWith(page, ID, PASSWORD);
  expect(page.url().endsWith("/account/security"), `security page, got ${page.url()}`);
  expect(await page.locator("#passkey-nudge").isVisible(), "the nudge to register a passkey");
  await shot(page, "pk-01-security-nudge");

  // Before re-authentication the passkeys page only says what is needed.
  await page.click("#passkeys-link");
  expect((await page.locator("#passkey-register").count()) === 0, "no registration before re-authentication");
  await page.goto(`${base}/account/security`);

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
  let { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials.length === 1 && credentials[0].isResidentCredential, "one discoverable credential");
  await page.goto(`${base}/account/security`);
  expect((await page.locator("#passkey-count").innerText()) === "1", "the security page counts the passkey");

  // Password, then the passkey as second factor.
  await logout(page);
  await loginWith(page, ID, PASSWORD);
  expect(page.url().endsWith("/login/passkey"), `passkey step, got ${page.url()}`);
  await shot(page, "pk-04-passkey-step");
  await Promise.all([page.waitForURL(/\/account\/security/), page.click("#passkey-step [data-passkey-start]")]);
  await shot(page, "pk-05-logged-in-second-factor");

  // Passwordless: the login page's passkey button.
  await logout(page);
  await page.waitForSelector("#passkey-login:not([hidden])");
  await shot(page, "pk-06-login-with-passkey-button");
  await Promise.all([page.waitForURL(/\/account\/security/), page.click("#passkey-login [data-passkey-start]")]);
  await page.goto(`${base}/account/passkeys`);
  body = await text(page);
  expect(!body.includes("未使用"), `last use recorded:\n${body}`);
  await shot(page, "pk-07-passkeys-used");
  ({ credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId }));
  await ctx.close();

  // Autofill (conditional UI) in a browser that offers it: the same passkey, synced to a
  // second browser, is offered as soon as the login page asks; the virtual authenticator
  // picks it at once.
  const ctx2 = await newContext(browser, { width: 1100, height: 900 });
  const page2 = await ctx2.newPage();
  const second = await authenticator(ctx2, page2);
  await second.cdp.send("WebAuthn.addCredential", { authenticatorId: second.authenticatorId, credential: credentials[0] });
  await Promise.all([page2.waitForURL(/\/account\/security/), page2.goto(`${base}/login`)]);
  expect((await text(page2)).includes(ID), "logged in through autofill");
  await ctx2.close();
}

await run(passkeys);
