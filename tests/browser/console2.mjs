// The console's passkeys section in a real browser; started by
// crates/server/tests/api/console2_browser.rs, which prepares login "pkb0001" with a passkey
// whose signature counter went backwards and passes an admin operator's setup path:
//   SEKISHO_ADMIN_SETUP  the admin operator's setup link (name "kato")
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

async function regressedPasskey(browser) {
  const ctx = await newContext(browser, { width: 1280, height: 900 });
  const op = await ctx.newPage();
  await operatorLogin(op, process.env.SEKISHO_ADMIN_SETUP, "kato");

  // The list: the red flag at a glance.
  await op.goto(`${url}/admin/logins?q=pkb`);
  const flags = await op
    .locator("[data-login='pkb0001'] [data-flag]")
    .evaluateAll((els) => els.map((e) => e.getAttribute("data-flag")));
  expect(flags.includes("passkey_counter_regressed"), `list flag: ${flags}`);
  const red = await op
    .locator("[data-login='pkb0001'] .flag.passkey_counter_regressed")
    .evaluate((e) => getComputedStyle(e).color);
  expect(red === "rgb(109, 0, 20)", `the flag is red: ${red}`);
  await shot(op, "80-console2-list-regressed-passkey");

  // The detail: the passkey with its counter, backup flags and the warning.
  await op.goto(`${url}/admin/logins/pkb0001`);
  const row = op.locator("#passkeys tr.regressed");
  expect((await row.count()) === 1, "one suspended passkey");
  const cells = await row.locator("td").allInnerTexts();
  expect(cells[0].includes("iPhone 15") && cells[0].includes("署名カウンターが逆行しました"), `row: ${cells}`);
  expect(cells[3].trim() === "11", `counter: ${cells[3]}`);
  expect((await op.locator("#recovery").innerText()).trim() === "未発行", "recovery codes");
  await shot(op, "81-console2-login-passkeys");

  // The same in English, then the removal.
  await op.goto(`${url}/admin/logins/pkb0001?lang=en`);
  expect((await text(op)).includes("possible clone"), "English warning");
  await shot(op, "82-console2-login-passkeys-en");
  await Promise.all([op.waitForLoadState("load"), row.locator("button.danger").click()]);
  await op.waitForURL(/done=passkey_removed/);
  expect((await text(op)).includes("The passkey was removed."), "removed notice");
  expect((await op.locator("#passkeys tr.regressed").count()) === 0, "gone");
  await shot(op, "83-console2-passkey-removed");
  await ctx.close();
}

await run(regressedPasskey);
