// The password fields' helpers in a real browser (issue 17 items 1 and 2); started by
// crates/server/tests/api/keyboard_browser.rs, which prepares the logins:
//   kbuser  password "Kabu#2026Xy", no second factor
//   kbmail  password "kabu2026xyz", e-mail codes
//   kbtemp  temporary password "Temp2026ab"
//   SEKISHO_EN_SETUP  the setup link of "kben", a login whose language is English
import { url, mail, shot, expect, text, submit, newContext, run } from "./lib.mjs";

const PASSWORD = "Kabu#2026Xy";

// The keys in the order shown (letters by their small form).
async function order(page) {
  return page
    .locator("#kb .kb-key")
    .evaluateAll((ks) => ks.map((k) => k.getAttribute("data-letter") || k.getAttribute("data-key")).join(""));
}

async function isOpen(page) {
  return page.locator("#kb").evaluate((d) => d.open);
}

// Types `s` by clicking the keys, with Shift for capitals.
async function typeOnKeyboard(page, s) {
  for (const c of s) {
    if (/[a-zA-Z]/.test(c)) {
      const pressed = (await page.locator("#kb .kb-shift").getAttribute("aria-pressed")) === "true";
      if (pressed !== (c !== c.toLowerCase())) await page.locator("#kb .kb-shift").click();
    }
    await page.locator(`#kb .kb-key[data-key=${JSON.stringify(c)}]`).click();
  }
}

// Desktop: open, cancel (nothing typed reaches the field), open again (another order), type with
// Shift and a symbol, 確定, show the password, log in with it.
async function keyboardLogin(browser) {
  const ctx = await newContext(browser, { width: 1280, height: 900 });
  const page = await ctx.newPage();
  await page.goto(`${url}/login`);
  await page.fill("#login_id", "kbuser");
  const open = page.locator("#password + .pw-row .kb-open");
  expect((await open.inputValue()) === "ソフトウェアキーボードを開く", "the open button");
  expect((await page.locator("label[for=show-password]").innerText()) === "パスワードを表示する", "show label");
  await shot(page, "kb-01-login-desktop");
  await open.click();
  expect(await isOpen(page), "the keyboard opens");
  expect((await page.locator("#kb [data-group=digits] .kb-key").count()) === 10, "10 digits");
  expect((await page.locator("#kb [data-group=letters] .kb-key").count()) === 26, "26 letters");
  expect((await page.locator("#kb [data-group=symbols] .kb-key").count()) === 32, "the policy's 32 symbols");
  expect(
    await page.evaluate(() => document.activeElement && document.activeElement.classList.contains("kb-key")),
    "focus on the first key",
  );
  const first = await order(page);
  await shot(page, "kb-02-keyboard-desktop");
  await typeOnKeyboard(page, "abc1");
  expect((await page.locator("#kb-count").innerText()).includes("4文字"), "count announced");
  await page.locator("#kb .kb-cancel").click();
  expect(!(await isOpen(page)), "キャンセル closes");
  expect((await page.inputValue("#password")) === "", "キャンセル discards");
  await open.click();
  const second = await order(page);
  expect(first !== second, `a new order at each opening: ${first} / ${second}`);
  expect([...first].sort().join("") === [...second].sort().join(""), "the same keys");
  expect((await page.locator("#kb-typed").inputValue()) === "", "a fresh start");
  await typeOnKeyboard(page, PASSWORD + "z");
  await page.locator("#kb .kb-back").click();
  expect((await page.locator("#kb-count").innerText()).includes(`${PASSWORD.length}文字`), "one deleted");
  await shot(page, "kb-03-keyboard-typed");
  await page.locator("#kb .kb-ok").click();
  expect(!(await isOpen(page)), "確定 closes");
  expect((await page.inputValue("#password")) === PASSWORD, "確定 puts the text into the field");
  expect((await page.getAttribute("#password", "type")) === "password", "masked");
  await page.check("#show-password");
  expect((await page.getAttribute("#password", "type")) === "text", "shown");
  await shot(page, "kb-04-password-shown");
  await page.uncheck("#show-password");
  expect((await page.getAttribute("#password", "type")) === "password", "masked again");
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await ctx.close();
  console.log("software keyboard login journey: ok");
}

// A phone, in English and Japanese; the keyboard used from the keyboard alone.
async function keyboardPhone(browser) {
  const ctx = await newContext(browser, { width: 390, height: 844 });
  const page = await ctx.newPage();
  await page.goto(`${url}/login?lang=en`);
  expect((await page.locator("label[for=show-password]").innerText()) === "Show password", "en label");
  await shot(page, "kb-05-login-phone-en");
  const open = page.locator("#password + .pw-row .kb-open");
  await open.focus();
  await page.keyboard.press("Enter");
  expect(await isOpen(page), "opens from the keyboard");
  expect((await page.locator("#kb h2").innerText()).includes("Software keyboard"), "en title");
  await page.keyboard.press("Enter");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("Enter");
  expect((await page.locator("#kb-count").innerText()).includes("2 characters"), "two keys by keyboard");
  await shot(page, "kb-06-keyboard-phone-en");
  await page.keyboard.press("Escape");
  expect(!(await isOpen(page)), "Escape closes");
  expect((await page.inputValue("#password")) === "", "Escape discards");
  await page.goto(`${url}/login?lang=ja`);
  await page.locator("#password + .pw-row .kb-open").click();
  await shot(page, "kb-07-keyboard-phone-ja");
  await page.locator("#kb .kb-cancel").click();
  await ctx.close();
  console.log("software keyboard phone journey: ok");
}

// 「パスワードを表示する」 on a one-time password (masked, as in the seeds), and every password field
// of the forced change with its keyboard; the console login too.
async function showCodeAndOtherPages(browser) {
  const ctx = await newContext(browser, { width: 1024, height: 768 });
  const page = await ctx.newPage();
  await page.goto(`${url}/login`);
  await page.fill("#login_id", "kbmail");
  await page.fill("#password", "kabu2026xyz");
  await submit(page);
  await page.waitForURL(/\/login\/second-factor$/);
  const m = await mail("kbmail@example.co.jp");
  await page.fill("#otp", m.code);
  expect((await page.getAttribute("#otp", "type")) === "password", "the code is masked");
  await page.check("#show-otp");
  expect((await page.getAttribute("#otp", "type")) === "text", "the code is shown");
  expect((await page.locator(".kb-open").count()) === 0, "no keyboard for codes");
  await shot(page, "kb-08-code-shown");
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await Promise.all([page.waitForLoadState("load"), page.locator("form[action='/logout'] button").click()]);
  await page.waitForURL(/done=logout/);

  await page.goto(`${url}/login`);
  await page.fill("#login_id", "kbtemp");
  await page.fill("#password", "Temp2026ab");
  await submit(page);
  await page.waitForURL(/\/login\/password-change$/);
  expect((await page.locator("main .kb-open").count()) === 3, "a keyboard for each of the 3 fields");
  expect((await page.locator("main .pw-row input[type=checkbox]").count()) === 3, "a checkbox for each");
  await page.locator("#new_password + .pw-row .kb-open").click();
  expect((await page.locator("#kb h2").innerText()).includes("新しいパスワード"), "names the field");
  await typeOnKeyboard(page, "Nekko2026z");
  await page.locator("#kb .kb-ok").click();
  expect((await page.locator('li[data-rule="length"].met').count()) === 1, "the live check saw it");
  await shot(page, "kb-09-password-change");

  await page.goto(`${url}/admin/login`);
  expect((await page.locator("main .kb-open").count()) === 1, "the console's password");
  expect((await page.locator("main .pw-row input[type=checkbox]").count()) === 2, "password and code");
  await shot(page, "kb-10-console-login");
  await ctx.close();
  console.log("show password journey: ok");
}

// Issue 17 item 6: the page's language follows the customer's choice (?lang=, its cookie), the
// login's language once known, the browser's Accept-Language, then Japanese.
async function language(browser) {
  const en = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "en-US" });
  let page = await en.newPage();
  await page.goto(`${url}/login`);
  expect((await page.title()).startsWith("Log in"), "Accept-Language: en");
  expect((await page.locator("label[for=show-password]").innerText()) === "Show password", "helpers in English");
  await shot(page, "lang-01-login-accept-language-en");
  await en.close();

  const ja = await newContext(browser, { width: 390, height: 844 });
  page = await ja.newPage();
  const link = `${url}${process.env.SEKISHO_EN_SETUP}`;
  await page.goto(link);
  const body = await text(page);
  expect(body.includes("Password rules"), "the login's language (en) over Accept-Language (ja)");
  expect(body.includes("8 to 16 characters") && !body.includes("8characters"), `the length rule: ${body}`);
  await page.locator("#new_password + .pw-row .kb-open").click();
  expect((await page.locator("#kb h2").innerText()).includes("Software keyboard"), "keyboard in English");
  await shot(page, "lang-02-setup-login-language-en");
  await page.locator("#kb .kb-cancel").click();
  await page.goto(`${link}?lang=ja`);
  expect((await text(page)).includes("パスワードの条件"), "the customer's choice wins");
  expect((await text(page)).includes("8文字以上16文字以下"), "the Japanese length rule");
  await page.goto(link);
  expect((await text(page)).includes("パスワードの条件"), "the choice is remembered");
  await shot(page, "lang-03-setup-chosen-ja");
  await ja.close();
  console.log("language journey: ok");
}

await run(keyboardLogin, keyboardPhone, showCodeAndOtherPages, language);
