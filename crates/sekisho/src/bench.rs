//! `sekisho bench`: a load benchmark that prints figures. By default it spawns this binary as a
//! server on loopback with a temporary data folder, creates logins through the admin API, times
//! one Argon2id hash in-process, then drives the workload from concurrent clients and reports
//! throughput, latency percentiles and the server's memory against the targets.

use anyhow::{anyhow, bail, Context, Result};
use sekisho_core::password::{HashParams, PasswordHasher};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What `sekisho bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Password logins: `POST /api/v1/login` with login ID and password.
    Login,
}

/// Options of `sekisho bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// The workload to run.
    #[arg(value_enum)]
    pub workload: Workload,
    /// Logins to create before measuring.
    #[arg(long, value_name = "N", default_value_t = 200,
        value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub logins: u32,
    /// Concurrent clients.
    #[arg(long, value_name = "C", default_value_t = 16,
        value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Seconds to measure (at most 600).
    #[arg(long, value_name = "SECS", default_value_t = 20,
        value_parser = clap::value_parser!(u64).range(1..=600))]
    pub duration: u64,
    /// Seconds of unmeasured load before measuring.
    #[arg(long, value_name = "SECS", default_value_t = 3,
        value_parser = clap::value_parser!(u64).range(0..=600))]
    pub warmup: u64,
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
}

/// Logins created at once during setup.
const CREATE_CONCURRENCY: usize = 8;
/// Hashes timed in-process (after one unmeasured hash).
const HASH_SAMPLES: usize = 10;

/// Runs the benchmark and prints the report; Ctrl-C stops it and still stops the server.
pub async fn run(args: BenchArgs) -> Result<()> {
    tokio::select! {
        r = bench(args) => r,
        _ = tokio::signal::ctrl_c() => bail!("interrupted"),
    }
}

async fn bench(args: BenchArgs) -> Result<()> {
    let Workload::Login = args.workload;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    let (url, token, backend, mut server) = match (&args.server_url, &args.admin_token) {
        (Some(url), Some(token)) => {
            let url = url.trim_end_matches('/').to_owned();
            (url.clone(), token.clone(), format!("external server at {url}"), None)
        }
        (Some(_), None) => bail!("--server-url needs --admin-token"),
        (None, _) => {
            let mut s = SpawnedServer::start(args.database_url.as_deref())?;
            let url = format!("http://127.0.0.1:{}", s.port);
            s.wait_ready(&http, &url).await?;
            let token = s.admin_token().await?;
            let backend = match &args.database_url {
                Some(u) if u.starts_with("postgres") => "postgres",
                _ => "sqlite",
            };
            (url, token, format!("{backend} (spawned server)"), Some(s))
        }
    };
    let pid = server.as_ref().map(|s| s.child.id()).or(args.server_pid);
    let rss = pid.map(RssSampler::start);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

    println!("workload: password login (POST /api/v1/login), backend: {backend}");
    println!(
        "logins: {}, concurrency: {}, warm-up: {} s, duration: {} s, cores: {cores} (shared by client and server)",
        args.logins, args.concurrency, args.warmup, args.duration
    );

    let run_tag = format!("{:08x}", rand::random::<u32>());
    let creds: Arc<Vec<(String, String)>> = Arc::new(
        (0..args.logins)
            .map(|i| (format!("bench-{run_tag}-{i}"), format!("pw{run_tag}{i:06}")))
            .collect(),
    );
    let t = Instant::now();
    create_logins(&http, &url, &token, &creds).await?;
    let setup = t.elapsed();
    println!(
        "setup: created {} logins in {:.1} s ({:.1} logins/s)",
        creds.len(),
        setup.as_secs_f64(),
        creds.len() as f64 / setup.as_secs_f64().max(1e-9)
    );

    let (t_hash, params) = time_hash().await?;

    if args.warmup > 0 {
        drive(&http, &url, &creds, args.concurrency, Duration::from_secs(args.warmup)).await?;
    }
    let s = drive(&http, &url, &creds, args.concurrency, Duration::from_secs(args.duration)).await?;
    let memory = rss.map(RssSampler::finish);
    if let Some(srv) = server.as_mut() {
        if let Some(status) = srv.child.try_wait()? {
            println!("warning: the server exited during the run ({status}); log:\n{}", log_tail(&srv.log));
        }
    }

    let total: u64 = s.statuses.values().sum();
    let ok = s.statuses.get(&200).copied().unwrap_or(0);
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let others: Vec<String> = s
        .statuses
        .iter()
        .filter(|(c, _)| **c != 200)
        .map(|(c, n)| if *c == 0 { format!("transport errors: {n}") } else { format!("{c}: {n}") })
        .collect();
    println!(
        "requests: {total} total in {:.1} s, {ok} ok (200){}",
        secs,
        if others.is_empty() { String::from(", no other statuses") } else { format!("; {}", others.join(", ")) }
    );
    let throughput = ok as f64 / secs;
    println!("throughput: {throughput:.1} logins/s ({:.1} requests/s)", total as f64 / secs);
    let mut lat = s.latencies_us;
    lat.sort_unstable();
    let ms = |p: f64| percentile(&lat, p) as f64 / 1000.0;
    let p99 = ms(99.0);
    println!(
        "latency (all requests): p50 {:.1} ms, p90 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
        ms(50.0),
        ms(90.0),
        ms(100.0)
    );
    let hash_ms = t_hash.as_secs_f64() * 1000.0;
    let limit = cores as f64 / t_hash.as_secs_f64().max(1e-9);
    let achieved = throughput / limit * 100.0;
    println!(
        "one Argon2id hash (m={} KiB, t={}, p={}): {hash_ms:.1} ms; hash-bound limit ({cores} cores / hash time): {limit:.1} logins/s; achieved: {achieved:.0} %",
        params.memory_kib, params.iterations, params.parallelism
    );
    if throughput > 0.0 {
        println!(
            "closed loop: mean latency is about concurrency / throughput = {:.1} ms (Little's law)",
            f64::from(args.concurrency) / throughput * 1000.0
        );
    }
    match memory {
        Some((peak, end)) => println!("server RSS: peak {:.1} MiB, at end {:.1} MiB", mib(peak), mib(end)),
        None => println!("server RSS: not measured (give --server-pid with --server-url)"),
    }

    let mut checks = vec![
        (achieved >= 80.0, format!("throughput >= 80 % of the hash-bound limit ({achieved:.0} % of {limit:.1} logins/s)")),
        (p99 < 4.0 * hash_ms, format!("p99 latency < 4 x hash time ({p99:.1} ms vs {:.1} ms)", 4.0 * hash_ms)),
    ];
    if let Some((peak, _)) = memory {
        checks.push((mib(peak) < 100.0, format!("peak server RSS < 100 MiB ({:.1} MiB)", mib(peak))));
    }
    println!("targets:");
    for (met, what) in &checks {
        println!("  [{}] {what}", if *met { "MET" } else { "NOT MET" });
    }
    let failed = checks.iter().filter(|(m, _)| !m).count();
    if failed == 0 {
        println!("result: all {} targets met", checks.len());
    } else {
        println!("result: {failed} of {} targets not met", checks.len());
    }
    drop(server);
    Ok(())
}

/// A server spawned for the run. Dropping it kills the process, then removes the data folder.
struct SpawnedServer {
    child: Child,
    port: u16,
    log: PathBuf,
    database_url: Option<String>,
    dir: tempfile::TempDir,
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SpawnedServer {
    /// Spawns `sekisho serve` on a free loopback port, logging into the temporary folder.
    fn start(database_url: Option<&str>) -> Result<SpawnedServer> {
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
        let mut cmd = sekisho_command(dir.path(), database_url, &["serve"])?;
        cmd.arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let child = cmd.spawn().context("cannot start the server")?;
        Ok(SpawnedServer { child, port, log, database_url: database_url.map(str::to_owned), dir })
    }

    /// Polls `/readyz` until it answers 200, for at most 30 seconds.
    async fn wait_ready(&mut self, http: &reqwest::Client, url: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited ({status}) before it was ready; log:\n{}", log_tail(&self.log));
            }
            let r = http.get(format!("{url}/readyz")).timeout(Duration::from_secs(2)).send().await;
            if r.is_ok_and(|r| r.status() == reqwest::StatusCode::OK) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("the server was not ready within 30 s; log:\n{}", log_tail(&self.log));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Creates an admin API token with `sekisho api-token create` (last line of its output).
    async fn admin_token(&self) -> Result<String> {
        let mut cmd = sekisho_command(
            self.dir.path(),
            self.database_url.as_deref(),
            &["api-token", "create", "--name", "bench", "--scope", "admin"],
        )?;
        cmd.stdin(Stdio::null());
        let out = tokio::process::Command::from(cmd)
            .output()
            .await
            .context("cannot run `sekisho api-token create`")?;
        if !out.status.success() {
            bail!("`sekisho api-token create` failed ({}): {}", out.status,
                String::from_utf8_lossy(&out.stderr).trim());
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

/// This binary with a subcommand, the data folder and the database. Without a database URL the
/// server must use SQLite in the data folder, whatever the environment says.
fn sekisho_command(dir: &Path, database_url: Option<&str>, sub: &[&str]) -> Result<Command> {
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let mut cmd = Command::new(exe);
    cmd.args(sub).arg("--data-dir").arg(dir);
    match database_url {
        Some(u) => cmd.arg("--database-url").arg(u),
        None => cmd.env_remove("SEKISHO_DATABASE_URL"),
    };
    Ok(cmd)
}

/// The last lines of the server log, for error messages.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
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
        let (http, next, endpoint, creds) = (http.clone(), next.clone(), endpoint.clone(), creds.clone());
        let token = token.to_owned();
        set.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((login_id, password)) = creds.get(i) else { return Ok(()) };
                let body = json!({
                    "login_id": login_id,
                    "email": format!("bench{i}@example.com"),
                    "display_name": format!("Bench {i}"),
                    "password": password,
                    "temporary": false,
                });
                let r = http.post(endpoint.as_str()).bearer_auth(&token).json(&body).send().await
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
        for i in 0..=HASH_SAMPLES {
            let t = Instant::now();
            hasher.hash("pwbenchtiming01", [i as u8; 16]).map_err(|e| anyhow!("hashing: {e}"))?;
            if i > 0 {
                times.push(t.elapsed());
            }
        }
        times.sort_unstable();
        let median = times.get(times.len() / 2).copied().ok_or_else(|| anyhow!("no hash timed"))?;
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

/// Sends logins from `concurrency` tasks until `duration` is up (requests in flight finish).
async fn drive(
    http: &reqwest::Client,
    url: &str,
    creds: &Arc<Vec<(String, String)>>,
    concurrency: u32,
    duration: Duration,
) -> Result<Samples> {
    let endpoint = Arc::new(format!("{url}/api/v1/login"));
    let n = creds.len().max(1);
    let start = Instant::now();
    let deadline = start + duration;
    let mut set = JoinSet::new();
    for k in 0..concurrency as usize {
        let (http, endpoint, creds) = (http.clone(), endpoint.clone(), creds.clone());
        let mut i = k * n / concurrency as usize;
        set.spawn(async move {
            let mut latencies = Vec::new();
            let mut statuses = BTreeMap::<u16, u64>::new();
            while Instant::now() < deadline {
                let Some((login_id, password)) = creds.get(i % n) else { break };
                i += 1;
                let t = Instant::now();
                let body = json!({ "login_id": login_id, "password": password });
                let code = match http.post(endpoint.as_str()).json(&body).send().await {
                    Ok(r) => {
                        let code = r.status().as_u16();
                        r.bytes().await.map(|_| code).unwrap_or(0)
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
    let mut s = Samples { latencies_us: Vec::new(), statuses: BTreeMap::new(), elapsed: Duration::ZERO };
    while let Some(r) = set.join_next().await {
        let (latencies, statuses) = r?;
        s.latencies_us.extend(latencies);
        for (code, count) in statuses {
            *s.statuses.entry(code).or_default() += count;
        }
    }
    s.elapsed = start.elapsed();
    Ok(s)
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
