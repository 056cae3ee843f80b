//! The `validate` workload: logins with a hardware token (HOTP), seeded in bulk, each verifying
//! one code after another through `POST /api/v1/validate` for the whole run (no code reused, so
//! every request does the full check and a durable write of the used counter). The rate is
//! printed for each 5-second slice, so a slowdown as the tables and the WAL grow shows.

use crate::app::SystemClock;
use crate::load::{gather, print_figures, print_slices, CpuMeter, CpuUse, Slice, SLICE_SECS};
use crate::{http1, run_tag, stopwatch, BenchArgs, Factor, RssSampler, Samples, SpawnedServer};
use anyhow::{anyhow, bail, Result};
use sekisho_app::seed::{seed_logins, SeedKind, Seeded};
use sekisho_core::otp::{hotp, totp_at, totp_step, Algorithm, OtpParams};
use sekisho_core::Clock;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Target: verifications per second on this 2-core machine (issue 19, either backend).
const TARGET_RATE: f64 = 12_000.0;
/// Target: p99 latency in milliseconds.
const TARGET_P99_MS: f64 = 10.0;

/// Runs the workload against the spawned `server`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    args: &BenchArgs,
    http: &reqwest::Client,
    url: &str,
    admin_token: &str,
    servers: &[&SpawnedServer],
    backend: &str,
    rss: Option<RssSampler>,
    cores: usize,
) -> Result<()> {
    let (what, each) = match args.factor {
        Factor::Hotp => ("HOTP token", "each verifies its codes in a row"),
        Factor::App => ("authenticator app", "each verifies its current code once"),
    };
    println!("workload: {what} validation (POST /api/v1/validate), backend: {backend}");
    let n = args.logins as usize;
    println!(
        "logins: {n} ({each}), concurrency: {}, warm-up: {} s, duration: {} s, cores here: \
         {cores}",
        args.concurrency, args.warmup, args.duration
    );
    let server = *servers
        .first()
        .ok_or_else(|| anyhow!("no server to benchmark"))?;
    if servers.len() > 1 {
        println!(
            "instances: {} servers on the one database, clients spread over them",
            servers.len()
        );
    }
    let t = stopwatch();
    let kind = args.factor.kind();
    let logins = Arc::new(seed(server, n, kind).await?);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "setup: seeded {n} logins with {} in {secs:.1} s ({:.0} logins/s)",
        match kind {
            SeedKind::Hotp => "a registered HOTP token",
            SeedKind::App => "an active authenticator app",
        },
        n as f64 / secs.max(1e-9)
    );
    let token = validate_token(http, url, admin_token).await?;
    let addrs: Vec<String> = std::iter::once(url.trim_start_matches("http://").to_owned())
        .chain(
            servers
                .iter()
                .skip(1)
                .map(|s| format!("127.0.0.1:{}", s.port)),
        )
        .collect();
    // The next counter of each login's token; each client task owns every C-th login, so one
    // token never has two codes in flight.
    let counters: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    let c = args.concurrency;
    let f = args.factor;
    drive(&addrs, &token, &logins, &counters, f, c, args.warmup).await?;
    let meter = CpuMeter::start(servers.iter().map(|s| s.child.id()).collect());
    let (s, slices) = drive(&addrs, &token, &logins, &counters, f, c, args.duration).await?;
    let cpu = meter.finish();
    let memory = rss.map(RssSampler::finish);
    print_slices(&slices, "verifications");
    report(&s, memory, cpu);
    if args.factor == Factor::App && s.latencies_us.len() + c as usize >= n {
        println!("note: every seeded login verified its one code before the time ran out; seed more with --logins");
    }
    Ok(())
}

/// Seeds the logins in the spawned server's database through the server's own wiring (its
/// configuration, so its keyring).
async fn seed(server: &SpawnedServer, n: usize, kind: SeedKind) -> Result<Vec<Seeded>> {
    let state = server_state(server).await?;
    let prefix = format!("b{}-", run_tag());
    seed_logins(state.app(), &prefix, n, kind)
        .await
        .map_err(|e| anyhow!("seeding: {e:?}"))
}

/// The spawned server's application state, opened a second time through its own wiring (its
/// data folder, database and settings, so its keyring), for seeding.
pub(crate) async fn server_state(server: &SpawnedServer) -> Result<sekisho_server::AppState> {
    let args = sekisho::config::ConfigArgs {
        data_dir: Some(server.dir.path().to_owned()),
        database_url: server.database_url.clone(),
        ..Default::default()
    };
    // The server's `--server-env` settings too (its Argon2 parameters, its e-mail codes' life).
    let config = sekisho::config::Config::load(&args, server.env.clone())?;
    sekisho::wiring::app_state(&config).await
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

/// Validates codes from `concurrency` tasks (each with its own keep-alive connection, see
/// [`http1`]) for `secs` seconds: task `k` takes its logins `k`, `k + C`, … in turn, each with
/// its token's next code (or its app's current code, once).
async fn drive(
    addrs: &[String],
    token: &str,
    logins: &Arc<Vec<Seeded>>,
    counters: &Arc<Vec<AtomicU64>>,
    factor: Factor,
    concurrency: u32,
    secs: u64,
) -> Result<(Samples, Vec<Slice>)> {
    let start = stopwatch();
    let deadline = start + Duration::from_secs(secs);
    let heads: Vec<Arc<[u8]>> = addrs
        .iter()
        .map(|addr| {
            format!(
                "POST /api/v1/validate HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer \
                 {token}\r\ncontent-type: application/json\r\nuser-agent: sekisho-bench\r\n"
            )
            .into_bytes()
            .into()
        })
        .collect();
    let c = concurrency as usize;
    let mut set = JoinSet::new();
    for k in 0..c.min(logins.len()) {
        let at = k % addrs.len().max(1);
        let (Some(addr), Some(head)) = (addrs.get(at), heads.get(at)) else {
            bail!("no server address");
        };
        let (logins, counters, head) = (logins.clone(), counters.clone(), head.clone());
        let mut conn = http1::Conn::new(addr);
        set.spawn(async move {
            let mut statuses = BTreeMap::<u16, u64>::new();
            let mut slices: Vec<Slice> = Vec::new();
            let mut body = Vec::with_capacity(128);
            let mut i = k;
            while stopwatch() < deadline {
                let (Some(login), Some(counter)) = (logins.get(i), counters.get(i)) else {
                    break;
                };
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let otp = match factor {
                    Factor::Hotp => {
                        i = if i + c < logins.len() { i + c } else { k };
                        hotp(&login.secret, n, Algorithm::Sha1, 6)
                    }
                    // An app's login verifies once (its step cannot be used again): the task
                    // goes on with its next login, also after the warm-up.
                    Factor::App => {
                        i += c;
                        if n > 0 {
                            continue;
                        }
                        let step = totp_step(SystemClock.now(), 30);
                        totp_at(&login.secret, step, OtpParams::default())
                    }
                };
                body.clear();
                serde_json::to_writer(
                    &mut body,
                    &json!({ "login_id": login.login_id, "otp": otp }),
                )?;
                let t = stopwatch();
                let code = conn.post(&head, &body).await.unwrap_or(0);
                let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                let at = (t - start).as_secs() / SLICE_SECS;
                let at = usize::try_from(at).unwrap_or(usize::MAX);
                if slices.len() <= at {
                    slices.resize_with(at + 1, Slice::default);
                }
                if let Some(s) = slices.get_mut(at) {
                    s.latencies_us.push(us);
                    s.accepted += u64::from(code == 200);
                }
                *statuses.entry(code).or_default() += 1;
            }
            Ok::<_, anyhow::Error>((slices, statuses))
        });
    }
    gather(set, start).await
}

fn report(s: &Samples, memory: Option<(u64, u64)>, cpu: Option<CpuUse>) {
    let (rate, p99) = print_figures(s, "verification", "verifications", memory, cpu);
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
