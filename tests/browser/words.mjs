// What the pages say (issue 17 items 5 and 12); started by crates/server/tests/api/words_browser.rs:
//   SEKISHO_SAMPLES       passwords with the server's verdict on each ({typed, ok, rule}), for the
//                         login of SEKISHO_SETUP (the verdicts come from PasswordPolicy::check)
//   SEKISHO_SETUP         a setup link (Japanese login); SEKISHO_SETUP_EN one of an English login
//   SEKISHO_PRESET        "jp-broker" or "nist-800-63b-4"
//   SEKISHO_OPERATOR_SETUP  an operator's setup link (operator "yoshida"), jp-broker only
// With jp-broker, the logins: moriya (e-mail codes to a separate delivery address), fx0000011 (a
// token login without its token), sato5 (temporary password "Temp2026ab").
import { url, now, advance, mail, totp, shot, expect, text, submit, newContext, loginWith, run } from "./lib.mjs";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const preset = process.env.SEKISHO_PRESET;
const samples = JSON.parse(process.env.SEKISHO_SAMPLES);
const tag = preset === "jp-broker" ? "jp" : "nist";

const click = (page, selector) => Promise.all([page.waitForLoadState("load"), page.locator(selector).click()]);

async function shots(page, name) {
  await page.setViewportSize(PHONE);
  await shot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
  await shot(page, `${name}-desktop`);
}

// The box's verdict: the rules it marks met and unmet, and those it checks as one types.
async function boxState(page, box = "#policy") {
  return page.locator(`${box} li[data-rule]`).evaluateAll((ls) => ({
    live: ls.map((l) => l.getAttribute("data-rule")),
    met: ls.filter((l) => l.classList.contains("met")).map((l) => l.getAttribute("data-rule")),
    unmet: ls.filter((l) => l.classList.contains("unmet")).map((l) => l.getAttribute("data-rule")),
  }));
}

// Types each sample and compares the box with the server's verdict: every rule ticked exactly
// when the server accepts, and the rule the server names marked unmet when it refuses.
async function mirrors(page) {
  for (const s of samples) {
    await page.fill("#new_password", s.typed);
    // The common-password rule waits for the list once.
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll("#policy li[data-rule]")).every(
        (l) => l.classList.contains("met") || l.classList.contains("unmet"),
      ),
    );
    const b = await boxState(page);
    if (s.ok) {
      expect(b.unmet.length === 0 && b.met.length === b.live.length, `${s.typed}: all ticked (${JSON.stringify(b)})`);
    } else {
      expect(b.unmet.includes(s.rule), `${s.typed}: ${s.rule} unmet as the server says (${JSON.stringify(b)})`);
    }
  }
}

async function customerRules(browser) {
  const ctx = await newContext(browser, DESKTOP);
  const page = await ctx.newPage();
  await page.goto(`${url}${process.env.SEKISHO_SETUP}`);
  const box = await page.locator("#policy").innerText();
  if (preset === "jp-broker") {
    expect(box.includes("ログインIDを含まない"), "the rule the server applies");
    expect(!box.includes("同じでない"), "not 'the same as'");
    expect(box.includes("8文字以上16文字以下"), "jp-broker lengths");
  } else {
    expect(box.includes("15文字以上64文字以下"), "NIST lengths without a second factor");
    expect(box.includes("よく使われるパスワードではない"), "the blocklist");
    expect(!box.includes("英字と数字"), "no composition rule");
  }
  expect(
    (await page.locator(".policy .note").innerText()).includes("全角で入力した英数字・記号は、半角として扱います"),
    "full-width said",
  );
  await mirrors(page);
  if (preset === "jp-broker") {
    // The old box ticked this one; the server refuses it, and the box says why.
    await page.fill("#new_password", "Nakamura2026");
    await page.fill("#confirm_password", "Nakamura2026");
    expect((await boxState(page)).unmet.join() === "login_id", "contains the ID: unmet as typed");
    await submit(page);
    expect((await page.locator("[role=alert]").innerText()).includes("ログインIDを含めることはできません"), "refused");
    expect((await boxState(page)).unmet.join() === "login_id", "the refused rule marked");
    await shots(page, `rules-${tag}-01-refused`);
    // Full-width, as a Japanese IME types it: read half-width, accepted.
    await page.fill("#new_password", "ｋａｂｕ２０２６ｘｙ");
    await page.fill("#confirm_password", "ｋａｂｕ２０２６ｘｙ");
    const b = await boxState(page);
    expect(b.unmet.length === 0 && b.met.length === b.live.length, "full-width ticked");
    await shots(page, `rules-${tag}-02-full-width`);
    await submit(page);
    // Step 2 of the wizard: 2.1 and 2.2 under the steps line, no half-width colon.
    const t = await text(page);
    expect(t.includes("1. パスワードの設定(完了) → 2.1"), "the steps line");
    expect(t.includes("2.1 シークレットキーの登録") && t.includes("2.2 ワンタイムパスワードの確認"), "numbered");
    expect(!t.includes("登録:") && !t.includes("確認:"), "no half-width colon");
    await shots(page, `rules-${tag}-03-totp-steps`);
  } else {
    await page.fill("#new_password", "１ｑａｚ２ｗｓｘ３ｅｄｃ４ｒｆｖ");
    expect((await boxState(page)).unmet.join() === "common", "a common password typed full-width");
    await shots(page, `rules-${tag}-01-common`);
  }
  // English, for an English login.
  await page.goto(`${url}${process.env.SEKISHO_SETUP_EN}`);
  const en = await page.locator("#policy").innerText();
  expect(en.includes("Does not contain your login ID"), "English rule");
  expect(!en.includes("文字"), "no Japanese in the English box");
  await page.fill("#new_password", "ａｂｃ１２３４５６７８９０ｘｙｚ");
  await shots(page, `rules-${tag}-04-en`);
  await ctx.close();
}

// The operator's setup shows the rules before refusing.
async function operatorRules(browser) {
  const ctx = await newContext(browser, DESKTOP);
  const page = await ctx.newPage();
  await page.goto(`${url}${process.env.SEKISHO_OPERATOR_SETUP}`);
  expect((await page.locator("#policy").innerText()).includes("オペレーター名を含まない"), "rules on the console");
  await page.fill("#new_password", "yoshida2026X");
  expect((await boxState(page)).unmet.join() === "login_id", "the operator's name");
  await shots(page, "rules-jp-05-operator");
  await page.goto(`${url}${process.env.SEKISHO_OPERATOR_SETUP}?lang=en`);
  expect((await page.locator(".policy").innerText()).includes("Password rules"), "English console box");
  await page.fill("#new_password", "Opr-pass-2026x");
  const b = await boxState(page);
  expect(b.unmet.length === 0, "a good one");
  await shots(page, "rules-jp-06-operator-en");
  await page.goto(`${url}${process.env.SEKISHO_OPERATOR_SETUP}?lang=ja`);
  await page.fill("#new_password", "Opr-pass-2026x");
  await page.fill("#confirm_password", "Opr-pass-2026x");
  await submit(page);
  const key = (await page.locator("#secret-key").innerText()).trim();
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  expect((await text(page)).includes("初期設定が完了しました"), "operator set up");
  await ctx.close();
  return key;
}

// Item 12: the words of the second step, the token registration, the forced change and the
// history, in Japanese and English.
async function polish(browser, operatorKey) {
  const ctx = await newContext(browser, DESKTOP);
  const page = await ctx.newPage();
  // A code to the separate delivery address says so.
  await page.goto(`${url}/login?lang=ja`);
  await loginWith(page, "moriya", "kabu2026xyz");
  await page.waitForURL(/\/login\/second-factor$/);
  let t = await text(page);
  expect(t.includes("ご指定の送信先メールアドレスに認証コードを送信しました"), "the delivery address");
  expect(!t.includes("ご登録のメールアドレスに認証コード"), "not the registered address");
  await mail("moriya.phone@example.ne.jp");
  await page.fill("#otp", "000000");
  await submit(page);
  await shots(page, "polish-01-delivery-address");
  await page.goto(`${url}/login/second-factor?lang=en`);
  expect((await text(page)).includes("to the delivery address you registered for codes"), "English");
  await shots(page, "polish-02-delivery-address-en");
  // A token login's registration: the app's credential ID or the token's back.
  await page.goto(`${url}/login?lang=ja`);
  await loginWith(page, "fx0000011", "fxtrade2026c");
  await page.waitForURL(/\/login\/token\/register$/);
  t = await text(page);
  expect(t.includes("「クレデンシャルID」") && t.includes("ハードウェアトークンでは裏面"), "app and token");
  expect(!t.includes("裏面に記載のトークンIDと、ボタンを押して"), "not the token-only text");
  await shots(page, "polish-03-token-register");
  await page.goto(`${url}/login/token/register?lang=en`);
  expect((await text(page)).includes("“Credential ID”"), "English token text");
  await shots(page, "polish-04-token-register-en");
  // The forced change: two sentences with no space between them.
  await page.goto(`${url}/login?lang=ja`);
  await loginWith(page, "sato5", "Temp2026ab");
  await page.waitForURL(/\/login\/password-change$/);
  t = await text(page);
  expect(t.includes("仮パスワードでログインしました。ログインを続けるには"), `no space after 。: ${t}`);
  await shots(page, "polish-05-password-change");
  await ctx.close();
  // The history on the console, in Japanese.
  const octx = await newContext(browser, DESKTOP);
  const op = await octx.newPage();
  await advance(30);
  await op.goto(`${url}/admin/login?lang=ja`);
  await op.fill("#name", "yoshida");
  await op.fill("#password", "Opr-pass-2026x");
  await op.fill("#otp", totp(operatorKey, await now()));
  await submit(op);
  await op.waitForURL(/\/admin$/);
  await op.goto(`${url}/admin/history?login_id=moriya`);
  const rows = await op.locator("#history tbody tr").allInnerTexts();
  const failed = rows.find((r) => r.includes("二段階認証失敗"));
  expect(failed && failed.includes("二段階認証失敗(メール認証コード、コードの誤り)"), `in Japanese: ${failed}`);
  expect(failed.includes("二段階認証\t") && !failed.includes("second_factor"), `the group in words: ${failed}`);
  expect(!rows.some((r) => /wrong|sent to|changed/.test(r)), `no English left: ${rows.join("\n")}`);
  await shots(op, "polish-06-history");
  await op.goto(`${url}/admin/history?login_id=moriya&lang=en`);
  const en = await op.locator("#history tbody tr").allInnerTexts();
  expect(
    en.some((r) => r.includes("Second factor failed (e-mail code: wrong code)")),
    "English history",
  );
  await shots(op, "polish-07-history-en");
  await octx.close();
}

await run(async function words(browser) {
  await customerRules(browser);
  if (preset === "jp-broker") {
    const key = await operatorRules(browser);
    await polish(browser, key);
  }
});
