// The customer pages' second part: the choice of second factor and recovery codes, the code
// delivery address, the trading password, and the setup wizard's e-mail code and token
// variants. Started by crates/server/tests/api/pages2_browser.rs; see lib.mjs for the rest.
import { execFileSync } from "node:child_process";
import { url, now, advance, mail, totp, shot, expect, text, submit, newContext, loginWith, run } from "./lib.mjs";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

// A code of the imported token (hex secret) at time t.
const tokenCode = (t) =>
  execFileSync("oathtool", ["--totp", process.env.SEKISHO_TOKEN_HEX, "--now", `@${t}`])
    .toString()
    .trim();

const click = (page, selector) => Promise.all([page.waitForLoadState("load"), page.locator(selector).click()]);
const logout = (page) => click(page, "form[action='/logout'] button");
const alertText = async (page) => page.locator("[role=alert]").innerText();

// Both viewports of the page as it is now.
async function shots(page, name) {
  await page.setViewportSize(PHONE);
  await shot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
  await shot(page, `${name}-desktop`);
}

// The app from the settings, then recovery codes (twice: the first set stops working); the
// next login offers the app by default and "lost your device" as the other choice.
async function recoveryCodes(browser) {
  const ctx = await newContext(browser, DESKTOP);
  const page = await ctx.newPage();
  await page.goto(`${url}/login`);
  await loginWith(page, "kato", "kabu2026kat");
  await page.waitForURL(/\/account\/security$/);
  await shots(page, "40-security-methods");
  const rows = await page.locator("table.methods tbody tr").allInnerTexts();
  expect(rows.length === 4, `four methods listed, got ${rows.length}`);
  expect(
    rows.every((r) => r.includes("未登録") || r.includes("利用中")),
    "each method 利用中 / 未登録",
  );
  // One button per action, each opening its own short page (issue 17 item 9); the phone view
  // of the list fits on a few screens.
  await page.setViewportSize(PHONE);
  const tall = await page.evaluate(() => document.documentElement.scrollHeight);
  expect(tall < 844 * 3.5, `the settings page fits on a few phone screens, got ${tall}px`);
  expect((await page.locator("main input[type=password]").count()) <= 1, "at most the re-authentication's field");
  await page.setViewportSize(DESKTOP);
  // The authenticator app.
  await click(page, "#act-app-apply");
  await page.fill("#proof", "kabu2026kat");
  await submit(page);
  await page.locator("details.key summary").click();
  const key = (await page.locator("#secret-key").innerText()).trim();
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  await page.waitForURL(/done=totp/);
  // Recovery codes: fresh from the app's registration, no second proof; never cached.
  await click(page, "#act-recovery");
  await shots(page, "41a-security-recovery-page");
  const [shown] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/account/recovery-codes")),
    submit(page),
  ]);
  expect(shown.headers()["cache-control"] === "no-store", "recovery codes page not cached");
  expect((await text(page)).includes("kato"), "whose codes");
  expect((await text(page)).includes("一度しか表示されません"), "shown once");
  expect((await page.locator("#old-set").count()) === 0, "no earlier set to warn about");
  const first = await page.locator("#recovery-codes code").allInnerTexts();
  expect(first.length === 10, `ten codes, got ${first.length}`);
  await shots(page, "41-recovery-codes");
  await click(page, "#codes-kept");
  expect((await text(page)).includes("残り: 10 / 10"), "ten left");
  await shots(page, "42-security-recovery-set");
  // A new set: the old one stops working, as its page warns.
  await click(page, "#act-recovery");
  expect((await text(page)).includes("以前のリカバリーコードは使えなくなります"), "warning before a new set");
  await submit(page);
  expect((await page.locator("#old-set").innerText()).includes("使えなくなりました"), "old set warning");
  const codes = await page.locator("#recovery-codes code").allInnerTexts();
  expect(codes[0] !== first[0], "a new set");
  await shot(page, "43-recovery-codes-again");
  await page.goto(`${url}/account/security`);
  await logout(page);
  // The next login: the app by default, the other ways offered.
  await advance(30);
  await loginWith(page, "kato", "kabu2026kat");
  await page.waitForURL(/\/login\/second-factor$/);
  expect((await text(page)).includes("認証アプリ"), "the app by default");
  expect((await page.locator("#use-recovery_code").count()) === 1, "lost your device offered");
  await shots(page, "44-second-factor-choice");
  await page.goto(`${url}/login/second-factor?method=recovery_code&lang=en`);
  expect((await text(page)).includes("Lost your device"), "English recovery code page");
  await shots(page, "45b-second-factor-recovery-en");
  await page.goto(`${url}/login/second-factor?lang=ja`);
  await click(page, "#use-recovery_code");
  expect((await text(page)).includes("電話をなくした場合"), "recovery code page");
  await shots(page, "45-second-factor-recovery");
  // A code of the replaced set is refused with its code.
  await page.fill("#otp", first[0]);
  await submit(page);
  const refused = await alertText(page);
  expect(refused.includes("SKS-LGN-0015"), `recovery code refused, got ${refused}`);
  expect((await page.locator("input[name=method]").inputValue()) === "recovery_code", "still the recovery code");
  await shots(page, "46-second-factor-recovery-wrong");
  await page.fill("#otp", codes[0]);
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  expect((await text(page)).includes("残り: 9 / 10"), "nine left");
  await logout(page);
  // The same code again is refused; back to the app through the choice.
  await advance(30);
  await loginWith(page, "kato", "kabu2026kat");
  await page.waitForURL(/\/login\/second-factor$/);
  await click(page, "#use-recovery_code");
  await page.fill("#otp", codes[0]);
  await submit(page);
  expect((await alertText(page)).includes("SKS-LGN-0015"), "a used code is refused");
  await click(page, "#use-totp");
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  // 利用停止: the code and the password, then a confirmation naming what follows, then done.
  await advance(30);
  await click(page, "#act-app-stop");
  await page.setViewportSize(PHONE);
  await shot(page, "46d-app-stop-input-phone");
  await page.setViewportSize(DESKTOP);
  await page.fill("#action-otp", totp(key, await now()));
  await page.fill("#proof", "kabu2026kat");
  await submit(page);
  expect((await page.locator("ol.progress [aria-current]").innerText()) === "確認", "the confirmation step");
  expect((await page.locator("#confirm-text").innerText()).includes("停止します"), "what will happen");
  await shots(page, "46e-app-stop-confirm");
  await click(page, "#confirm-submit");
  await page.waitForURL(/done=stop/);
  const row = await page.locator("table.methods tbody tr").first().innerText();
  expect(row.includes("未登録") && (await page.locator("#act-app-apply").count()) === 1, `app stopped: ${row}`);
  await ctx.close();
  console.log("recovery codes journey: ok");
}

// JTG: the code delivery address changes after the proof and the code sent to the new address;
// then the trading password is set (with the login password) and changed (with itself).
async function addressAndTrading(browser) {
  const ctx = await newContext(browser, PHONE);
  const page = await ctx.newPage();
  await page.goto(`${url}/login`);
  await loginWith(page, "kimura", "kabu2026kim");
  await page.waitForURL(/\/login\/second-factor$/);
  await page.fill("#otp", (await mail("kimura@example.co.jp")).code);
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  expect((await text(page)).includes("ki***@example.co.jp"), "current address");
  // 入力 → 確認 → 受付: a wrong proof is refused on the action's own page.
  await click(page, "#act-address");
  await shots(page, "46b-address-input");
  await page.fill("#new-address", "kimura.phone@example.net");
  await page.fill("#proof", "wrong-password1");
  await submit(page);
  expect((await alertText(page)).includes("SKS-"), "wrong proof refused");
  expect((await page.locator("#new-address").inputValue()) === "kimura.phone@example.net", "the address kept");
  await page.fill("#proof", "kabu2026kim");
  await submit(page);
  expect((await page.locator("#confirm-address").innerText()) === "kimura.phone@example.net", "the address confirmed");
  await shots(page, "46c-address-confirm");
  await click(page, "#confirm-submit");
  await page.waitForURL(/\/account\/security\/address\?done=address_sent/);
  expect((await page.locator("#pending-address").innerText()) === "kimura.phone@example.net", "pending address");
  await shots(page, "47-address-pending");
  const m = await mail("kimura.phone@example.net", "code_address_confirmation");
  await page.fill("#address-code", m.code === "000000" ? "111111" : "000000");
  await click(page, "form[action='/account/code-address/confirm'] button");
  expect((await alertText(page)).includes("SKS-"), "wrong confirmation code refused");
  await shots(page, "48-address-wrong-code");
  await page.fill("#address-code", m.code);
  await click(page, "form[action='/account/code-address/confirm'] button");
  await page.waitForURL(/done=address$/);
  expect((await text(page)).includes("ki***@example.net"), "new address in use");
  await shots(page, "49-address-changed");
  const told = await mail("kimura@example.co.jp", "code_address_changed_notice");
  expect(told.text.includes("ki***@example.net"), "the old address is told where codes go now");
  // Trading password: the first one with the login password.
  await click(page, "#act-trading");
  await page.fill("#trading_login_password", "kabu2026kim");
  await page.fill("#new_trading_password", "Trade2026ab");
  await page.fill("#confirm_trading_password", "Trade2026ab");
  await click(page, "form[action='/account/trading-password'] button");
  await page.waitForURL(/done=trading/);
  await click(page, "#act-trading");
  expect((await page.locator("#current_trading_password").count()) === 1, "now asks for the trading password");
  await page.fill("#current_trading_password", "Wrong2026ab");
  await page.fill("#new_trading_password", "Trade2026cd");
  await page.fill("#confirm_trading_password", "Trade2026cd");
  await click(page, "form[action='/account/trading-password'] button");
  expect((await alertText(page)).includes("SKS-"), "wrong trading password refused");
  await shots(page, "50-trading-wrong");
  await page.fill("#current_trading_password", "Trade2026ab");
  await page.fill("#new_trading_password", "Trade2026cd");
  await page.fill("#confirm_trading_password", "Trade2026cd");
  await click(page, "form[action='/account/trading-password'] button");
  await page.waitForURL(/done=trading/);
  expect((await text(page)).includes("取引パスワードを変更しました"), "trading password changed");
  await shots(page, "51-trading-changed");
  // The same settings in English.
  await page.goto(`${url}/account/security?lang=en`);
  const en = await text(page);
  expect(en.includes("Recovery codes") && en.includes("Change trading password"), "English settings");
  await click(page, "#act-address");
  expect((await text(page)).includes("Change where codes are sent"), "an action page in English");
  await shots(page, "51c-address-en");
  await shots(page, "51b-security-en");
  await page.goto(`${url}/account/security?lang=ja`);
  // The next login's code goes to the new address.
  await logout(page);
  await loginWith(page, "kimura", "kabu2026kim");
  await page.waitForURL(/\/login\/second-factor$/);
  expect((await text(page)).includes("ki***@example.net"), "code sent to the new address");
  await page.fill("#otp", (await mail("kimura.phone@example.net")).code);
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await ctx.close();
  console.log("delivery address and trading password journey: ok");
}

// The wizard for an e-mail code login: step 2 confirms the address with a code sent there.
async function wizardEmail(browser) {
  const ctx = await newContext(browser, PHONE);
  const page = await ctx.newPage();
  await page.goto(`${url}${process.env.SEKISHO_EMAIL_SETUP_PATH}`);
  expect((await text(page)).includes("2. 認証コードの送信先の確認"), "steps for e-mail codes");
  await page.fill("#new_password", "Tamago2026x");
  await page.fill("#confirm_password", "Tamago2026x");
  await submit(page);
  expect((await text(page)).includes("og***@example.co.jp"), "the address codes go to");
  await shots(page, "52-setup-email");
  // 保存して終了: the password is kept and the page says until when the same link works.
  await click(page, "#save-and-exit");
  expect((await text(page)).includes("パスワードを保存しました"), "saved");
  expect((await page.locator("#link-until").innerText()).endsWith("JST"), "until when, in Japan time");
  await shots(page, "52a-setup-saved");
  await click(page, "#continue-setup");
  expect((await text(page)).includes("og***@example.co.jp"), "back at step 2");
  await submit(page);
  expect((await text(page)).includes("確認コードを送信しました"), "code sent");
  await shots(page, "53-setup-email-sent");
  const m = await mail("ogawa@example.co.jp", "code_address_confirmation");
  await page.fill("#code", m.code === "000000" ? "111111" : "000000");
  await submit(page);
  expect((await alertText(page)).includes("SKS-"), "wrong code refused");
  await page.fill("#code", m.code);
  await submit(page);
  expect((await text(page)).includes("初期設定が完了しました"), "finished");
  await page.goto(`${url}/login`);
  await loginWith(page, "ogawa", "Tamago2026x");
  await page.waitForURL(/\/login\/second-factor$/);
  await page.fill("#otp", (await mail("ogawa@example.co.jp")).code);
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await ctx.close();
  console.log("setup wizard (e-mail code) journey: ok");
}

// The wizard for a token login: step 2 is 利用開始登録 with the token ID and two codes.
async function wizardToken(browser) {
  const ctx = await newContext(browser, PHONE);
  const page = await ctx.newPage();
  await page.goto(`${url}${process.env.SEKISHO_TOKEN_SETUP_PATH}`);
  expect((await text(page)).includes("2. トークンの利用開始登録"), "steps for a token");
  await page.fill("#new_password", "fxtrade2026a");
  await page.fill("#confirm_password", "fxtrade2026a");
  await submit(page);
  expect((await text(page)).includes("トークンID"), "token registration");
  await shots(page, "54-setup-token");
  const t = +(await now());
  await page.fill("#token_id", "VSMT00000000");
  await page.fill("#otp1", tokenCode(t - 30));
  await page.fill("#otp2", tokenCode(t));
  await submit(page);
  expect((await alertText(page)).includes("SKS-HWT-0013"), "unknown token ID");
  await shots(page, "55-setup-token-wrong");
  await page.fill("#token_id", "vsmt25772182");
  await page.fill("#otp1", tokenCode(t - 30));
  await page.fill("#otp2", tokenCode(t));
  await submit(page);
  expect((await text(page)).includes("初期設定が完了しました"), "finished");
  // The first login with the token.
  await advance(30);
  await page.goto(`${url}/login`);
  await loginWith(page, "fx0000009", "fxtrade2026a");
  await page.waitForURL(/\/login\/second-factor$/);
  expect((await page.locator("#token-id").innerText()) === "VSMT25772182", "token ID shown");
  await shots(page, "56-second-factor-token");
  await page.fill("#otp", tokenCode(await now()));
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  expect((await text(page)).includes("VSMT25772182"), "token in the methods");
  await ctx.close();
  console.log("setup wizard (token) journey: ok");
}

// A token login's first login on the pages: the password, then 利用開始登録, then a new code.
async function tokenFirstLogin(browser) {
  const ctx = await newContext(browser, PHONE);
  const page = await ctx.newPage();
  await page.goto(`${url}/login`);
  await loginWith(page, "fx0000010", "fxtrade2026b");
  await page.waitForURL(/\/login\/token\/register$/);
  expect((await text(page)).includes("利用開始登録"), "start-of-use registration");
  await shots(page, "57-login-token-register");
  const t = +(await now());
  await page.fill("#token_id", "VSMT25772183");
  await page.fill("#otp1", tokenCode(t));
  await page.fill("#otp2", tokenCode(t - 30));
  await submit(page);
  expect((await alertText(page)).includes("SKS-HWT-0010"), "codes not consecutive");
  await page.fill("#token_id", "VSMT25772183");
  await page.fill("#otp1", tokenCode(t - 30));
  await page.fill("#otp2", tokenCode(t));
  await submit(page);
  await page.waitForURL(/done=registered/);
  expect((await text(page)).includes("トークンを登録しました"), "registered");
  await shots(page, "58-login-token-registered");
  await advance(30);
  await page.fill("#otp", tokenCode(await now()));
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  expect((await text(page)).includes("VSMT25772183"), "token in the methods");
  // Ten wrong codes lock the token: the page says so with its code and whom to call, and offers
  // neither code entry nor resynchronisation (issue 17 item 8).
  await logout(page);
  await loginWith(page, "fx0000010", "fxtrade2026b");
  await page.waitForURL(/\/login\/second-factor$/);
  for (let i = 0; i < 10; i++) {
    await page.fill("#otp", i % 2 ? "000000" : "999999");
    await submit(page);
  }
  expect((await alertText(page)).includes("SKS-LGN-0008"), "locked, with its code");
  expect((await page.locator("#otp").count()) === 0, "no code entry on a locked token");
  expect((await page.locator("a[href='/login/token/resync']").count()) === 0, "no resync on a locked token");
  await shots(page, "58b-token-locked");
  await ctx.close();
  console.log("token first login journey: ok");
}

await run(recoveryCodes, addressAndTrading, wizardEmail, wizardToken, tokenFirstLogin);
