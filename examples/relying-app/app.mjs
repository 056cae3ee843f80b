// A small trading web app that signs its customers in through Sekisho with OpenID Connect.
//
// Read it top to bottom: it is what a broker's web team writes to plug in. The protocol work is
// done by openid-client (certified as a FAPI 2.0 relying party); this file only decides what to
// ask for and what to keep.
//
//   FAPI 2.0 client:  pushed authorization request (PAR) + PKCE (S256) + DPoP-bound tokens +
//                     private_key_jwt client authentication.
//   basic client:     client_secret_basic + PKCE (a CRM or back-office site).
//
// Configuration (environment):
//   SEKISHO_ISSUER       Sekisho's issuer, e.g. https://login.example-sec.co.jp
//   RP_BASE_URL          where this app is reached, e.g. https://trade.example-sec.co.jp
//   RP_PORT              the port to listen on (127.0.0.1)
//   RP_TLS_CERT/KEY      PEM files of this app's certificate and key (it serves HTTPS)
//   RP_CLIENT_ID         the client_id Sekisho's operator registered for this app
//   RP_PRIVATE_KEY       PEM (PKCS#8, P-256) of the key registered in the client's jwks, and
//   RP_KEY_ID            its kid: private_key_jwt.  Or:
//   RP_CLIENT_SECRET     client_secret_basic.
//   RP_DPOP=1            sender-constrain the tokens with DPoP (required for FAPI 2.0 clients)
//   RP_SCOPE             default "openid profile email login_id"
//   NODE_EXTRA_CA_CERTS  a CA to trust for Sekisho's certificate (tests use a test CA)
//
// Pages: /  (who is signed in), /login[?acr=…&prompt=…], /withdraw (a withdrawal the customer
// confirms at Sekisho), /withdrawal (what was confirmed), /callback, /logout, /logged-out.
// JSON for scripts: /session.json, POST /userinfo, /refresh, /introspect, /revoke,
// /backchannel-events.json; Sekisho posts to POST /backchannel-logout.

import * as client from "openid-client";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { createServer } from "node:https";
import { randomBytes, webcrypto } from "node:crypto";
import { readFileSync } from "node:fs";

const env = (k, d) => process.env[k] ?? d;
const ISSUER = new URL(env("SEKISHO_ISSUER"));
const BASE = env("RP_BASE_URL").replace(/\/$/, "");
const CALLBACK = `${BASE}/callback`;
const LOGGED_OUT = `${BASE}/logged-out`;
const SCOPE = env("RP_SCOPE", "openid profile email login_id");
const USE_DPOP = env("RP_DPOP") === "1";

// The levels of authentication the app can ask for (Sekisho's discovery lists them).
const ACR = {
  mfa: "http://schemas.openid.net/pape/policies/2007/06/multi-factor",
  phishing: "http://schemas.openid.net/pape/policies/2007/06/phishing-resistant",
};

// --- The client: discovery and client authentication ------------------------------------------

async function clientAuth() {
  if (env("RP_PRIVATE_KEY")) {
    const pem = readFileSync(env("RP_PRIVATE_KEY"), "utf8");
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    const key = await webcrypto.subtle.importKey("pkcs8", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    return client.PrivateKeyJwt({ key, kid: env("RP_KEY_ID") });
  }
  return client.ClientSecretBasic(env("RP_CLIENT_SECRET"));
}

let configuration;
async function config() {
  configuration ??= await client.discovery(
    ISSUER,
    env("RP_CLIENT_ID"),
    { id_token_signed_response_alg: env("RP_ID_TOKEN_ALG", "ES256") },
    await clientAuth(),
  );
  return configuration;
}

// --- Sessions of this app (in memory: a real app keeps them in its own store) -----------------

const sessions = new Map(); // cookie value -> { pending, tokens, claims, dpopKeys }
const backchannelEvents = [];

function session(req, res) {
  const id = /(?:^|;\s*)rp_session=([A-Za-z0-9_-]+)/.exec(req.headers.cookie ?? "")?.[1];
  if (id && sessions.has(id)) return sessions.get(id);
  const fresh = randomBytes(24).toString("base64url");
  const s = {};
  sessions.set(fresh, s);
  res.setHeader("set-cookie", `rp_session=${fresh}; Path=/; HttpOnly; Secure; SameSite=Lax`);
  return s;
}

// One DPoP key pair per browser session: the tokens are bound to it, so a stolen token is
// useless without the key (which never leaves this app).
async function dpop(s) {
  if (!USE_DPOP) return undefined;
  s.dpopKeys ??= await client.randomDPoPKeyPair("ES256");
  return client.getDPoPHandle(await config(), s.dpopKeys);
}

// An operation the customer confirms inside the flow (Rich Authorization Requests, RFC 9396):
// the app describes it in authorization_details, Sekisho shows it on its confirmation page and
// asks for the customer's second factor (a passkey where the firm requires one), and the token
// response and the DPoP-bound access token carry it as confirmed. The withdrawal API then
// checks one token instead of a separate proof.
function withdrawal(yen, account) {
  const amount = Number(yen);
  return [
    {
      type: "sekisho_operation",
      kind: "withdrawal",
      amount: String(amount),
      currency: "JPY",
      description: `出金 ${amount.toLocaleString("ja-JP")}円 → ${account}`,
    },
  ];
}

// --- The flow ---------------------------------------------------------------------------------

async function login(req, res, url, operation) {
  const s = session(req, res);
  const cfg = await config();
  const verifier = client.randomPKCECodeVerifier();
  s.pending = { verifier, state: client.randomState(), nonce: client.randomNonce(), operation: Boolean(operation) };
  const params = {
    redirect_uri: CALLBACK,
    scope: SCOPE,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state: s.pending.state,
    nonce: s.pending.nonce,
    ui_locales: url.searchParams.get("lang") ?? "ja",
  };
  const acr = ACR[url.searchParams.get("acr")];
  if (acr) params.acr_values = acr;
  if (url.searchParams.get("prompt")) params.prompt = url.searchParams.get("prompt");
  if (operation) params.authorization_details = JSON.stringify(operation);
  // PAR: the request goes to Sekisho server to server, authenticated; the browser only
  // carries a short-lived request_uri.
  const target = await client.buildAuthorizationUrlWithPAR(cfg, params, { DPoP: await dpop(s) });
  redirect(res, target.href);
}

async function callback(req, res, url) {
  const s = session(req, res);
  if (!s.pending) return send(res, 400, "text/plain", "no login in progress");
  const { verifier, state, nonce, operation } = s.pending;
  delete s.pending;
  const cfg = await config();
  try {
    const tokens = await client.authorizationCodeGrant(
      cfg,
      url,
      { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true },
      undefined,
      { DPoP: await dpop(s) },
    );
    s.tokens = tokens;
    s.claims = tokens.claims();
    // The ID token says who and how; the profile (name, e-mail, login ID) comes from UserInfo.
    s.profile = await client.fetchUserInfo(cfg, tokens.access_token, s.claims.sub, { DPoP: await dpop(s) });
    if (operation) {
      // What the customer confirmed, as Sekisho confirmed it (with the method used).
      s.operation = tokens.authorization_details ?? null;
      return redirect(res, `${BASE}/withdrawal`);
    }
    redirect(res, `${BASE}/`);
  } catch (e) {
    // An error the customer or Sekisho sent back (access_denied, login_required, …).
    s.error = { error: e.error ?? e.code, description: e.error_description ?? e.message };
    redirect(res, `${BASE}/`);
  }
}

async function logout(req, res) {
  const s = session(req, res);
  const cfg = await config();
  const target = client.buildEndSessionUrl(cfg, {
    id_token_hint: s.tokens?.id_token ?? "",
    post_logout_redirect_uri: LOGGED_OUT,
    state: (s.logoutState = client.randomState()),
  });
  delete s.tokens;
  delete s.claims;
  redirect(res, target.href);
}

// Back-channel logout: Sekisho tells the app a session ended. The logout token is a JWT signed
// with Sekisho's keys; verify it like an ID token, then end every app session it names.
const jwks = createRemoteJWKSet(new URL(`${ISSUER.href.replace(/\/$/, "")}/oidc/jwks`));
async function backchannel(body, res) {
  const token = new URLSearchParams(body).get("logout_token");
  try {
    const { payload } = await jwtVerify(token ?? "", jwks, {
      issuer: (await config()).serverMetadata().issuer,
      audience: env("RP_CLIENT_ID"),
      typ: "logout+jwt",
      maxTokenAge: "2 minutes",
    });
    const events = payload.events ?? {};
    if (!("http://schemas.openid.net/event/backchannel-logout" in events) || "nonce" in payload) {
      throw new Error("not a logout token");
    }
    let ended = 0;
    for (const s of sessions.values()) {
      const c = s.claims;
      if (c && ((payload.sid && c.sid === payload.sid) || (!payload.sid && c.sub === payload.sub))) {
        delete s.tokens;
        delete s.claims;
        ended += 1;
      }
    }
    backchannelEvents.push({ sub: payload.sub, sid: payload.sid, ended });
    send(res, 200, "text/plain", "");
  } catch (e) {
    send(res, 400, "application/json", JSON.stringify({ error: "invalid_request", error_description: e.message }));
  }
}

// What the app does with its tokens.
async function api(path, s) {
  const cfg = await config();
  const t = s.tokens;
  if (!t) return { status: 401, body: { error: "not signed in" } };
  const DPoP = await dpop(s);
  switch (path) {
    case "/userinfo":
      return { status: 200, body: await client.fetchUserInfo(cfg, t.access_token, s.claims.sub, { DPoP }) };
    case "/refresh": {
      const fresh = await client.refreshTokenGrant(cfg, t.refresh_token, undefined, { DPoP });
      const rotated = fresh.refresh_token !== undefined && fresh.refresh_token !== t.refresh_token;
      s.tokens = Object.assign(fresh, { refresh_token: fresh.refresh_token ?? t.refresh_token });
      return { status: 200, body: { token_type: fresh.token_type, expires_in: fresh.expires_in, rotated } };
    }
    case "/introspect":
      return { status: 200, body: await client.tokenIntrospection(cfg, t.access_token) };
    case "/revoke":
      await client.tokenRevocation(cfg, t.refresh_token ?? t.access_token);
      return { status: 200, body: { revoked: true } };
  }
  return { status: 404, body: { error: "not found" } };
}

// --- HTTP --------------------------------------------------------------------------------------

function send(res, status, type, body) {
  res.writeHead(status, { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" });
  res.end(body);
}
function redirect(res, location) {
  res.writeHead(303, { location, "cache-control": "no-store" });
  res.end();
}
const esc = (v) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const LEVELS = { [ACR.mfa]: "多要素認証", [ACR.phishing]: "パスキー(フィッシング耐性)" };

function page(res, body) {
  send(
    res,
    200,
    "text/html",
    `<!doctype html><html lang="ja"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>トレード Web</title>
<style>body{font-family:sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.6}
dt{font-weight:bold}a.button{display:inline-block;padding:.5rem 1rem;border:1px solid #1d4f7c;border-radius:4px}</style>
${body}</html>`,
  );
}

function home(req, res) {
  const s = session(req, res);
  const c = s.claims;
  if (!c) {
    const error = s.error ? `<p id="error">ログインできませんでした(${esc(s.error.error)})</p>` : "";
    return page(
      res,
      `<h1>トレード Web</h1>${error}
      <p><a id="login" class="button" href="/login">ログイン</a></p>
      <p><a href="/login?acr=phishing">パスキーでログイン(出金・口座変更用)</a></p>`,
    );
  }
  const p = s.profile ?? {};
  page(
    res,
    `<h1>ようこそ、${esc(p.name ?? "お客様")} 様</h1><dl>
    <dt>認証レベル</dt><dd id="acr">${esc(LEVELS[c.acr] ?? c.acr)}</dd>
    <dt>認証方式 (amr)</dt><dd id="amr">${esc((c.amr ?? []).join(" "))}</dd>
    <dt>認証日時</dt><dd>${new Date(c.auth_time * 1000).toLocaleString("ja-JP", { timeZone: "Asia/Tokyo" })}</dd>
    </dl><p><a id="withdraw" class="button" href="/withdraw">出金する(1,500,000円)</a></p>
    <p><a id="logout" class="button" href="/logout">ログアウト</a></p>`,
  );
}

const METHODS = { passkey: "パスキー", totp: "認証アプリ", token: "トークン", email: "メール" };

function confirmed(req, res) {
  const d = session(req, res).operation?.[0];
  if (!d) return page(res, `<h1>出金は確認されていません</h1><p><a href="/">トップへ</a></p>`);
  page(
    res,
    `<h1 id="confirmed">出金の指示を受け付けました</h1><dl>
    <dt>内容</dt><dd id="op-desc">${esc(d.description)}</dd>
    <dt>金額</dt><dd id="op-amount">${esc(Number(d.amount).toLocaleString("ja-JP"))} ${esc(d.currency)}</dd>
    <dt>確認方法</dt><dd id="op-method">${esc(METHODS[d.method] ?? d.method)}</dd>
    </dl><p><a href="/">トップへ</a></p>`,
  );
}

async function handle(req, res) {
  const url = new URL(req.url, BASE);
  const s = () => session(req, res);
  if (req.method === "GET") {
    switch (url.pathname) {
      case "/":
        return home(req, res);
      case "/login":
        return login(req, res, url);
      case "/withdraw":
        return login(req, res, url, withdrawal(1_500_000, "みずほ銀行 本店 普通 1234567"));
      case "/withdrawal":
        return confirmed(req, res);
      case "/callback":
        return callback(req, res, url);
      case "/logout":
        return logout(req, res);
      case "/logged-out": {
        // Sekisho returns the state the app sent: a logout the app did not start is not shown
        // as one.
        const ok = url.searchParams.get("state") === s().logoutState;
        return page(
          res,
          ok ? `<h1 id="out">ログアウトしました</h1><p><a href="/">トップへ</a></p>` : `<h1>不明な要求です</h1>`,
        );
      }
      case "/session.json": {
        const x = s();
        const body = {
          claims: x.claims ?? null,
          profile: x.profile ?? null,
          error: x.error ?? null,
          token_type: x.tokens?.token_type ?? null,
          refresh: Boolean(x.tokens?.refresh_token),
          operation: x.operation ?? null,
        };
        return send(res, 200, "application/json", JSON.stringify(body));
      }
      case "/backchannel-events.json":
        return send(res, 200, "application/json", JSON.stringify(backchannelEvents));
    }
  }
  if (req.method === "POST") {
    const body = await new Promise((ok) => {
      let b = "";
      req.on("data", (d) => (b += d));
      req.on("end", () => ok(b));
    });
    if (url.pathname === "/backchannel-logout") return backchannel(body, res);
    try {
      const r = await api(url.pathname, s());
      return send(res, r.status, "application/json", JSON.stringify(r.body));
    } catch (e) {
      return send(
        res,
        502,
        "application/json",
        JSON.stringify({ error: e.error ?? e.code ?? "error", error_description: e.error_description ?? e.message }),
      );
    }
  }
  send(res, 404, "text/plain", "not found");
}

createServer({ cert: readFileSync(env("RP_TLS_CERT")), key: readFileSync(env("RP_TLS_KEY")) }, (req, res) =>
  handle(req, res).catch((e) => send(res, 500, "text/plain", String(e?.message ?? e))),
).listen(Number(env("RP_PORT")), "127.0.0.1", () => console.log(`relying app on ${BASE}`));
