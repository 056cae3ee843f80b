// Customer journeys through Sekisho's hosted pages in a real browser; see lib.mjs for what the
// test harness passes in.
import { url, APP, now, advance, mail, totp, shot, expect, text, submit, newContext, loginWith, run } from "./lib.mjs";

// A newcomer from the setup link: 1. password → 2.1 key → 2.2 code → finish → log out → log in
// with the app; the used link then gets its own page.
// On a phone's enrolment page: the otpauth link first, then the key, then the QR code.
async function phoneEnrolment(page) {
  const add = page.locator("#add-to-app");
  expect(await add.isVisible(), "the link to add the account on this phone");
  const href = await add.getAttribute("href");
  expect(/^otpauth:\/\/totp\/.+\?.*secret=[A-Z2-7]+/.test(href), `an otpauth URI, got ${href}`);
  const [a, k, q] = await Promise.all(
    ["#add-to-app", "details.key summary", "img.qr"].map((s) => page.locator(s).boundingBox()),
  );
  expect(a.y < k.y && k.y < q.y, `link ${a.y}, key ${k.y}, QR code ${q.y} in this order`);
}

async function setupWizard(browser) {
  const ctx = await newContext(browser, { width: 390, height: 844 });
  const page = await ctx.newPage();
  const link = `${url}${process.env.SEKISHO_SETUP_PATH}`;
  await page.goto(link);
  expect((await text(page)).includes("1. パスワードの設定"), "step 1");
  await page.locator("#new_password").pressSequentially("hana2026ko");
  expect((await page.locator('li[data-rule="mixed"].met').count()) === 1, "live check: letters and digits");
  await page.fill("#confirm_password", "hana2026ko");
  await shot(page, "30-setup-1-password");
  await submit(page);
  expect((await text(page)).includes("時間ベース"), "step 2.1: time-based");
  expect((await text(page)).includes("tanaka"), "step 2.1: account name");
  await phoneEnrolment(page);
  await page.locator("details.key summary").click();
  const key = (await page.locator("#secret-key").innerText()).trim();
  await shot(page, "31-setup-2-key");
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  expect((await text(page)).includes("初期設定が完了しました"), "finished");
  await shot(page, "32-setup-done");
  // The link is single-use.
  await page.goto(link);
  expect((await text(page)).includes("SKS-WEB-0005"), "used link page");
  expect((await page.locator("footer").innerText()).includes("0120-000-000"), "whom to contact");
  await shot(page, "33-setup-link-used");
  // Log in with the new password and the app.
  await advance(30);
  await page.goto(`${url}/login`);
  await loginWith(page, "tanaka", "hana2026ko");
  await page.waitForURL(/\/login\/second-factor$/);
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  expect((await text(page)).includes("利用中"), "app in use");
  await Promise.all([page.waitForLoadState("load"), page.locator("form[action='/logout'] button").click()]);
  await page.waitForURL(/done=logout/);
  await advance(30);
  await loginWith(page, "tanaka", "hana2026ko");
  await page.waitForURL(/\/login\/second-factor$/);
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await ctx.close();
  console.log("setup wizard journey: ok");
}

// A temporary password → forced change → authenticator app from the settings → log out → TOTP.
async function newcomer(browser) {
  const ctx = await newContext(browser, { width: 390, height: 844 });
  const page = await ctx.newPage();
  await page.goto(`${url}/login?return_to=${encodeURIComponent(APP)}`);
  expect((await page.title()).startsWith("ログイン"), "Japanese login page");
  await shot(page, "01-login-ja-phone");
  await loginWith(page, "sato", "Temp2026ab");
  await page.waitForURL(/\/login\/password-change$/);
  expect((await text(page)).includes("仮パスワード"), "temporary password reason");
  await page.fill("#current_password", "Temp2026ab");
  await page.locator("#new_password").pressSequentially("short");
  expect((await page.locator('li[data-rule="length"].unmet').count()) === 1, "live check: too short");
  await page.fill("#new_password", "");
  await page.locator("#new_password").pressSequentially("Kabu2026new");
  expect((await page.locator('li[data-rule="length"].met').count()) === 1, "live check: length met");
  await page.fill("#confirm_password", "Kabu2026new");
  await shot(page, "02-password-change");
  await submit(page);
  await page.waitForURL(/done=password/);
  expect((await text(page)).includes("パスワードを変更しました"), "changed notice");
  await shot(page, "03-password-changed");
  await loginWith(page, "sato", "Kabu2026new");
  await page.waitForURL(APP);
  // Security settings: register the authenticator app.
  await page.goto(`${url}/account/security`);
  expect((await text(page)).includes("未登録"), "methods not registered");
  await shot(page, "04-security-before");
  // Each action on its own short page (issue 17 item 9): 申込 asks for the password only.
  await Promise.all([page.waitForLoadState("load"), page.locator("#act-app-apply").click()]);
  await page.waitForURL(/\/account\/security\/app-apply$/);
  await shot(page, "04b-security-app-apply");
  await page.fill("#proof", "Kabu2026new");
  await submit(page);
  expect((await text(page)).includes("時間ベース"), "time-based shown");
  expect(!(await page.locator("#secret-key").isVisible()), "key hidden until 'show code'");
  // A phone cannot scan its own screen: the link that opens the app on this phone and the key
  // come before the QR code; on a desktop there is no such link and the QR code leads.
  await phoneEnrolment(page);
  await shot(page, "05-totp-qr");
  await page.setViewportSize({ width: 1100, height: 900 });
  expect(!(await page.locator("#add-to-app").isVisible()), "no tap-to-add link on a desktop");
  await shot(page, "05b-totp-qr-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator("details.key summary").click();
  const key = (await page.locator("#secret-key").innerText()).trim();
  expect(/^[A-Z2-7]{16,}$/.test(key), `base32 key, got ${key}`);
  await shot(page, "06-totp-key-shown");
  await page.fill("#otp", "000000");
  await submit(page);
  expect((await page.locator("[role=alert]").innerText()).length > 0, "wrong code message");
  await shot(page, "07-totp-wrong-code");
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  await page.waitForURL(/done=totp/);
  expect((await text(page)).includes("利用中"), "authenticator app in use");
  await shot(page, "08-security-totp-registered");
  // Still freshly re-authenticated: switch login notifications on, through its confirmation.
  await Promise.all([page.waitForLoadState("load"), page.locator("#act-notify").click()]);
  expect((await page.locator("#proof").count()) === 0, "no password asked while fresh");
  await submit(page);
  expect((await page.locator("ol.progress [aria-current]").innerText()) === "確認", "the confirmation step");
  expect((await page.locator("#confirm-text").innerText()).includes("通知をお送りする"), "what will change");
  await shot(page, "08a-notify-confirm");
  await Promise.all([page.waitForLoadState("load"), page.locator("#confirm-submit").click()]);
  await page.waitForURL(/done=notify/);
  expect((await page.locator("#notify-state").innerText()).includes("受け取る"), "notifications on");
  await shot(page, "08b-security-notifications-on");
  // コード再表示: a current code shows the same key again.
  await advance(30);
  await Promise.all([page.waitForLoadState("load"), page.locator("#act-app-reveal").click()]);
  await page.fill("#action-otp", totp(key, await now()));
  await submit(page);
  await page.locator("details.key summary").click();
  expect((await page.locator("#secret-key").innerText()).trim() === key, "same key shown again");
  await shot(page, "08c-totp-key-again");
  await page.goto(`${url}/account/security`);
  await Promise.all([page.waitForLoadState("load"), page.locator("form[action='/logout'] button").click()]);
  await page.waitForURL(/done=logout/);
  await shot(page, "09-logged-out");
  // The hop back to the app after logout is no "logged in" page: the login page, which says so
  // and comes back to the app (issue 17 item 8).
  await page.goto(`${url}/login/return?to=${encodeURIComponent(APP)}`);
  await page.waitForURL(/\/login\?done=ended&return_to=/);
  expect((await text(page)).includes("もう一度ログインしてください"), "asked to log in again");
  expect(!(await text(page)).includes("ログインしました"), "not told it is logged in");
  await shot(page, "09b-return-without-session");
  await page.goto(`${url}/login`);
  // The next login asks for the app's code (a fresh one: each code counts once).
  await advance(30);
  await loginWith(page, "sato", "Kabu2026new");
  await page.waitForURL(/\/login\/second-factor$/);
  expect((await text(page)).includes("認証アプリ"), "TOTP prompt");
  await shot(page, "10-second-factor-totp");
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await ctx.close();
  console.log("newcomer journey: ok");
}

// E-mail codes: a wrong code, the right one; then an expired one and a re-issued one.
async function emailCode(browser) {
  const ctx = await newContext(browser, { width: 1024, height: 768 });
  const page = await ctx.newPage();
  await page.goto(`${url}/login`);
  await loginWith(page, "suzuki", "kabu2026xyz");
  await page.waitForURL(/\/login\/second-factor$/);
  expect((await text(page)).includes("su***@example.co.jp"), "masked address");
  await shot(page, "11-second-factor-email");
  const first = await mail("suzuki@example.co.jp");
  await page.fill("#otp", first.code === "000000" ? "111111" : "000000");
  await submit(page);
  expect((await page.locator("[role=alert]").innerText()).includes("認証コード"), "wrong code message");
  await shot(page, "12-email-code-wrong");
  await page.fill("#otp", first.code);
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await shot(page, "13-security-email");
  await Promise.all([page.waitForLoadState("load"), page.locator("form[action='/logout'] button").click()]);
  // Expired: the code's lifetime passes before it is typed.
  await loginWith(page, "suzuki", "kabu2026xyz");
  await page.waitForURL(/\/login\/second-factor$/);
  const second = await mail("suzuki@example.co.jp");
  await advance(301);
  await page.fill("#otp", second.code);
  await submit(page);
  expect((await page.locator("[role=alert]").innerText()).includes("有効期限"), "expired code message");
  expect((await page.locator("#otp").count()) === 0, "no code entry for a spent code");
  expect((await text(page)).includes("送信しました") === false, "no 'we have sent' for a spent code");
  await shot(page, "14-email-code-expired");
  // Re-issue (再発行) and use the new code.
  await Promise.all([
    page.waitForLoadState("load"),
    page.locator("form[action='/login/second-factor/resend'] button").click(),
  ]);
  await shot(page, "15-email-code-reissued");
  const third = await mail("suzuki@example.co.jp");
  await page.fill("#otp", third.code);
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await ctx.close();
  console.log("e-mail code journey: ok");
}

// The same in English.
async function english(browser) {
  const ctx = await newContext(browser, { width: 390, height: 844 });
  const page = await ctx.newPage();
  await page.goto(`${url}/login?lang=en`);
  expect((await page.title()).startsWith("Log in"), "English login page");
  await shot(page, "21-login-en");
  await loginWith(page, "smith", "kabu2026xyz");
  await page.waitForURL(/\/login\/second-factor$/);
  expect((await text(page)).includes("authentication code"), "English prompt");
  await shot(page, "22-second-factor-email-en");
  const m = await mail("smith@example.co.jp");
  await page.fill("#otp", m.code === "000000" ? "111111" : "000000");
  await submit(page);
  const alert = await page.locator("[role=alert]").innerText();
  expect(/code/i.test(alert), `English wrong-code message, got ${alert}`);
  await shot(page, "23-email-code-wrong-en");
  await advance(301);
  await page.fill("#otp", m.code);
  await submit(page);
  const expired = await page.locator("[role=alert]").innerText();
  expect(/expired/i.test(expired), `English expired message, got ${expired}`);
  await shot(page, "24-email-code-expired-en");
  await Promise.all([
    page.waitForLoadState("load"),
    page.locator("form[action='/login/second-factor/resend'] button").click(),
  ]);
  const again = await mail("smith@example.co.jp");
  await page.fill("#otp", again.code);
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  expect((await text(page)).includes("Security settings"), "English settings");
  await shot(page, "25-security-en");
  await ctx.close();
  console.log("English journey: ok");
}

await run(setupWizard, newcomer, emailCode, english);
