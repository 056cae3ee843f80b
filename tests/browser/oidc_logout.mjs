// Consent and logout at the OpenID Connect provider in a real browser: a partner's app (not
// first party) sends the customer to Sekisho; after the password and the app's code (oathtool)
// the consent page names the app and the data it asks for; the customer allows it and returns
// to the app with a code; the app later sends the customer to the end-session endpoint and the
// "logged out" page is shown (no return address asked for). Photographed at desktop and 390 px.
import { url, now, advance, totp, shot, expect, text, submit, newContext, loginWith, run } from "./lib.mjs";

const KEY = process.env.SEKISHO_TOTP_KEY;
const LOGIN = process.env.SEKISHO_LOGIN;
const CLIENT = process.env.SEKISHO_CLIENT_ID;
const CB = "https://trade.example.co.jp/callback";
const CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

const authorize = (extra = "") =>
  `${url}/oidc/authorize?response_type=code&client_id=${CLIENT}&redirect_uri=${encodeURIComponent(CB)}` +
  `&scope=openid%20profile%20email&state=st-9&nonce=n-9&code_challenge=${CHALLENGE}&code_challenge_method=S256${extra}`;

function journey(name, viewport, lang) {
  const f = async (browser) => {
    const ctx = await newContext(browser, viewport);
    const page = await ctx.newPage();
    await page.goto(authorize(`&ui_locales=${lang}&prompt=consent`));
    await page.waitForURL(/\/login\?/);
    await loginWith(page, LOGIN, "abc12345");
    await page.waitForURL(/\/login\/second-factor$/);
    await page.fill("#otp", totp(KEY, await now()));
    await submit(page);
    await advance(30);
    // The consent page.
    await page.waitForSelector("#allow");
    const t = await text(page);
    expect(t.includes("パートナー資産管理"), "the app is named");
    if (lang === "ja") {
      expect(t.includes("ご登録のメールアドレス") && t.includes("お名前と言語の設定"), "the data, in Japanese");
    } else {
      expect(t.includes("Your registered e-mail address"), "the data, in English");
    }
    await shot(page, `60-oidc-consent-${name}`);
    await Promise.all([page.waitForURL(/trade\.example\.co\.jp\/callback\?code=/), page.click("#allow")]);
    expect(new URL(page.url()).searchParams.get("state") === "st-9", "state back");

    // The app logs the customer out without a return address: the logged-out page.
    await page.goto(`${url}/oidc/logout?client_id=${CLIENT}&ui_locales=${lang}`);
    await page.waitForSelector("#logged-out");
    const done = await text(page);
    expect(done.includes(lang === "ja" ? "ログアウトしました。" : "You have logged out."), "logged out");
    await shot(page, `61-oidc-logged-out-${name}`);
    // The session has ended: the next authorization asks for the login again.
    await page.goto(authorize());
    await page.waitForURL(/\/login\?/);
    await ctx.close();
  };
  Object.defineProperty(f, "name", { value: `oidc-${name}` });
  return f;
}

await run(
  journey("desktop-ja", { width: 1280, height: 900 }, "ja"),
  journey("390-ja", { width: 390, height: 844 }, "ja"),
  journey("390-en", { width: 390, height: 844 }, "en"),
);
