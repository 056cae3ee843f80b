// Step-up confirmation in a real browser: the relying app asks Sekisho to have the customer
// confirm a withdrawal, the customer (signed in) sees it on Sekisho's page and confirms with a
// code from the authenticator app (oathtool), returns to the app, and the app fetches the proof
// and verifies it knowing only the published key set. See lib.mjs for what the harness passes.
import { createPublicKey, verify } from "node:crypto";
import { url, now, advance, totp, shot, expect, text, submit, newContext, loginWith, run } from "./lib.mjs";

const TOKEN = process.env.SEKISHO_STEP_UP_TOKEN;
const KEY = process.env.SEKISHO_TOTP_KEY;
const LOGIN = process.env.SEKISHO_LOGIN;
const DONE = "https://trade.example.co.jp/withdraw/done?ref=W-77";

async function api(method, path, body) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: await r.json() };
}

// What the app asks for.
async function ask(description, value) {
  const r = await api("POST", "/api/v1/step-up", {
    login_id: LOGIN,
    operation: { kind: "withdrawal", description, amount: { value, currency: "JPY" } },
    return_to: DONE,
  });
  expect(r.status === 201, `step-up created (${r.status} ${JSON.stringify(r.json)})`);
  return { id: r.json.id, path: new URL(r.json.url).pathname };
}

// Verifies a compact JWS with only the JWK Set from the public endpoint.
async function verifyProof(jws) {
  const set = await (await fetch(`${url}/.well-known/jwks.json`)).json();
  const [h, p, s] = jws.split(".");
  const header = JSON.parse(Buffer.from(h, "base64url").toString());
  expect(header.alg === "EdDSA" && header.typ === "step-up+jwt", "proof header");
  const jwk = set.keys.find((k) => k.kid === header.kid);
  expect(jwk, "the proof's key is published");
  const key = createPublicKey({ key: jwk, format: "jwk" });
  const ok = verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, "base64url"));
  return { ok, claims: JSON.parse(Buffer.from(p, "base64url").toString()) };
}

async function confirmWithdrawal(browser) {
  const ctx = await newContext(browser, { width: 390, height: 844 });
  const page = await ctx.newPage();
  // The customer is signed in to Sekisho (password and the app's code).
  await page.goto(`${url}/login`);
  await loginWith(page, LOGIN, "abc12345");
  await page.waitForURL(/\/login\/second-factor$/);
  await page.fill("#otp", totp(KEY, await now()));
  await submit(page);
  await page.waitForURL(/\/account\/security$/);
  await advance(30);

  const desc = "出金 1,500,000円 → みずほ銀行 本店 普通 1234567";
  const req = await ask(desc, "1500000");
  await page.goto(`${url}${req.path}`);
  const shown = await text(page);
  expect(shown.includes("出金") && shown.includes("1,500,000 JPY"), "kind and amount shown");
  expect(shown.includes("みずほ銀行 本店 普通 1234567"), "description shown");
  expect(shown.includes("trade-web"), "requesting app shown");
  await shot(page, "40-step-up-confirm");
  // A wrong code first: refused on the page with its code.
  await page.fill("#otp", "000000");
  await submit(page);
  expect((await text(page)).includes("SKS-LGN-0007"), "wrong code refused");
  await shot(page, "41-step-up-wrong-code");
  const pending = await api("GET", `/api/v1/step-up/${req.id}`);
  expect(pending.json.state === "pending" && !pending.json.proof, "still pending, no proof");
  // The right code: back to the app.
  await page.fill("#otp", totp(KEY, await now()));
  await Promise.all([page.waitForURL(DONE), page.locator("#confirm").click()]);
  expect((await page.locator("h1").innerText()).includes("Trade app"), "back at the app");

  // The app fetches the proof (once) and verifies it with the published key only.
  const done = await api("GET", `/api/v1/step-up/${req.id}`);
  expect(done.json.state === "confirmed" && done.json.method === "totp", "confirmed with totp");
  const { ok, claims } = await verifyProof(done.json.proof);
  expect(ok, "signature verifies with the JWKS");
  expect(claims.sub === LOGIN && claims.jti === req.id && claims.aud === "trade-web", "sub, jti, aud");
  expect(claims.operation.description === desc && claims.operation.amount.value === "1500000", "operation");
  expect(claims.method === "totp" && claims.amr.includes("otp"), "method and amr");
  expect(claims.exp - claims.iat === 300 && claims.iat === Number(await now()), "short-lived, signed now");
  // A changed amount does not verify.
  const [h, , s] = done.json.proof.split(".");
  const forged = { ...claims, operation: { ...claims.operation, amount: { value: "99000000", currency: "JPY" } } };
  const bad = await verifyProof(`${h}.${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${s}`);
  expect(!bad.ok, "a tampered proof fails");
  const again = await api("GET", `/api/v1/step-up/${req.id}`);
  expect(!again.json.proof && again.json.proof_taken === true, "the proof is handed out once");

  // The used request has its own page.
  await page.goto(`${url}${req.path}`);
  expect((await text(page)).includes("SKS-STP-0003"), "already answered");
  await shot(page, "42-step-up-finished");
  await ctx.close();
}

// In English: a customer not yet signed in follows the step-up link through the login and back,
// sees a change of the withdrawal account and cancels it; then an expired request.
async function cancelInEnglish(browser) {
  const ctx = await newContext(browser, { width: 1280, height: 900 });
  const page = await ctx.newPage();
  await page.goto(`${url}/login?lang=en`);
  await advance(30);
  const r = await api("POST", "/api/v1/step-up", {
    login_id: LOGIN,
    operation: { kind: "withdrawal_account_change", description: "New withdrawal account: MUFG Bank, Shinjuku branch, ordinary 7654321" },
    return_to: DONE,
  });
  const path = new URL(r.json.url).pathname;
  // Not signed in yet: the step-up link leads through the login and back.
  await page.goto(`${url}${path}`);
  await page.waitForURL(/\/login\?return_to=/);
  await loginWith(page, LOGIN, "abc12345");
  await page.waitForURL(/\/login\/second-factor$/);
  await page.fill("#otp", totp(KEY, await now()));
  await Promise.all([page.waitForURL(`${url}${path}`), page.locator("main form button[type=submit]").first().click()]);
  const shown = await text(page);
  expect(shown.includes("Change of withdrawal account") && shown.includes("MUFG Bank"), "English page");
  await shot(page, "43-step-up-en");
  await Promise.all([page.waitForURL(DONE), page.locator("#refuse").click()]);
  const answered = await api("GET", `/api/v1/step-up/${r.json.id}`);
  expect(answered.json.state === "refused" && !answered.json.proof, "refused, no proof");

  const late = await ask("出金 30,000円", "30000");
  await advance(601);
  await page.goto(`${url}${late.path}`);
  expect((await text(page)).includes("SKS-STP-0002"), "expired page");
  await shot(page, "44-step-up-expired");
  await ctx.close();
}

await run(confirmWithdrawal, cancelInEnglish);
console.log("step-up journeys passed");
