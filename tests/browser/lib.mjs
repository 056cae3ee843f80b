// Shared helpers for the browser journeys (chromium via playwright-core). Each journey script
// is started by a test in crates/server/tests/api/browser.rs (`run_script`), which passes:
//   SEKISHO_URL          the server under test
//   SEKISHO_CONTROL_URL  the test harness's control endpoint (server time, clock, mailbox)
//   SEKISHO_CHROMIUM     the chromium binary
//   SEKISHO_SCREENSHOTS  where to keep a screenshot of each page
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";

export const url = process.env.SEKISHO_URL;
export const ctl = process.env.SEKISHO_CONTROL_URL;
export const shots = process.env.SEKISHO_SCREENSHOTS;
export const APP = "https://trade.example.co.jp/home";

export const now = async () => (await fetch(`${ctl}/now`)).text();
export const advance = async (secs) => fetch(`${ctl}/advance?secs=${secs}`, { method: "POST" });
export const mail = async (to, kind = "email_code") =>
  (await fetch(`${ctl}/mail?to=${encodeURIComponent(to)}&kind=${kind}`)).json();
export const totp = (key, t) =>
  execFileSync("oathtool", ["--totp", "-b", key, "--now", `@${t}`]).toString().trim();
export const shot = (page, name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
export function expect(cond, what) {
  if (!cond) throw new Error(`expected: ${what}`);
}
export async function text(page) {
  return page.locator("main").innerText();
}
export async function submit(page) {
  await Promise.all([page.waitForLoadState("load"), page.locator("main form button[type=submit]").first().click()]);
}

let current = null; // the page to photograph if a journey fails

export async function newContext(browser, viewport) {
  const ctx = await browser.newContext({ viewport, locale: "ja-JP" });
  ctx.on("page", (p) => (current = p));
  // The relying app the customer returns to.
  await ctx.route("https://trade.example.co.jp/**", (r) =>
    r.fulfill({ status: 200, contentType: "text/html", body: "<h1>Trade app</h1>" }),
  );
  return ctx;
}

export async function loginWith(page, id, password) {
  await page.fill("#login_id", id);
  await page.fill("#password", password);
  await submit(page);
}

// Launches chromium, runs the journeys in order, and on failure keeps a screenshot and the text
// of the page that failed.
export async function run(...journeys) {
  const browser = await chromium.launch({
    executablePath: process.env.SEKISHO_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox"],
  });
  try {
    for (const journey of journeys) await journey(browser);
  } catch (e) {
    if (current) await shot(current, `failure-${journeys.map((j) => j.name).join("-")}`).catch(() => {});
    if (current) console.error(`failed on ${current.url()}:\n${await current.locator("body").innerText().catch(() => "")}`);
    throw e;
  } finally {
    await browser.close();
  }
}
