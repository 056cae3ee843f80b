//! The `login` workload: password logins (`POST /api/v1/login`, login ID and password, no
//! second factor) cycling over the logins for the whole run, with the rate of each 5-second
//! slice. A spawned server's logins are seeded in bulk in its database through its own wiring
//! (`sekisho_app::seed::seed_password_logins`: one permanent password hashed once by the
//! server's hashing threads, shared by every login); against `--server-url` they are created
//! through the admin API, a few at a time.

use crate::load::{self, print_figures, print_slices, CpuMeter, Jobs};
use crate::{run_tag, stopwatch, BenchArgs, RssSampler, SpawnedServer};
use anyhow::{anyhow, bail, Context, Result};
use sekisho_core::password::{HashMemory, HashParams, PasswordHasher};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Logins created at once through the admin API.
const CREATE_CONCURRENCY: usize = 8;
/// Hashes timed in-process (after one unmeasured hash).
const HASH_SAMPLES: usize = 10;

/// Runs the workload against `url` (the spawned `server`, or a server of `--server-url`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run(
    args: &BenchArgs,
    http: &reqwest::Client,
    url: &str,
    admin_token: &str,
    mut server: Option<&mut SpawnedServer>,
    backend: &str,
    rss: Option<RssSampler>,
    cores: usize,
) -> Result<()> {
    println!("workload: password login (POST /api/v1/login), backend: {backend}");
    println!(
        "logins: {}, concurrency: {}, warm-up: {} s, duration: {} s, cores here: {cores}",
        args.logins, args.concurrency, args.warmup, args.duration
    );
    let tag = run_tag();
    let password = format!("pw{tag}");
    let n = args.logins as usize;
    let t = stopwatch();
    let login_ids: Vec<String> = match server.as_deref() {
        Some(s) => {
            let state = crate::validate::server_state(s).await?;
            let prefix = format!("b{tag}-");
            let seeded =
                sekisho_app::seed::seed_password_logins(state.app(), &prefix, n, &password, false)
                    .await
                    .map_err(|e| anyhow!("seeding: {e:?}"))?;
            seeded.into_iter().map(|s| s.login_id).collect()
        }
        None => {
            let ids: Vec<String> = (0..n).map(|i| format!("bench-{tag}-{i}")).collect();
            create_logins(http, url, admin_token, &ids, &password).await?;
            ids
        }
    };
    let secs = t.elapsed().as_secs_f64();
    println!(
        "setup: {} {n} logins with a permanent password in {secs:.1} s ({:.0} logins/s)",
        if server.is_some() {
            "seeded"
        } else {
            "created (admin API)"
        },
        n as f64 / secs.max(1e-9)
    );

    let (t_hash, params) = time_hash().await?;
    let body_password = password.clone();
    let jobs = Arc::new(Jobs {
        n,
        cycle: true,
        next: AtomicUsize::new(0),
        body: Box::new(move |i, out| {
            let login_id = login_ids.get(i).ok_or_else(|| anyhow!("no login {i}"))?;
            let body = json!({ "login_id": login_id, "password": body_password });
            Ok(serde_json::to_writer(out, &body)?)
        }),
    });
    let addr = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("the load generator speaks plain HTTP only, not {url}"))?;
    let path = "/api/v1/login";
    load::drive(addr, path, &jobs, args.concurrency, args.warmup).await?;
    let before = hash_metrics(http, url, admin_token).await;
    let pid = server.as_deref().map(|s| s.child.id()).or(args.server_pid);
    let meter = CpuMeter::start(pid.into_iter().collect());
    let (samples, slices) = load::drive(addr, path, &jobs, args.concurrency, args.duration).await?;
    let cpu = meter.finish();
    let server_hash = match (before, hash_metrics(http, url, admin_token).await) {
        (Some((s0, n0)), Some((s1, n1))) if n1 > n0 => Some(((s1 - s0) / (n1 - n0) * 1e3, n1 - n0)),
        _ => None,
    };
    let memory = rss.map(RssSampler::finish);
    if let Some(status) = server
        .as_mut()
        .map(|s| s.child.try_wait())
        .transpose()?
        .flatten()
    {
        println!("warning: the server exited during the run ({status})");
    }
    print_slices(&slices, "logins");
    let figures = print_figures(&samples, "login", "logins", memory, cpu);
    report(args, cores, figures, t_hash, params, server_hash, memory);
    Ok(())
}

/// Prints the hash-bound limit and whether the targets are met, after the figures (rate, p99).
fn report(
    args: &BenchArgs,
    cores: usize,
    figures: (f64, f64),
    t_hash: Duration,
    params: HashParams,
    server_hash: Option<(f64, f64)>,
    memory: Option<(u64, u64)>,
) {
    let (throughput, p99) = figures;
    let hash_ms = t_hash.as_secs_f64() * 1e3;
    let limit = cores as f64 * 1e3 / hash_ms.max(1e-6);
    let achieved = throughput / limit * 100.0;
    let HashParams {
        memory_kib: m,
        iterations: t,
        parallelism: p,
    } = params;
    println!(
        "one Argon2id hash (m={m} KiB, t={t}, p={p}): {hash_ms:.1} ms; hash-bound limit \
         ({cores} cores / hash time): {limit:.1} logins/s; achieved: {achieved:.0} %"
    );
    if let Some((mean, n)) = server_hash {
        let by_server = throughput * mean / (cores as f64 * 10.0);
        println!(
            "server-side Argon2id time during the run: mean {mean:.1} ms over {n} hashes \
             (/metrics); achieved by that hash time: {by_server:.0} %"
        );
        if (mean / hash_ms - 1.0).abs() > 0.25 {
            println!("note: the in-process and server-side hash times differ by over 25 %: was the machine busy?");
        }
    }
    if throughput > 0.0 {
        let little = f64::from(args.concurrency) / throughput * 1e3;
        println!(
            "closed loop: mean latency = concurrency / throughput = {little:.1} ms (Little's law)"
        );
    }
    if args.concurrency as usize > 4 * cores {
        println!("note: concurrency > 4 x cores: queueing alone puts latency above 4 x hash time");
    }
    println!("targets:");
    let (mut met, mut all) = (0, 0);
    let mut target = |ok: bool, what: String| {
        (met, all) = (met + usize::from(ok), all + 1);
        println!("  [{}] {what}", if ok { "MET" } else { "NOT MET" });
    };
    let limit_ms = 4.0 * hash_ms;
    target(
        achieved >= 80.0,
        format!("throughput >= 80 % of the hash-bound limit ({achieved:.0} %)"),
    );
    target(
        p99 < limit_ms,
        format!("p99 < 4 x hash time ({p99:.1} ms vs {limit_ms:.1} ms)"),
    );
    if let Some((peak, _)) = memory {
        target(
            crate::mib(peak) < 100.0,
            format!("peak server RSS < 100 MiB ({:.1} MiB)", crate::mib(peak)),
        );
    }
    println!("result: {met} of {all} targets met");
}

/// The server's own Argon2id time so far, (seconds, hashes), from `/metrics` (which answers an
/// admin token on a listener that also serves customers).
async fn hash_metrics(http: &reqwest::Client, url: &str, token: &str) -> Option<(f64, f64)> {
    let r = http
        .get(format!("{url}/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .ok()?;
    let text = r.text().await.ok()?;
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
    };
    Some((
        value("sekisho_password_hash_seconds_sum ")?,
        value("sekisho_password_hash_seconds_count ")?,
    ))
}

/// Creates the logins with a permanent password through the admin API, a few at a time (each
/// hashed by the server).
async fn create_logins(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    login_ids: &[String],
    password: &str,
) -> Result<()> {
    let creds: Arc<Vec<(String, String)>> = Arc::new(
        login_ids
            .iter()
            .map(|id| (id.clone(), password.to_owned()))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let endpoint = Arc::new(format!("{url}/api/admin/v1/logins"));
    let mut set = JoinSet::new();
    for _ in 0..CREATE_CONCURRENCY.min(creds.len()) {
        let (http, next, endpoint, creds) =
            (http.clone(), next.clone(), endpoint.clone(), creds.clone());
        let token = token.to_owned();
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((login_id, password)) = creds.get(i) else {
                    return Ok(());
                };
                let body = json!({
                    "login_id": login_id,
                    "email": format!("bench{i}@example.com"),
                    "display_name": format!("Bench {i}"),
                    "password": password,
                    "temporary": false,
                });
                let r = http
                    .post(endpoint.as_str())
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .with_context(|| format!("creating login {login_id}"))?;
                let status = r.status();
                if status != reqwest::StatusCode::CREATED {
                    let text = r.text().await.unwrap_or_default();
                    bail!("creating login {login_id}: HTTP {status}: {text}");
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r??;
    }
    Ok(())
}

/// The median time of one hash with the default parameters, measured on one thread.
async fn time_hash() -> Result<(Duration, HashParams)> {
    tokio::task::spawn_blocking(|| {
        let hasher = PasswordHasher::new(HashParams::default()).map_err(|e| anyhow!(e))?;
        let mut times = Vec::with_capacity(HASH_SAMPLES);
        // The server's hashing threads reuse their memory; so does this (the first, unmeasured
        // hash allocates it).
        let mut memory = HashMemory::new();
        for i in 0..=HASH_SAMPLES {
            let t = stopwatch();
            hasher
                .hash_with("pwbenchtiming01", [i as u8; 16], &mut memory)
                .map_err(|e| anyhow!("hashing: {e}"))?;
            if i > 0 {
                times.push(t.elapsed());
            }
        }
        times.sort_unstable();
        let median = times
            .get(times.len() / 2)
            .copied()
            .ok_or_else(|| anyhow!("no hash timed"))?;
        Ok((median, hasher.params()))
    })
    .await?
}
