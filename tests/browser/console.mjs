// The operator console (/admin) in a real browser; started by
// crates/server/tests/api/console_browser.rs, which passes the two operators' setup paths:
//   SEKISHO_ADMIN_SETUP    an admin operator's setup link (name "suzuki")
//   SEKISHO_SUPPORT_SETUP  a support operator's setup link (name "desk")
import { readFileSync } from "node:fs";
import { url, now, advance, mail, totp, shot, expect, text, submit, newContext, run } from "./lib.mjs";

const OPR_PASSWORD = "Opr-pass-2026x";
const CUSTOMER = "watanabe";
const CUSTOMER_MAIL = "watanabe@example.co.jp";
const CUSTOMER_PASSWORD = "Wata2026nabe";

const click = (page, sel) => Promise.all([page.waitForLoadState("load"), page.locator(sel).click()]);
const flagsOf = async (page, sel) =>
  page.locator(`${sel} [data-flag]`).evaluateAll((els) => els.map((e) => e.getAttribute("data-flag")));

// The operator's first setup (password, then the authenticator app) and the console login.
async function operatorLogin(page, setupPath, name, prefix) {
  await page.goto(`${url}${setupPath}`);
  await page.fill("#new_password", OPR_PASSWORD);
  await page.fill("#confirm_password", OPR_PASSWORD);
  await submit(page);
  const key = (await page.locator("#secret-key").innerText()).trim();
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  expect((await text(page)).includes("初期設定が完了しました"), `${name}: setup done`);
  await advance(30);
  await page.goto(`${url}/admin/login`);
  await page.fill("#name", name);
  await page.fill("#password", OPR_PASSWORD);
  await page.fill("#otp", totp(key, await now()));
  await submit(page);
  await page.waitForURL(/\/admin$/);
  await shot(page, `${prefix}-console-home`);
  return key;
}

// The customer's login with the password; answers the page at the second step.
async function customerLogin(page) {
  await page.goto(`${url}/login`);
  await page.fill("#login_id", CUSTOMER);
  await page.fill("#password", CUSTOMER_PASSWORD);
  await submit(page);
  await page.waitForURL(/\/login\/second-factor$/);
}

async function adminJourney(browser) {
  const octx = await newContext(browser, { width: 1280, height: 900 });
  const op = await octx.newPage();
  await operatorLogin(op, process.env.SEKISHO_ADMIN_SETUP, "suzuki", "50");

  // Create a login (Japanese by default).
  await click(op, "nav.console-nav a[href='/admin/logins/new']");
  expect((await op.title()).startsWith("ログインの作成"), "create page in Japanese");
  await op.fill("#login_id", CUSTOMER);
  await op.fill("#display_name", "渡辺 健");
  await op.fill("#email", CUSTOMER_MAIL);
  await op.selectOption("#second_factor", "totp");
  await shot(op, "51-console-create-login");
  await submit(op);
  await op.waitForURL(/\/admin\/logins\/watanabe\?done=created$/);
  let flags = await flagsOf(op, "#flags");
  expect(
    flags.includes("second_factor_not_registered") && flags.includes("password_erased"),
    `new login flags: ${flags}`,
  );

  // Change Credentials, one form: erasing asks for confirmation and names what goes (issue 17
  // item 11); cancelled, nothing changes.
  await op.check("#cred-erase");
  await op.uncheck("#cred-password");
  await click(op, "#cred-submit");
  await op.waitForURL(/\/admin\/logins\/watanabe\/credentials$/);
  const erased = await op.locator("#cred-erased").innerText();
  expect(erased.includes("二段階認証キー") && erased.includes("セッション"), `what will be erased: ${erased}`);
  expect(!erased.includes("パスワード"), "the password is not named when not chosen");
  await shot(op, "51b-console-cred-confirm");
  await click(op, "#cred-cancel");
  await op.waitForURL(/\/admin\/logins\/watanabe$/);
  // A link for both, e-mailed: no erasure, so no confirmation.
  await op.check("#cred-email");
  await click(op, "#cred-submit");
  expect((await op.locator("#setup-url").innerText()).includes("/setup/skst_"), "link shown once");
  expect((await op.locator("#link-emailed").innerText()).includes(CUSTOMER_MAIL), "mailed to the customer");
  flags = await flagsOf(op, "#flags");
  expect(flags.includes("setup_link_pending"), `pending flag: ${flags}`);
  await shot(op, "52-console-link-sent");
  await op.goto(`${url}/admin/logins?q=wata`);
  flags = await flagsOf(op, `tr[data-login='${CUSTOMER}']`);
  expect(
    flags.includes("setup_link_pending") && flags.includes("second_factor_not_registered"),
    `list flags: ${flags}`,
  );
  await shot(op, "53-console-logins-flags");

  // The customer opens the link from the mail and finishes the setup.
  const m = await mail(CUSTOMER_MAIL, "setup_link");
  expect(
    m.text.includes("渡辺 健 様") && m.text.includes("UTC") && m.text.includes("(JST)"),
    "welcome mail with expiry",
  );
  const tok = (m.text.match(/\/setup\/(skst_[A-Za-z0-9_-]+)/) || [])[1];
  expect(tok, "setup link in the mail");
  const cctx = await newContext(browser, { width: 390, height: 844 });
  const cust = await cctx.newPage();
  await cust.goto(`${url}/setup/${tok}`);
  await cust.locator("#new_password").pressSequentially(CUSTOMER_PASSWORD);
  await cust.fill("#confirm_password", CUSTOMER_PASSWORD);
  await submit(cust);
  await cust.locator("details.key summary").click();
  const key = (await cust.locator("#secret-key").innerText()).trim();
  await cust.fill("#otp", totp(key, await now()));
  await submit(cust);
  expect((await text(cust)).includes("初期設定が完了しました"), "customer setup done");

  // The flags are gone from the list.
  await op.goto(`${url}/admin/logins?q=wata`);
  flags = await flagsOf(op, `tr[data-login='${CUSTOMER}']`);
  expect(
    !flags.includes("second_factor_not_registered") && !flags.includes("setup_link_pending"),
    `flags after setup: ${flags}`,
  );
  await shot(op, "54-console-flag-gone");

  // Ten wrong codes lock the authenticator app.
  await advance(60);
  await customerLogin(cust);
  for (let i = 0; i < 10; i++) {
    await cust.fill("#otp", "000000");
    await submit(cust);
  }
  expect((await text(cust)).includes("SKS-LGN-0008"), "locked after ten wrong codes");
  await op.goto(`${url}/admin/logins/${CUSTOMER}`);
  flags = await flagsOf(op, "#flags");
  expect(flags.includes("locked_second_factor"), `locked flag: ${flags}`);
  await shot(op, "55-console-locked");
  await click(op, "#unlock-form button");
  // The desk is told which lock it cleared.
  await op.waitForURL(/done=unlocked&cleared=totp$/);
  expect(
    (await text(op)).includes("ロックを解除しました。解除したロック：認証アプリ"),
    "the unlock names the app's lock",
  );
  flags = await flagsOf(op, "#flags");
  expect(!flags.some((f) => f.startsWith("locked")), `unlocked: ${flags}`);
  await shot(op, "56-console-unlocked");
  // The customer gets in again.
  await advance(60);
  await customerLogin(cust);
  await cust.fill("#otp", totp(key, await now()));
  await submit(cust);
  await cust.waitForURL(/\/account\/security$/);
  await cctx.close();

  // Change Activity History: the table, a filter by type, the CSV.
  await click(op, "nav.console-nav a[href='/admin/history']");
  await op.fill("#login_id", CUSTOMER);
  await submit(op);
  const all = await text(op);
  expect(all.includes("オペレーター suzuki") && all.includes(CUSTOMER), "history rows");
  await shot(op, "57-console-history");
  await op.selectOption("#event_type", "login_unlocked");
  await submit(op);
  const rows = await op.locator("#history tbody tr").count();
  expect(rows === 1, `one unlock in the history, got ${rows}`);
  const [dl] = await Promise.all([op.waitForEvent("download"), op.locator("#csv-export").click()]);
  const csv = readFileSync(await dl.path(), "utf8");
  expect(
    csv.includes("イベントID") && csv.includes("login_unlocked") && !csv.includes("setup_link_used"),
    `CSV export: ${csv}`,
  );

  // English.
  await op.goto(`${url}/admin/logins?lang=en`);
  expect((await op.title()).startsWith("Logins"), "English title");
  expect((await text(op)).includes("Login ID"), "English columns");
  await shot(op, "58-console-logins-en");
  await op.goto(`${url}/admin/logins/${CUSTOMER}`);
  expect((await text(op)).includes("Change Credentials"), "English dialog");
  await shot(op, "59-console-login-en");
  await op.goto(`${url}/admin/logins?lang=ja`);
  await octx.close();
  console.log("console admin journey: ok");
}

async function supportJourney(browser) {
  await advance(60);
  const ctx = await newContext(browser, { width: 1280, height: 900 });
  const page = await ctx.newPage();
  await operatorLogin(page, process.env.SEKISHO_SUPPORT_SETUP, "desk", "60");
  expect((await page.locator("#operator-role").innerText()).includes("サポート"), "support role");
  await page.goto(`${url}/admin/logins/${CUSTOMER}`);
  await page.selectOption("#second_factor", "email");
  await click(page, "#auth-form button");
  const t = await text(page);
  expect(t.includes("SKS-OPR-0001"), "admin-only refusal with its code");
  await shot(page, "61-console-support-refused");
  await page.goto(`${url}/admin/logins/${CUSTOMER}`);
  expect((await page.locator("#second_factor").inputValue()) === "totp", "nothing changed");
  await ctx.close();
  console.log("console support journey: ok");
}

await run(adminJourney, supportJourney);
