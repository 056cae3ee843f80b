//! The `oidc` workload: the OpenID Connect token endpoint as a FAPI 2.0 client uses it (code
//! exchanges with a `private_key_jwt` client assertion and a DPoP proof, each with its own
//! `jti`, answered with a DPoP-bound access token, an ID token and a refresh token), then
//! UserInfo with those access tokens (a DPoP proof with `ath` each). The codes are seeded in
//! bulk in the spawned server's database through its own wiring, as if the seeded login had
//! just authorized the client with a password and an app code; the assertions and proofs are
//! signed before the clock starts, so the load generator only sends bytes. Codes live 60 s, so
//! warm-up and duration together may take at most [`MAX_SECS`].

use crate::load::cpu_ticks;
use crate::{http1, mib, percentile, run_tag, stopwatch, BenchArgs, RssSampler, SpawnedServer};
use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use sekisho_app::seed::{seed_logins, seed_oidc_codes, CodeBinding, SeedKind};
use sekisho_core::Random;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Target: code exchanges per second on this 2-core machine, SQLite (issue 15).
const TARGET_RATE: f64 = 2_000.0;
/// Target: p99 latency of an exchange, milliseconds.
const TARGET_P99_MS: f64 = 20.0;
/// Warm-up and duration together: the codes expire 60 s after seeding, and seeding, signing
/// and starting take some of those.
const MAX_SECS: u64 = 40;
/// Codes (and signed requests) prepared per second of the run: above any rate this machine
/// reaches, so the run ends by the clock rather than by running out.
const PER_SEC: u64 = 4_000;
/// Settings of the server spawned for this workload (before `--server-env`, which may change
/// them): one client sends every exchange, and its throttle (60,000 a minute by default) would
/// measure itself.
pub(crate) const SERVER_ENV: &[&str] = &[
    "SEKISHO_OIDC_CLIENT_RATE_PER_MINUTE=100000000",
    "SEKISHO_OIDC_CLIENT_RATE_BURST=1000000",
];
/// Where the client's codes go (never called: the codes are seeded).
const REDIRECT_URI: &str = "https://trade.bench.example/cb";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// An Ed25519 key of the load generator (the client's, or its DPoP key), signing compact JWTs.
struct Signer {
    key: Ed25519KeyPair,
    x: String,
}

impl Signer {
    fn new() -> Signer {
        let mut seed = [0u8; 32];
        crate::app::OsRandom.fill(&mut seed);
        let key = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap_or_else(|_| unreachable!());
        let x = b64(key.public_key().as_ref());
        Signer { key, x }
    }

    fn jwk(&self) -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "x": self.x})
    }

    /// The RFC 7638 thumbprint.
    fn jkt(&self) -> String {
        let canonical = format!(
            "{{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"{}\"}}",
            self.x
        );
        b64(&Sha256::digest(canonical.as_bytes()))
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let sig = self.key.sign(input.as_bytes());
        format!("{input}.{}", b64(sig.as_ref()))
    }

    fn dpop(&self, method: &str, url: &str, jti: &str, iat: i64, ath: Option<&str>) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": self.jwk()});
        let mut claims = json!({"jti": jti, "htm": method, "htu": url, "iat": iat});
        if let Some(a) = ath {
            claims["ath"] = json!(a);
        }
        self.sign(&header, &claims)
    }
}

/// The endpoints the server announces.
struct Endpoints {
    issuer: String,
    token: String,
    userinfo: String,
}

/// Runs the workload against the spawned `server`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    args: &BenchArgs,
    http: &reqwest::Client,
    url: &str,
    admin_token: &str,
    server: &SpawnedServer,
    backend: &str,
    rss: Option<RssSampler>,
    cores: usize,
) -> Result<()> {
    let secs = args.warmup + args.duration;
    if secs > MAX_SECS {
        bail!("the oidc workload's codes live 60 s: --warmup plus --duration may be at most {MAX_SECS} s, not {secs}");
    }
    println!("workload: OpenID Connect code exchange (POST /oidc/token: private_key_jwt + DPoP + PKCE), then UserInfo (DPoP); backend: {backend}");
    println!(
        "concurrency: {}, warm-up: {} s, duration: {} s each, cores here: {cores}",
        args.concurrency, args.warmup, args.duration
    );
    let ends = endpoints(http, url).await?;
    let (client_key, dpop_key) = (Signer::new(), Signer::new());
    let client_id = register(http, url, admin_token, &client_key).await?;
    let n = usize::try_from(PER_SEC * secs).unwrap_or(usize::MAX);
    let t = stopwatch();
    let verifier = format!("bench-verifier-{}-{}", run_tag(), "v".repeat(40));
    let challenge = b64(&Sha256::digest(verifier.as_bytes()));
    let addr = url.trim_start_matches("http://").to_owned();
    let signed = {
        let (ends_token, issuer, cid) =
            (ends.token.clone(), ends.issuer.clone(), client_id.clone());
        let tag = run_tag();
        tokio::task::spawn_blocking(move || {
            sign_exchanges(&client_key, &dpop_key, &cid, &issuer, &ends_token, &tag, n)
                .map(|v| (v, dpop_key))
        })
        .await??
    };
    let (signed, dpop_key) = signed;
    let sign_secs = t.elapsed().as_secs_f64();
    let t = stopwatch();
    let codes = seed_codes(server, &client_id, &challenge, &dpop_key.jkt(), n).await?;
    println!(
        "setup: signed {n} client assertions and DPoP proofs in {sign_secs:.1} s; seeded {n} codes in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-www-form-urlencoded\r\nuser-agent: sekisho-bench\r\n",
        path_of(&ends.token)
    );
    let requests: Arc<Vec<(Vec<u8>, Vec<u8>)>> = Arc::new(
        signed
            .into_iter()
            .zip(codes)
            .map(|((assertion, proof), code)| {
                let body = format!(
                    "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={verifier}&client_assertion_type={}&client_assertion={assertion}",
                    enc(REDIRECT_URI),
                    enc(JWT_BEARER)
                );
                (format!("{head}dpop: {proof}\r\n").into_bytes(), body.into_bytes())
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let c = args.concurrency as usize;
    drive(&addr, &requests, &next, c, args.warmup).await?;
    let pid = server.child.id();
    let before = (cpu_ticks(pid), cpu_ticks(std::process::id()));
    let (s, tokens) = drive(&addr, &requests, &next, c, args.duration).await?;
    let after = (cpu_ticks(pid), cpu_ticks(std::process::id()));
    if next.load(Ordering::Relaxed) >= requests.len() {
        println!("note: every prepared code was exchanged before the time ran out");
    }
    println!("-- code exchanges (POST /oidc/token)");
    let rate = report(&s, cpu(before, after), "exchanges");
    crypto_share(&dpop_key, cpu(before, after), s.ok());

    // UserInfo, with the access tokens of the last exchanges.
    let tokens: Vec<String> = tokens.into_iter().take(c.max(1)).collect();
    if tokens.is_empty() {
        bail!("no exchange answered an access token");
    }
    let m = usize::try_from(PER_SEC * 2 * args.duration).unwrap_or(usize::MAX);
    let uhead = |token: &str, proof: &str| {
        format!(
            "GET {} HTTP/1.1\r\nhost: {addr}\r\nauthorization: DPoP {token}\r\ndpop: {proof}\r\nuser-agent: sekisho-bench\r\n",
            path_of(&ends.userinfo)
        )
        .into_bytes()
    };
    let iat = now_secs();
    let tag = run_tag();
    let userinfo: Arc<Vec<(Vec<u8>, Vec<u8>)>> = Arc::new(
        (0..m)
            .map(|i| {
                let token = &tokens[i % tokens.len()];
                let ath = b64(&Sha256::digest(token.as_bytes()));
                let proof = dpop_key.dpop(
                    "GET",
                    &ends.userinfo,
                    &format!("u{tag}-{i}"),
                    iat,
                    Some(&ath),
                );
                (uhead(token, &proof), Vec::new())
            })
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let before = (cpu_ticks(pid), cpu_ticks(std::process::id()));
    let (s, _) = drive(&addr, &userinfo, &next, c, args.duration).await?;
    let after = (cpu_ticks(pid), cpu_ticks(std::process::id()));
    println!(
        "-- UserInfo (GET /oidc/userinfo, {} access tokens)",
        tokens.len()
    );
    report(&s, cpu(before, after), "answers");
    if let Some((peak, end)) = rss.map(RssSampler::finish) {
        println!(
            "server RSS: peak {:.1} MiB, at end {:.1} MiB",
            mib(peak),
            mib(end)
        );
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let avg: Vec<&str> = load.split_whitespace().take(3).collect();
        println!("load average at the end: {}", avg.join(" "));
    }
    let met = |b: bool| if b { "MET" } else { "NOT MET" };
    println!("targets (code exchanges):");
    println!(
        "  [{}] >= {TARGET_RATE:.0} exchanges/s ({rate:.0})",
        met(rate >= TARGET_RATE)
    );
    Ok(())
}

/// Discovery: the issuer and the endpoints (the proofs' `htu` must be the URLs announced).
async fn endpoints(http: &reqwest::Client, url: &str) -> Result<Endpoints> {
    let v: Value = http
        .get(format!("{url}/.well-known/openid-configuration"))
        .send()
        .await?
        .error_for_status()
        .context("discovery")?
        .json()
        .await?;
    let get = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("discovery has no {k}"))
    };
    Ok(Endpoints {
        issuer: get("issuer")?,
        token: get("token_endpoint")?,
        userinfo: get("userinfo_endpoint")?,
    })
}

/// Registers a first-party `fapi2` client with the load generator's key; answers its ID.
async fn register(http: &reqwest::Client, url: &str, admin: &str, key: &Signer) -> Result<String> {
    let mut jwk = key.jwk();
    jwk["kid"] = json!("bench-1");
    let r = http
        .post(format!("{url}/api/admin/v1/oidc/clients"))
        .bearer_auth(admin)
        .json(&json!({
            "client_name": "sekisho-bench",
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "private_key_jwt",
            "grant_types": ["authorization_code", "refresh_token"],
            "id_token_signed_response_alg": "EdDSA",
            "dpop_bound_access_tokens": true,
            "jwks": {"keys": [jwk]},
            "scope": "openid profile",
            "first_party": true,
        }))
        .send()
        .await?;
    let status = r.status();
    let v: Value = r.json().await.unwrap_or_default();
    if status != reqwest::StatusCode::CREATED {
        bail!("cannot register the client: HTTP {status}: {v}");
    }
    v["client_id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no client_id in {v}"))
}

/// `n` pairs of a client assertion and a token-endpoint DPoP proof, each with its own `jti`.
fn sign_exchanges(
    client: &Signer,
    dpop: &Signer,
    client_id: &str,
    issuer: &str,
    token_url: &str,
    tag: &str,
    n: usize,
) -> Result<Vec<(String, String)>> {
    let iat = now_secs();
    let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": "bench-1"});
    Ok((0..n)
        .map(|i| {
            let claims = json!({
                "iss": client_id, "sub": client_id, "aud": issuer,
                "jti": format!("a{tag}-{i}"), "iat": iat, "exp": iat + 240,
            });
            let assertion = client.sign(&header, &claims);
            let proof = dpop.dpop("POST", token_url, &format!("d{tag}-{i}"), iat, None);
            (assertion, proof)
        })
        .collect())
}

/// Seeds one login and `n` codes for it in the spawned server's database.
async fn seed_codes(
    server: &SpawnedServer,
    client_id: &str,
    challenge: &str,
    jkt: &str,
    n: usize,
) -> Result<Vec<String>> {
    let state = crate::validate::server_state(server).await?;
    let prefix = format!("o{}-", run_tag());
    let seeded = seed_logins(state.app(), &prefix, 1, SeedKind::App)
        .await
        .map_err(|e| anyhow!("seeding the login: {e:?}"))?;
    let login = seeded.first().ok_or_else(|| anyhow!("no login seeded"))?;
    let bind = CodeBinding {
        client_id: client_id.to_owned(),
        redirect_uri: REDIRECT_URI.to_owned(),
        code_challenge: challenge.to_owned(),
        dpop_jkt: Some(jkt.to_owned()),
        scope: "openid profile".to_owned(),
    };
    seed_oidc_codes(state.app(), &login.login_id, &bind, n)
        .await
        .map_err(|e| anyhow!("seeding the codes: {e:?}"))
}

/// What one phase observed.
struct Phase {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<u16, u64>,
    secs: f64,
}

impl Phase {
    fn ok(&self) -> u64 {
        self.statuses.get(&200).copied().unwrap_or(0)
    }
}

/// Sends the prepared requests, each once, from `c` keep-alive connections for `secs`
/// seconds; answers what was seen and the last access token each connection received.
async fn drive(
    addr: &str,
    requests: &Arc<Vec<(Vec<u8>, Vec<u8>)>>,
    next: &Arc<AtomicUsize>,
    c: usize,
    secs: u64,
) -> Result<(Phase, Vec<String>)> {
    let start = stopwatch();
    let deadline = start + Duration::from_secs(secs);
    let mut set = JoinSet::new();
    for _ in 0..c {
        let (requests, next) = (requests.clone(), next.clone());
        let mut conn = http1::Conn::new(addr);
        set.spawn(async move {
            let (mut lat, mut statuses) = (Vec::new(), BTreeMap::<u16, u64>::new());
            let mut token = None;
            while stopwatch() < deadline {
                let Some((head, body)) = requests.get(next.fetch_add(1, Ordering::Relaxed)) else {
                    break;
                };
                let t = stopwatch();
                let code = conn.post(head, body).await.unwrap_or(0);
                lat.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                *statuses.entry(code).or_default() += 1;
                if code == 200 {
                    if let Ok(v) = serde_json::from_slice::<Value>(conn.body()) {
                        if let Some(t) = v["access_token"].as_str() {
                            token = Some(t.to_owned());
                        }
                    }
                } else if statuses.get(&code) == Some(&1) {
                    eprintln!(
                        "first HTTP {code}: {}",
                        String::from_utf8_lossy(conn.body())
                    );
                }
            }
            (lat, statuses, token)
        });
    }
    let (mut latencies_us, mut statuses, mut tokens) = (Vec::new(), BTreeMap::new(), Vec::new());
    while let Some(r) = set.join_next().await {
        let (l, s, t) = r?;
        latencies_us.extend(l);
        for (code, n) in s {
            *statuses.entry(code).or_default() += n;
        }
        tokens.extend(t);
    }
    let secs = start.elapsed().as_secs_f64();
    Ok((
        Phase {
            latencies_us,
            statuses,
            secs,
        },
        tokens,
    ))
}

/// Server and load-generator CPU ticks over a phase.
fn cpu(
    before: (Option<u64>, Option<u64>),
    after: (Option<u64>, Option<u64>),
) -> Option<(u64, u64)> {
    match (before, after) {
        ((Some(s0), Some(c0)), (Some(s1), Some(c1))) => {
            Some((s1.saturating_sub(s0), c1.saturating_sub(c0)))
        }
        _ => None,
    }
}

/// Prints a phase's figures; answers its rate of answers 200.
fn report(s: &Phase, cpu: Option<(u64, u64)>, what: &str) -> f64 {
    let total: u64 = s.statuses.values().sum();
    let ok = s.ok();
    let others: String = s
        .statuses
        .iter()
        .filter(|(c, _)| **c != 200)
        .map(|(c, n)| format!(", HTTP {c}: {n}"))
        .collect();
    println!(
        "requests: {total} in {:.1} s, {ok} answered 200{others}",
        s.secs
    );
    let rate = ok as f64 / s.secs.max(1e-9);
    println!("throughput: {rate:.0} {what}/s");
    let mut lat = s.latencies_us.clone();
    lat.sort_unstable();
    let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|p| percentile(&lat, p) as f64 / 1e3);
    println!("latency: p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms, max {max:.2} ms");
    if let Some((server, client)) = cpu.filter(|_| ok > 0) {
        let per = |ticks: u64| ticks as f64 * 10_000.0 / ok as f64;
        println!(
            "CPU per answer: server {:.0} us, load generator {:.0} us",
            per(server),
            per(client)
        );
    }
    if what == "exchanges" {
        let met = if p99 < TARGET_P99_MS {
            "MET"
        } else {
            "NOT MET"
        };
        println!("  [{met}] p99 < {TARGET_P99_MS} ms ({p99:.2} ms)");
    }
    rate
}

/// What the signatures cost of the server's CPU per exchange: each exchange verifies two
/// Ed25519 signatures (the assertion, the proof) and makes two (the access token, the ID
/// token), timed here on one core.
fn crypto_share(key: &Signer, cpu: Option<(u64, u64)>, ok: u64) {
    let msg = [7u8; 400];
    let sig = key.key.sign(&msg);
    let public = UnparsedPublicKey::new(&ED25519, key.key.public_key().as_ref().to_vec());
    let rounds = 2_000;
    let t = stopwatch();
    for _ in 0..rounds {
        std::hint::black_box(key.key.sign(std::hint::black_box(&msg)));
    }
    let sign_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let t = stopwatch();
    for _ in 0..rounds {
        let _ = std::hint::black_box(public.verify(&msg, sig.as_ref()));
    }
    let verify_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
    let per_exchange = 2.0 * (sign_us + verify_us);
    print!(
        "signatures: Ed25519 sign {sign_us:.0} us, verify {verify_us:.0} us here; 2 of each per exchange = {per_exchange:.0} us"
    );
    match cpu.filter(|_| ok > 0) {
        Some((server, _)) => {
            let server_us = server as f64 * 10_000.0 / ok as f64;
            println!(
                " = {:.0} % of the server's CPU per exchange",
                per_exchange / server_us.max(1e-9) * 100.0
            );
        }
        None => println!(),
    }
}

/// The path of an endpoint URL (`http://host:port/path` → `/path`).
fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/').map_or("/", |i| &rest[i..])
}

/// Percent-encodes a form value (the few characters of URLs and URNs that need it).
fn enc(s: &str) -> String {
    s.replace('%', "%25")
        .replace(':', "%3A")
        .replace('/', "%2F")
        .replace('?', "%3F")
        .replace('&', "%26")
        .replace('=', "%3D")
}

/// Seconds since the epoch: the `iat` of what the load generator signs (the server checks it
/// against its own clock).
fn now_secs() -> i64 {
    use sekisho_core::Clock;
    crate::app::SystemClock.now().0
}
