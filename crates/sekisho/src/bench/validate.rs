//! The `validate` workload: many logins, each verifying its current TOTP code once through
//! `POST /api/v1/validate` (no code reused, so every request does the full check and a durable
//! write of the used step).

use super::{http1, mib, percentile, BenchArgs, RssSampler, Samples, SpawnedServer};
use anyhow::{anyhow, bail, Context, Result};
use sekisho_app::system::{OsRandom, SystemClock};
use sekisho_core::audit::{Actor, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::login::SecondFactor;
use sekisho_core::otp::{generate_secret, totp_at, totp_step, OtpParams};
use sekisho_core::secret_box::SecretBox;
use sekisho_core::{Clock, Lang, Random};
use sekisho_store::{ConnectOptions, NewLogin, NewOtpFactor, Store};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Target: verifications per second with SQLite on this 2-core machine.
const TARGET_RATE: f64 = 15_000.0;
/// Target: p99 latency in milliseconds.
const TARGET_P99_MS: f64 = 10.0;

/// Runs the workload against the spawned `server`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn run(
    args: &BenchArgs,
    http: &reqwest::Client,
    url: &str,
    admin_token: &str,
    server: &SpawnedServer,
    backend: &str,
    rss: Option<RssSampler>,
    cores: usize,
) -> Result<()> {
    println!("workload: TOTP validation (POST /api/v1/validate), backend: {backend}");
    let n = args.logins as usize;
    println!(
        "logins: {n} (each verifies once), concurrency: {}, duration: at most {} s, cores here: {cores}",
        args.concurrency, args.duration
    );
    let t = Instant::now();
    let logins = Arc::new(seed(server, n).await?);
    println!(
        "setup: seeded {n} logins with an active authenticator app in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let token = validate_token(http, url, admin_token).await?;
    let addr = url.trim_start_matches("http://");
    let next = Arc::new(AtomicUsize::new(0));
    // Warm-up on the first tenth of the logins (at most 2,000), unmeasured.
    let warm = (n / 10).min(2_000);
    let c = args.concurrency;
    drive(addr, &token, &logins, &next, c, args.warmup, warm).await?;
    let pid = server.child.id();
    let before = (cpu_ticks(pid), cpu_ticks(std::process::id()));
    let s = drive(addr, &token, &logins, &next, c, args.duration, n).await?;
    let cpu = match (before, (cpu_ticks(pid), cpu_ticks(std::process::id()))) {
        ((Some(s0), Some(c0)), (Some(s1), Some(c1))) => Some(CpuUse {
            server_ticks: s1.saturating_sub(s0),
            client_ticks: c1.saturating_sub(c0),
        }),
        _ => None,
    };
    let memory = rss.map(RssSampler::finish);
    report(&s, memory, cpu, n.saturating_sub(warm));
    Ok(())
}

/// Creates the logins and their active TOTP factors directly in the server's database, sealed
/// with the server's master key, as an enrolment would leave them.
async fn seed(server: &SpawnedServer, n: usize) -> Result<Vec<(String, Vec<u8>)>> {
    let url = match &server.database_url {
        Some(u) => u.clone(),
        None => sekisho_store::testing::sqlite_url(server.dir.path()),
    };
    let store: Arc<dyn Store> = sekisho_store::connect(&ConnectOptions {
        url,
        max_connections: 8,
        sqlite_synchronous: Default::default(),
    })
    .await
    .map_err(|e| anyhow!("cannot open the server's database: {e}"))?;
    let key_hex = std::fs::read_to_string(server.dir.path().join("master.key"))
        .context("cannot read the spawned server's master key")?;
    let key: [u8; 32] = hex::decode(key_hex.trim())?
        .try_into()
        .map_err(|_| anyhow!("bad master key"))?;
    let sealer = Arc::new(SecretBox::new("k1", &key));
    let tag = format!("{:08x}", rand::random::<u32>());
    let logins: Vec<(String, Vec<u8>)> = (0..n)
        .map(|i| (format!("v{tag}-{i}"), generate_secret(&OsRandom).to_vec()))
        .collect();
    let logins = Arc::new(logins);
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..8 {
        let (store, sealer, logins, next) =
            (store.clone(), sealer.clone(), logins.clone(), next.clone());
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((login_id, secret)) = logins.get(i) else {
                    return Ok::<(), anyhow::Error>(());
                };
                seed_one(store.as_ref(), &sealer, login_id, secret).await?;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Arc::try_unwrap(logins).map_err(|_| anyhow!("seeding tasks still hold the logins"))
}

async fn seed_one(
    store: &dyn Store,
    sealer: &SecretBox,
    login_id: &str,
    secret: &[u8],
) -> Result<()> {
    let now = SystemClock.now();
    let cli = ClientInfo {
        ip: None,
        user_agent: Some("sekisho-bench".into()),
    };
    let ev = |t| {
        NewAuditEvent::new(
            now,
            t,
            Some(login_id),
            Actor::System,
            &cli,
            "benchmark seed",
        )
    };
    let login = store
        .create_login(
            &NewLogin {
                login_id: login_id.to_owned(),
                display_name: "Bench".into(),
                email: format!("{login_id}@example.com"),
                lang: Lang::Ja,
                second_factor: SecondFactor::Totp,
                mfa_required: true,
                notify_login: None,
                now,
            },
            &ev(EventType::LoginCreated),
        )
        .await
        .map_err(|e| anyhow!("seeding: {e}"))?;
    let uid = format!("seed-{login_id}");
    let mut nonce = [0u8; 12];
    OsRandom.fill(&mut nonce);
    let sealed = sealer
        .seal(secret, &sekisho_app::totp::secret_aad(&uid), nonce)
        .ok_or_else(|| anyhow!("cannot seal"))?;
    let p = OtpParams::default();
    let f = store
        .put_pending_totp(
            &NewOtpFactor {
                uid,
                login_pk: login.id,
                method: "totp".into(),
                label: "authenticator app".into(),
                secret_enc: sealed,
                algorithm: p.algorithm.as_str().into(),
                digits: p.digits,
                period: p.period,
                now,
                expires_at: now.plus_secs(600),
            },
            &ev(EventType::FactorEnrolmentStarted),
        )
        .await
        .map_err(|e| anyhow!("seeding: {e}"))?;
    // Confirmed at step 0, so any current code is newer.
    store
        .accept_otp(f.id, 0, 0, now, true, Some(&ev(EventType::FactorAdded)))
        .await
        .map_err(|e| anyhow!("seeding: {e}"))?;
    Ok(())
}

async fn validate_token(http: &reqwest::Client, url: &str, admin: &str) -> Result<String> {
    let r = http
        .post(format!("{url}/api/admin/v1/api-tokens"))
        .bearer_auth(admin)
        .json(&json!({ "name": "bench-validate", "scope": "validate" }))
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("cannot create a validate token: {}", r.status());
    }
    let v: serde_json::Value = r.json().await?;
    v["token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no token in the answer"))
}

/// Validates one code per login, taking logins in order up to index `until`, from
/// `concurrency` tasks (each with its own keep-alive connection, see [`http1`]) for at most
/// `secs` seconds.
#[allow(clippy::too_many_arguments)]
async fn drive(
    addr: &str,
    token: &str,
    logins: &Arc<Vec<(String, Vec<u8>)>>,
    next: &Arc<AtomicUsize>,
    concurrency: u32,
    secs: u64,
    until: usize,
) -> Result<Samples> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let head: Arc<[u8]> = format!(
        "POST /api/v1/validate HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\nuser-agent: sekisho-bench\r\n"
    )
    .into_bytes()
    .into();
    let mut set = JoinSet::new();
    for _ in 0..concurrency {
        let (logins, next, head) = (logins.clone(), next.clone(), head.clone());
        let mut conn = http1::Conn::new(addr);
        set.spawn(async move {
            let (mut latencies, mut statuses) = (Vec::new(), BTreeMap::<u16, u64>::new());
            let mut body = Vec::with_capacity(128);
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((login_id, secret)) = logins.get(i).filter(|_| i < until) else {
                    break;
                };
                let step = totp_step(SystemClock.now(), 30);
                let otp = totp_at(secret, step, OtpParams::default());
                body.clear();
                serde_json::to_writer(&mut body, &json!({ "login_id": login_id, "otp": otp }))?;
                let t = Instant::now();
                let code = conn.post(&head, &body).await.unwrap_or(0);
                latencies.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                *statuses.entry(code).or_default() += 1;
            }
            Ok::<_, anyhow::Error>((latencies, statuses))
        });
    }
    let (mut latencies_us, mut statuses) = (Vec::new(), BTreeMap::new());
    while let Some(r) = set.join_next().await {
        let (l, s) = r??;
        latencies_us.extend(l);
        for (code, count) in s {
            *statuses.entry(code).or_default() += count;
        }
    }
    Ok(Samples {
        latencies_us,
        statuses,
        elapsed: start.elapsed(),
    })
}

/// CPU time a process has used so far, in clock ticks (Linux: 10 ms), from `/proc/<pid>/stat`.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime the
    // 14th and stime the 15th.
    let rest = stat.rsplit_once(')')?.1;
    let mut f = rest.split_whitespace().skip(11);
    Some(f.next()?.parse::<u64>().ok()? + f.next()?.parse::<u64>().ok()?)
}

/// CPU used by the server and by this process (the load generator) over a measured run.
struct CpuUse {
    server_ticks: u64,
    client_ticks: u64,
}

fn report(s: &Samples, memory: Option<(u64, u64)>, cpu: Option<CpuUse>, available: usize) {
    let total: u64 = s.statuses.values().sum();
    let ok = s.statuses.get(&200).copied().unwrap_or(0);
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let others: String = s
        .statuses
        .iter()
        .filter(|(c, _)| **c != 200)
        .map(|(c, n)| format!(", HTTP {c}: {n}"))
        .collect();
    println!("requests: {total} total in {secs:.1} s, {ok} accepted (200){others}");
    if total as usize >= available {
        println!("note: the run used up every seeded login before the duration ended; seed more with --logins");
    }
    let rate = ok as f64 / secs;
    println!("throughput: {rate:.0} verifications/s");
    let mut lat = s.latencies_us.clone();
    lat.sort_unstable();
    let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|p| percentile(&lat, p) as f64 / 1e3);
    println!("latency: p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms, max {max:.2} ms");
    if let Some((peak, end)) = memory {
        println!(
            "server RSS: peak {:.1} MiB, at end {:.1} MiB",
            mib(peak),
            mib(end)
        );
    }
    if let Some(c) = cpu.filter(|_| ok > 0) {
        // Linux counts CPU time in ticks of 10 ms.
        let per = |ticks: u64| ticks as f64 * 10_000.0 / ok as f64;
        println!(
            "CPU per verification: server {:.0} us, load generator {:.0} us (over {:.1} s of CPU)",
            per(c.server_ticks),
            per(c.client_ticks),
            (c.server_ticks + c.client_ticks) as f64 / 100.0
        );
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let avg: Vec<&str> = load.split_whitespace().take(3).collect();
        println!("load average at the end: {}", avg.join(" "));
    }
    let met = |b: bool| if b { "MET" } else { "NOT MET" };
    println!("targets:");
    println!(
        "  [{}] >= {TARGET_RATE:.0} verifications/s ({rate:.0})",
        met(rate >= TARGET_RATE)
    );
    println!(
        "  [{}] p99 < {TARGET_P99_MS} ms ({p99:.2} ms)",
        met(p99 < TARGET_P99_MS)
    );
}
