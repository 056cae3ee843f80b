//! `sekisho-bench`: load benchmarks that print figures, kept out of the production binary. By
//! default it spawns the `sekisho` binary found next to it as a server on loopback with a
//! temporary data folder, creates logins through the admin API, times one Argon2id hash
//! in-process, then drives the workload from concurrent clients and reports throughput, latency
//! percentiles and the server's memory against the targets.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use sekisho_core::password::{HashMemory, HashParams, PasswordHasher};
use sekisho_core::Random;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

mod app;
mod audit;
mod http1;
mod oidc;
mod validate;

#[derive(Parser)]
#[command(
    name = "sekisho-bench",
    version,
    about = "Load-test a Sekisho server on loopback and print figures"
)]
struct Cli {
    #[command(subcommand)]
    workload: WorkloadCommand,
}

#[derive(Subcommand)]
enum WorkloadCommand {
    /// Password logins: `POST /api/v1/login` with login ID and password.
    Login(BenchArgs),
    /// Second-factor checks: `POST /api/v1/validate`, each login's HOTP token verifying its
    /// codes in a row for the whole run (needs a spawned server: the logins and their tokens
    /// are seeded directly in its database).
    Validate(BenchArgs),
    /// The OpenID Connect token endpoint: code exchanges with `private_key_jwt`, DPoP and PKCE
    /// (the codes seeded in the spawned server's database), then UserInfo with DPoP-bound
    /// access tokens (needs a spawned server; warm-up plus duration at most 40 s).
    Oidc(BenchArgs),
    /// The audit trail at scale: seed millions of chained records in bulk, then time one
    /// customer's history (the console page's query, and `GET /api/admin/v1/audit?login_id=`).
    Audit(audit::AuditArgs),
}

/// What a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Password logins.
    Login,
    /// Second-factor checks.
    Validate,
    /// OpenID Connect code exchanges and UserInfo.
    Oidc,
}

/// The second factor of the validate workload's logins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Factor {
    /// A hardware token (HOTP).
    Hotp,
    /// An authenticator app (TOTP).
    App,
}

impl Factor {
    fn kind(self) -> sekisho_app::seed::SeedKind {
        match self {
            Factor::Hotp => sekisho_app::seed::SeedKind::Hotp,
            Factor::App => sekisho_app::seed::SeedKind::App,
        }
    }
}

/// Options of both workloads.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Logins to create before measuring.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub logins: u32,
    /// Concurrent clients.
    #[arg(long, value_name = "C", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Seconds to measure (at most 600); the validate workload holds its rate for all of them
    /// and prints the rate of each 5-second slice.
    #[arg(long, value_name = "SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub duration: u64,
    /// Seconds of unmeasured load before measuring.
    #[arg(long, value_name = "SECS", default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub warmup: u64,
    /// validate: the seeded logins' factor: `hotp` (a hardware token; each login verifies code
    /// after code for the whole run) or `app` (an authenticator app; each login verifies its
    /// current code once, so the run ends when every login has; works with older servers,
    /// whose validate checks apps only).
    #[arg(long, value_enum, default_value_t = Factor::Hotp)]
    pub factor: Factor,
    /// Benchmark this running server instead of spawning one (needs --admin-token).
    #[arg(long, value_name = "URL", requires = "admin_token")]
    pub server_url: Option<String>,
    /// An admin-scope API token of the --server-url server.
    #[arg(long, value_name = "TOKEN", requires = "server_url")]
    pub admin_token: Option<String>,
    /// Process ID of the --server-url server, to sample its memory (same machine only).
    #[arg(long, value_name = "PID", requires = "server_url")]
    pub server_pid: Option<u32>,
    /// Database URL for the spawned server (default: SQLite in the temporary data folder).
    #[arg(long, value_name = "URL", conflicts_with = "server_url")]
    pub database_url: Option<String>,
    /// Spawn this `sekisho` binary as the server instead of the one next to `sekisho-bench`
    /// (to compare two builds under the same load generator).
    #[arg(long, value_name = "PATH", conflicts_with = "server_url")]
    pub server_bin: Option<PathBuf>,
    /// A setting for the spawned server, as its environment variable (`NAME=VALUE`, repeatable),
    /// e.g. `SEKISHO_THROTTLE_PER_LOGIN_PER_MINUTE=60000` so the login workload (one address,
    /// few login IDs) measures the logins rather than the throttle.
    #[arg(long, value_name = "NAME=VALUE", conflicts_with = "server_url")]
    pub server_env: Vec<String>,
    /// validate: spawn this many server instances on the one --database-url (same data folder,
    /// so the same master key) and spread the clients over them (client k on instance k mod N).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "database_url", value_parser = clap::value_parser!(u32).range(1..=4))]
    pub instances: u32,
}

#[tokio::main]
async fn main() -> Result<()> {
    let (workload, args) = match Cli::parse().workload {
        WorkloadCommand::Login(args) => (Workload::Login, args),
        WorkloadCommand::Validate(args) => (Workload::Validate, args),
        WorkloadCommand::Oidc(args) => (Workload::Oidc, args),
        WorkloadCommand::Audit(args) => return audit::run(args).await,
    };
    run(workload, args).await
}

/// Logins created at once during setup.
const CREATE_CONCURRENCY: usize = 8;
/// Hashes timed in-process (after one unmeasured hash).
const HASH_SAMPLES: usize = 10;

/// Runs the benchmark and prints the report; Ctrl-C stops it and still stops the server.
async fn run(workload: Workload, args: BenchArgs) -> Result<()> {
    tokio::select! {
        r = bench(workload, args) => r,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    }
}

async fn bench(workload: Workload, args: BenchArgs) -> Result<()> {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    let (url, token, backend, mut server) = match (&args.server_url, &args.admin_token) {
        (Some(url), Some(token)) => {
            let url = url.trim_end_matches('/').to_owned();
            (
                url.clone(),
                token.clone(),
                format!("external server at {url}"),
                None,
            )
        }
        (Some(_), None) => bail!("--server-url needs --admin-token"),
        (None, _) => {
            let db = args.database_url.as_deref();
            let mut env = args.server_env.clone();
            if workload == Workload::Oidc {
                env.splice(0..0, oidc::SERVER_ENV.iter().map(|s| (*s).to_owned()));
            }
            let mut s = SpawnedServer::start(db, args.server_bin.as_deref(), &env, None)?;
            let url = format!("http://127.0.0.1:{}", s.port);
            s.wait_ready(&http, &url).await?;
            let token = s.admin_token().await?;
            let pg = db.is_some_and(|u| u.starts_with("postgres"));
            let backend = if pg { "postgres" } else { "sqlite" };
            (url, token, format!("{backend} (spawned server)"), Some(s))
        }
    };
    let rss = server
        .as_ref()
        .map(|s| s.child.id())
        .or(args.server_pid)
        .map(RssSampler::start);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if workload == Workload::Oidc {
        let server = server.as_ref().ok_or_else(|| {
            anyhow!("the oidc workload seeds its codes: run it without --server-url")
        })?;
        return oidc::run(&args, &http, &url, &token, server, &backend, rss, cores).await;
    }
    if workload == Workload::Validate {
        let server = server.as_ref().ok_or_else(|| {
            anyhow!("the validate workload seeds its logins: run it without --server-url")
        })?;
        // More instances on the same database and data folder, started once the first has
        // migrated the database.
        let mut others = Vec::new();
        for _ in 1..args.instances {
            let db = args.database_url.as_deref();
            let (bin, env) = (args.server_bin.as_deref(), &args.server_env);
            let mut s = SpawnedServer::start(db, bin, env, Some(server.dir.path()))?;
            s.wait_ready(&http, &format!("http://127.0.0.1:{}", s.port))
                .await?;
            others.push(s);
        }
        let servers: Vec<&SpawnedServer> = std::iter::once(server).chain(&others).collect();
        return validate::run(&args, &http, &url, &token, &servers, &backend, rss, cores).await;
    }
    println!("workload: password login (POST /api/v1/login), backend: {backend}");
    println!(
        "logins: {}, concurrency: {}, warm-up: {} s, duration: {} s, cores here: {cores}",
        args.logins, args.concurrency, args.warmup, args.duration
    );

    let tag = run_tag();
    let creds: Arc<Vec<(String, String)>> = Arc::new(
        (0..args.logins)
            .map(|i| (format!("bench-{tag}-{i}"), format!("pw{tag}{i:06}")))
            .collect(),
    );
    let t = stopwatch();
    create_logins(&http, &url, &token, &creds).await?;
    let setup = t.elapsed().as_secs_f64();
    let rate = creds.len() as f64 / setup.max(1e-9);
    println!(
        "setup: created {} logins in {setup:.1} s ({rate:.1} logins/s)",
        creds.len()
    );

    let (t_hash, params) = time_hash().await?;
    let load = Load {
        http: http.clone(),
        endpoint: Arc::new(format!("{url}/api/v1/login")),
        creds,
    };
    load.drive(args.concurrency, args.warmup).await?;
    let before = hash_metrics(&http, &url).await;
    let samples = load.drive(args.concurrency, args.duration).await?;
    let server_hash = match (before, hash_metrics(&http, &url).await) {
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
    report(&args, cores, &samples, t_hash, params, server_hash, memory);
    Ok(())
}

/// Prints the figures and whether the targets are met.
fn report(
    args: &BenchArgs,
    cores: usize,
    s: &Samples,
    t_hash: Duration,
    params: HashParams,
    server_hash: Option<(f64, f64)>,
    memory: Option<(u64, u64)>,
) {
    let total: u64 = s.statuses.values().sum();
    let ok = s.statuses.get(&200).copied().unwrap_or(0);
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let mut others = String::new();
    for (code, n) in s.statuses.iter().filter(|(c, _)| **c != 200) {
        let what = if *code == 0 {
            String::from("transport error")
        } else {
            format!("HTTP {code}")
        };
        others.push_str(&format!(", {what}: {n}"));
    }
    println!("requests: {total} total in {secs:.1} s, {ok} ok (200){others}");
    let throughput = ok as f64 / secs;
    let rps = total as f64 / secs;
    println!("throughput: {throughput:.1} logins/s ({rps:.1} requests/s)");
    let mut lat = s.latencies_us.clone();
    lat.sort_unstable();
    let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|p| percentile(&lat, p) as f64 / 1e3);
    println!("latency (all requests): p50 {p50:.1} ms, p90 {p90:.1} ms, p99 {p99:.1} ms, max {max:.1} ms");
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
    match memory {
        Some((peak, end)) => println!(
            "server RSS: peak {:.1} MiB, at end {:.1} MiB",
            mib(peak),
            mib(end)
        ),
        None => println!("server RSS: not measured (give --server-pid with --server-url)"),
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
            mib(peak) < 100.0,
            format!("peak server RSS < 100 MiB ({:.1} MiB)", mib(peak)),
        );
    }
    println!("result: {met} of {all} targets met");
}

/// The server's own Argon2id time so far, (seconds, hashes), from `/metrics`.
async fn hash_metrics(http: &reqwest::Client, url: &str) -> Option<(f64, f64)> {
    let r = http.get(format!("{url}/metrics")).send().await.ok()?;
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

/// A server spawned for the run. Dropping it kills the process, then removes the data folder.
struct SpawnedServer {
    child: Child,
    port: u16,
    log: PathBuf,
    database_url: Option<String>,
    exe: PathBuf,
    dir: tempfile::TempDir,
    /// The `--server-env` settings, for the CLI commands run against its database too.
    env: Vec<(String, String)>,
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SpawnedServer {
    /// Spawns `sekisho serve` on a free loopback port, logging into the temporary folder.
    /// `data_dir`: another instance's data folder to share (its master key), else the new
    /// temporary folder.
    fn start(
        database_url: Option<&str>,
        exe: Option<&Path>,
        env: &[String],
        data_dir: Option<&Path>,
    ) -> Result<SpawnedServer> {
        let exe = match exe {
            Some(p) => p.to_owned(),
            None => sibling_sekisho()?,
        };
        let dir = tempfile::Builder::new()
            .prefix("sekisho-bench-")
            .tempdir()
            .context("cannot create a temporary data folder")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .context("cannot find a free loopback port")?
            .port();
        let log = dir.path().join("server.log");
        let out = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let err = out.try_clone()?;
        let data = data_dir.unwrap_or(dir.path());
        let mut cmd = sekisho_command(&exe, data, database_url, &["serve"]);
        let mut pairs = Vec::with_capacity(env.len());
        for pair in env {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| anyhow!("--server-env takes NAME=VALUE, not {pair:?}"))?;
            cmd.env(name, value);
            pairs.push((name.to_owned(), value.to_owned()));
        }
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd.spawn().context("cannot start the server")?;
        Ok(SpawnedServer {
            child,
            port,
            log,
            database_url: database_url.map(str::to_owned),
            exe,
            dir,
            env: pairs,
        })
    }

    /// Polls `/readyz` until it answers 200, for at most 30 seconds.
    async fn wait_ready(&mut self, http: &reqwest::Client, url: &str) -> Result<()> {
        let deadline = stopwatch() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited ({status}) before it was ready; log:\n{}",
                    log_tail(&self.log)
                );
            }
            let r = http
                .get(format!("{url}/readyz"))
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if r.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                return Ok(());
            }
            if stopwatch() >= deadline {
                bail!(
                    "the server was not ready within 30 s; log:\n{}",
                    log_tail(&self.log)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates an admin API token with `sekisho api-token create` (last line of its output).
    async fn admin_token(&self) -> Result<String> {
        let mut cmd = sekisho_command(
            &self.exe,
            self.dir.path(),
            self.database_url.as_deref(),
            &["api-token", "create", "--name", "bench", "--scope", "admin"],
        );
        cmd.envs(self.env.iter().cloned()).stdin(Stdio::null());
        let out = tokio::process::Command::from(cmd)
            .output()
            .await
            .context("cannot run `sekisho api-token create`")?;
        if !out.status.success() {
            bail!(
                "`sekisho api-token create` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        stdout
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("`sekisho api-token create` printed no token"))
    }
}

/// The `sekisho` binary in this program's folder, where cargo builds both.
fn sibling_sekisho() -> Result<PathBuf> {
    let me = std::env::current_exe().context("cannot find this program's path")?;
    let exe = me.with_file_name(format!("sekisho{}", std::env::consts::EXE_SUFFIX));
    if !exe.is_file() {
        bail!(
            "no sekisho binary next to this program ({}): build it (cargo build -p sekisho) or \
             give --server-bin",
            exe.display()
        );
    }
    Ok(exe)
}

/// The `sekisho` binary with a subcommand, the data folder and the database. Without a database URL the
/// server must use SQLite in the data folder, whatever the environment says.
fn sekisho_command(exe: &Path, dir: &Path, database_url: Option<&str>, sub: &[&str]) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(sub)
        .arg("--data-dir")
        .arg(dir)
        .env("NO_COLOR", "1");
    match database_url {
        Some(u) => cmd.arg("--database-url").arg(u),
        None => cmd.env_remove("SEKISHO_DATABASE_URL"),
    };
    cmd
}

/// The last lines of the server log, for error messages.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let text = text.split("\nStack backtrace:").next().unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Creates the logins with permanent passwords through the admin API, a few at a time.
async fn create_logins(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    creds: &Arc<Vec<(String, String)>>,
) -> Result<()> {
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

/// What one load phase observed.
struct Samples {
    latencies_us: Vec<u64>,
    /// Count per HTTP status; 0 stands for a transport error.
    statuses: BTreeMap<u16, u64>,
    /// From the start until the last response.
    elapsed: Duration,
}

/// The login workload: one keep-alive client, the endpoint and the logins to cycle over.
struct Load {
    http: reqwest::Client,
    endpoint: Arc<String>,
    creds: Arc<Vec<(String, String)>>,
}

impl Load {
    /// Sends logins from `concurrency` tasks for `secs` seconds; requests in flight then finish.
    async fn drive(&self, concurrency: u32, secs: u64) -> Result<Samples> {
        let n = self.creds.len().max(1);
        let start = stopwatch();
        let deadline = start + Duration::from_secs(secs);
        let mut set = JoinSet::new();
        for k in 0..concurrency as usize {
            let (http, endpoint, creds) =
                (self.http.clone(), self.endpoint.clone(), self.creds.clone());
            let mut i = k * n / concurrency as usize;
            set.spawn(async move {
                let (mut latencies, mut statuses) = (Vec::new(), BTreeMap::<u16, u64>::new());
                while stopwatch() < deadline {
                    let Some((login_id, password)) = creds.get(i % n) else {
                        break;
                    };
                    i += 1;
                    let t = stopwatch();
                    let body = json!({ "login_id": login_id, "password": password });
                    let code = match http.post(endpoint.as_str()).json(&body).send().await {
                        Ok(r) => {
                            let code = r.status().as_u16();
                            r.bytes().await.map_or(0, |_| code)
                        }
                        Err(_) => 0,
                    };
                    latencies.push(u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX));
                    *statuses.entry(code).or_default() += 1;
                    if code == 0 {
                        // A refused connection fails at once; do not spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                (latencies, statuses)
            });
        }
        let (mut latencies_us, mut statuses) = (Vec::new(), BTreeMap::new());
        while let Some(r) = set.join_next().await {
            let (l, s) = r?;
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
}

/// The bench's stopwatch, for timing requests and phases. It decides nothing the server does,
/// so it reads the monotonic clock directly instead of taking a `Clock`.
#[allow(clippy::disallowed_methods)]
fn stopwatch() -> Instant {
    Instant::now()
}

/// Eight random hex digits that keep this run's login IDs apart from earlier runs' on the same
/// database.
fn run_tag() -> String {
    let mut bytes = [0u8; 4];
    app::OsRandom.fill(&mut bytes);
    hex::encode(bytes)
}

/// The nearest-rank percentile of sorted values (0 when empty).
fn percentile(sorted: &[u64], p: f64) -> u64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.saturating_sub(1)).copied().unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Samples a process's resident memory every 200 ms and keeps the peak (KiB).
struct RssSampler {
    pid: u32,
    peak: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let peak = Arc::new(AtomicU64::new(0));
        let p = peak.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(200));
            loop {
                tick.tick().await;
                if let Some(kib) = rss_kib(pid) {
                    p.fetch_max(kib, Ordering::Relaxed);
                }
            }
        });
        RssSampler { pid, peak, task }
    }

    /// Stops sampling; returns (peak, now) in KiB.
    fn finish(self) -> (u64, u64) {
        self.task.abort();
        let now = rss_kib(self.pid).unwrap_or(0);
        (self.peak.load(Ordering::Relaxed).max(now), now)
    }
}

/// `VmRSS` from `/proc/<pid>/status`, in KiB (Linux only).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_workload_takes_the_same_flags() {
        for (sub, want) in [
            ("login", Workload::Login),
            ("validate", Workload::Validate),
            ("oidc", Workload::Oidc),
        ] {
            let cli = Cli::try_parse_from([
                "sekisho-bench",
                sub,
                "--logins",
                "20",
                "--concurrency",
                "2",
                "--duration",
                "2",
                "--server-bin",
                "/opt/a/sekisho",
                "--database-url",
                "postgres://x/y",
            ]);
            let (workload, args) = match cli.map(|c| c.workload) {
                Ok(WorkloadCommand::Login(a)) => (Workload::Login, a),
                Ok(WorkloadCommand::Validate(a)) => (Workload::Validate, a),
                Ok(WorkloadCommand::Oidc(a)) => (Workload::Oidc, a),
                Ok(WorkloadCommand::Audit(_)) => unreachable!("not parsed here"),
                Err(e) => unreachable!("{e}"),
            };
            assert_eq!(workload, want);
            assert_eq!((args.logins, args.concurrency, args.duration), (20, 2, 2));
            assert_eq!(
                args.server_bin.as_deref(),
                Some(Path::new("/opt/a/sekisho"))
            );
            assert_eq!(args.database_url.as_deref(), Some("postgres://x/y"));
        }
    }
}
