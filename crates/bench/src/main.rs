//! `sekisho-bench`: load benchmarks that print figures, kept out of the production binary. By
//! default it spawns the `sekisho` binary found next to it as a server on loopback with a
//! temporary data folder, seeds what the workload needs in bulk in its database through the
//! server's own wiring, then drives the workload from concurrent clients and reports throughput,
//! latency percentiles, CPU per operation and the server's memory against the targets.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};
use sekisho_core::Random;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod app;
mod audit;
mod email_code;
mod http1;
mod load;
mod login;
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
    /// Password logins: `POST /api/v1/login` with login ID and password, cycling over the
    /// logins (seeded in bulk in a spawned server's database; created through the admin API
    /// with --server-url).
    Login(BenchArgs),
    /// The e-mail-code second step: `POST /api/v1/login/second-factor`, each request finishing
    /// a login waiting for its e-mail code (needs a spawned server: the logins, their challenges
    /// and the codes' hashes are seeded in its database; each challenge is used once).
    EmailCode(BenchArgs),
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
    /// E-mail-code second steps.
    EmailCode,
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

/// Options of the workloads.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Logins to create before measuring.
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub logins: u32,
    /// Concurrent clients.
    #[arg(long, value_name = "C", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// Seconds to measure (at most 600); the rate of each 5-second slice is printed (validate
    /// with HOTP tokens and login hold their rate for all of them; email-code ends when every
    /// challenge is used).
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
    /// A setting for the spawned server, as its environment variable (`NAME=VALUE`, repeatable;
    /// the seeding takes it too), e.g. `SEKISHO_PASSWORD_ARGON2_MEMORY_KIB=…`. The login and
    /// email-code workloads give the server the throttle's largest limits and trust the load
    /// generator's `X-Forwarded-For` (one address per login) unless told otherwise here.
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
        WorkloadCommand::EmailCode(args) => (Workload::EmailCode, args),
        WorkloadCommand::Validate(args) => (Workload::Validate, args),
        WorkloadCommand::Oidc(args) => (Workload::Oidc, args),
        WorkloadCommand::Audit(args) => return audit::run(args).await,
    };
    run(workload, args).await
}

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
            let defaults = match workload {
                Workload::Oidc => oidc::SERVER_ENV,
                Workload::Login | Workload::EmailCode => load::SERVER_ENV,
                Workload::Validate => &[],
            };
            env.splice(0..0, defaults.iter().map(|s| (*s).to_owned()));
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
    if workload == Workload::EmailCode {
        let server = server.as_ref().ok_or_else(|| {
            anyhow!("the email-code workload seeds its challenges: run it without --server-url")
        })?;
        return email_code::run(&args, &url, server, &backend, rss, cores).await;
    }
    login::run(
        &args,
        &http,
        &url,
        &token,
        server.as_mut(),
        &backend,
        rss,
        cores,
    )
    .await
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

/// What one load phase observed.
struct Samples {
    latencies_us: Vec<u64>,
    /// Count per HTTP status; 0 stands for a transport error.
    statuses: BTreeMap<u16, u64>,
    /// From the start until the last response.
    elapsed: Duration,
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
            ("email-code", Workload::EmailCode),
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
                Ok(WorkloadCommand::EmailCode(a)) => (Workload::EmailCode, a),
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
