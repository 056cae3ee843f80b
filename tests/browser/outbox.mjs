// The console's back-channel logout outbox in a real browser; started by
// crates/server/tests/api/oidc_outbox_browser.rs, which queues three logouts for login
// "bo0002" (one given up, one delivered, one waiting for its next attempt) and passes:
//   SEKISHO_ADMIN_SETUP    the admin operator's setup link (name "kato")
//   SEKISHO_SUPPORT_SETUP  a support operator's setup link (name "desk")
import { url, now, advance, totp, shot, expect, text, submit, newContext, run } from "./lib.mjs";

const OPR_PASSWORD = "Opr-pass-2026x";

async function operatorLogin(page, setupPath, name) {
  await page.goto(`${url}${setupPath}`);
  await page.fill("#new_password", OPR_PASSWORD);
  await page.fill("#confirm_password", OPR_PASSWORD);
  await submit(page);
  const key = (await page.locator("#secret-key").innerText()).trim();
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  await advance(30);
  await page.goto(`${url}/admin/login`);
  await page.fill("#name", name);
  await page.fill("#password", OPR_PASSWORD);
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  await page.waitForURL(/\/admin$/);
}

const states = async (page) =>
  page.locator("#logouts tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-state")));

async function outbox(browser) {
  const ctx = await newContext(browser, { width: 1280, height: 900 });
  const op = await ctx.newPage();
  await operatorLogin(op, process.env.SEKISHO_ADMIN_SETUP, "kato");

  // From the console's navigation to the list: every logout, newest first.
  await Promise.all([op.waitForLoadState("load"), op.locator(".console-nav a[href='/admin/oidc/logouts']").click()]);
  expect((await op.title()).includes("バックチャネルログアウト通知"), `title: ${await op.title()}`);
  expect(JSON.stringify(await states(op)) === '["pending","sent","failed"]', `rows: ${await states(op)}`);
  const waiting = await op.locator("#logouts tr[data-state='pending'] td").allInnerTexts();
  expect(waiting[0].includes("関所トレード"), `client: ${waiting[0]}`);
  expect(waiting[1].trim() === "bo0002", `login: ${waiting[1]}`);
  expect(waiting[2].trim() === "送信待ち", `state: ${waiting[2]}`);
  expect(waiting[3].trim() === "1", `attempts: ${waiting[3]}`);
  expect(/JST/.test(waiting[4]), `next attempt: ${waiting[4]}`);
  expect(waiting[5].includes("connection refused"), `error: ${waiting[5]}`);
  const t = await text(op);
  for (const w of ["送信済み", "送信失敗", "パートナー資産管理", "試行回数", "次回送信予定", "直近のエラー"]) {
    expect(t.includes(w), `the page says ${w}`);
  }
  await shot(op, "84-console-logouts");

  // Only the given-up ones, then only one client's.
  await op.selectOption("#state", "failed");
  await submit(op);
  expect(JSON.stringify(await states(op)) === '["failed"]', `failed only: ${await states(op)}`);
  expect((await op.locator("#state").inputValue()) === "failed", "the filter stays chosen");
  await op.selectOption("#state", "");
  await op.selectOption("#client_id", { label: "関所トレード" });
  await submit(op);
  expect(JSON.stringify(await states(op)) === '["pending","sent"]', `one client: ${await states(op)}`);
  await op.selectOption("#state", "failed");
  await submit(op);
  expect((await text(op)).includes("該当するログアウト通知はありません。"), "nothing matches");
  await shot(op, "85-console-logouts-none");

  // In English.
  await op.goto(`${url}/admin/oidc/logouts?lang=en`);
  const en = await text(op);
  for (const w of ["Back-channel logouts", "Pending", "Delivered", "Given up", "Next attempt"]) {
    expect(en.includes(w), `English: ${w}`);
  }
  await shot(op, "86-console-logouts-en");
  await ctx.close();

  // A support operator (on a phone) is turned away with the catalogue's message.
  const phone = await newContext(browser, { width: 390, height: 844 });
  const p = await phone.newPage();
  await operatorLogin(p, process.env.SEKISHO_SUPPORT_SETUP, "desk");
  await p.goto(`${url}/admin/oidc/logouts`);
  expect((await text(p)).includes("SKS-OPR-0001"), "support refused");
  await shot(p, "87-console-logouts-support-refused-phone");
  await phone.close();
}

// On a phone: each cell says what it is, nothing scrolls sideways.
async function onPhone(browser) {
  const phone = await newContext(browser, { width: 390, height: 844 });
  const p = await phone.newPage();
  await operatorLogin(p, process.env.SEKISHO_ADMIN_SETUP_2, "sato");
  await p.goto(`${url}/admin/oidc/logouts`);
  const label = await p
    .locator("#logouts tr[data-state='pending'] td[data-label]")
    .first()
    .evaluate((e) => getComputedStyle(e, "::before").content);
  expect(label.includes("ログインID"), `cell label: ${label}`);
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  expect(width <= 390, `no sideways scrolling: ${width}`);
  await shot(p, "88-console-logouts-phone");
  await phone.close();
}

await run(outbox, onPhone);
