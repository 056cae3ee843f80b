//! The `audit` workload: seed an audit trail of millions of records in bulk (a valid hash chain,
//! through `Store::seed_audit`: one prepared insert on SQLite, `COPY` on PostgreSQL), then time
//! the reads an operator makes of one customer's history: the console history page's query
//! (50 records, then the next page by keyset) in-process, and `GET /api/admin/v1/audit?login_id=`
//! over HTTP against a server spawned on the same database.

use crate::{percentile, stopwatch, SpawnedServer};
use anyhow::{anyhow, Context, Result};
use sekisho_core::audit::{Actor, AuditFilter, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::Timestamp;
use sekisho_store::Store;
use std::path::PathBuf;
use std::time::Duration;

/// Target: p99 of one history read at 10 million records (issue 19).
const TARGET_P99_MS: f64 = 50.0;
/// Records per `seed_audit` call (one transaction each).
const SEED_CHUNK: u64 = 50_000;

/// Options of the audit workload.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Records to add to the trail before measuring (0: measure what is there).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub records: u64,
    /// Customers the records are spread over (login IDs `a000000`…).
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub logins: u64,
    /// The records' times are spread evenly over this many days before now.
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    pub days: u64,
    /// Reads timed for each figure.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub queries: u32,
    /// The database: `postgres://…`, or by default SQLite in --data-dir (kept between runs, so a
    /// trail seeded once can be measured again with --records 0).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Folder of the SQLite database.
    #[arg(long, value_name = "DIR", default_value = "./sekisho-bench-audit")]
    pub data_dir: PathBuf,
    /// Spawn this `sekisho` binary for the HTTP figures instead of the one next to
    /// `sekisho-bench`.
    #[arg(long, value_name = "PATH")]
    pub server_bin: Option<PathBuf>,
}

/// A small deterministic generator (xorshift64*): the same trail for the same options.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn login_id(n: u64) -> String {
    format!("a{n:06}")
}

/// One record of the seeded trail: mostly accepted codes and logins, as a broker's day is.
fn record(mix: &mut Mix, time: i64, logins: u64) -> NewAuditEvent {
    let r = mix.next();
    let (ty, desc) = match r % 100 {
        0..=59 => (EventType::OtpValidated, "token"),
        60..=84 => (EventType::LoginSucceeded, "password and one-time code"),
        85..=94 => (EventType::LoginFailed, "wrong password"),
        95..=97 => (EventType::SecondFactorFailed, "wrong code"),
        _ => (EventType::DeviceRemembered, "30 days"),
    };
    let client = ClientInfo {
        ip: Some(format!("198.51.100.{}", (r >> 8) % 250)),
        user_agent: Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Trader/4.2".into()),
    };
    let mut ev = NewAuditEvent::new(
        Timestamp(time),
        ty,
        Some(&login_id((r >> 16) % logins)),
        Actor::SelfService,
        &client,
        desc,
    );
    if ty == EventType::LoginFailed {
        ev = ev.with_error("SKS-LGN-0001");
    }
    ev
}

/// Runs the workload.
pub(crate) async fn run(args: AuditArgs) -> Result<()> {
    let url = match &args.database_url {
        Some(u) => u.clone(),
        None => {
            std::fs::create_dir_all(&args.data_dir)?;
            let dir = std::fs::canonicalize(&args.data_dir)?;
            format!("sqlite://{}?mode=rwc", dir.join("audit.db").display())
        }
    };
    let backend = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    let store = sekisho_store::connect(&sekisho_store::ConnectOptions {
        url: url.clone(),
        max_connections: 4,
        sqlite_synchronous: Default::default(),
    })
    .await
    .map_err(|e| anyhow!("cannot open {url}: {e}"))?;
    println!("workload: audit trail at scale, backend: {backend}");
    seed(store.as_ref(), &args).await?;
    let head = store.audit_head().await.map_err(|e| anyhow!("{e}"))?;
    println!(
        "trail: records {}..{} in the table",
        head.archived.map_or(head.chain_start, |a| a.id + 1),
        head.last.id
    );

    let mut mix = Mix(0x5eed_0bad_cafe_f00d);
    let picks: Vec<String> = (0..args.queries)
        .map(|_| login_id(mix.next() % args.logins))
        .collect();

    // The console's history page of one customer: 50 records, then the next 50 by keyset.
    let mut first = Vec::with_capacity(picks.len());
    let mut second = Vec::with_capacity(picks.len());
    for login in &picks {
        let mut f = AuditFilter {
            login_id: Some(login.clone()),
            limit: 50,
            ..AuditFilter::default()
        };
        let t = stopwatch();
        let page = store.query_audit(&f).await.map_err(|e| anyhow!("{e}"))?;
        first.push(t.elapsed());
        if let Some(last) = page.last().filter(|_| page.len() == 50) {
            f.before_id = Some(last.event_id);
            let t = stopwatch();
            store.query_audit(&f).await.map_err(|e| anyhow!("{e}"))?;
            second.push(t.elapsed());
        }
    }
    figure("history page query (login_id, 50 newest)", &mut first);
    figure("history page query, next page (before=)", &mut second);

    // The console's history of the whole firm for one past day (no login), newest first.
    let newest = store
        .query_audit(&AuditFilter {
            limit: 1,
            ..AuditFilter::default()
        })
        .await
        .map_err(|e| anyhow!("{e}"))?;
    if let Some(end) = newest.first().map(|e| e.time) {
        let mut day = Vec::new();
        for k in 0..args.queries.min(200) {
            let since = end.plus_secs(-86_400 * (1 + i64::from(k % 60)));
            let t = stopwatch();
            store
                .query_audit(&AuditFilter {
                    since: Some(since),
                    until: Some(since.plus_secs(86_400)),
                    limit: 50,
                    ..AuditFilter::default()
                })
                .await
                .map_err(|e| anyhow!("{e}"))?;
            day.push(t.elapsed());
        }
        figure(
            "history of one past day, no login (since/until, 50 newest)",
            &mut day,
        );
    }

    // The admin API over HTTP, against a server on the same database.
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()?;
    // One master key for every run on this database (the first run seals its keys under it);
    // a benchmark's trail holds no secret worth a real key.
    let key = [format!("SEKISHO_MASTER_KEY={}", "b3".repeat(32))];
    let mut server = SpawnedServer::start(Some(&url), args.server_bin.as_deref(), &key, None)?;
    let base = format!("http://127.0.0.1:{}", server.port);
    server.wait_ready(&http, &base).await?;
    let token = server.admin_token().await?;
    let mut api = Vec::with_capacity(picks.len());
    for login in &picks {
        let t = stopwatch();
        let r = http
            .get(format!("{base}/api/admin/v1/audit?login_id={login}"))
            .bearer_auth(&token)
            .send()
            .await?;
        let status = r.status();
        let body = r.bytes().await?;
        api.push(t.elapsed());
        if !status.is_success() {
            return Err(anyhow!("GET /api/admin/v1/audit: HTTP {status}"))
                .context(String::from_utf8_lossy(&body).into_owned());
        }
    }
    let p99 = figure(
        "GET /api/admin/v1/audit?login_id= (100 newest, JSON)",
        &mut api,
    );
    let ok = p99 < TARGET_P99_MS;
    println!(
        "target: [{}] p99 < {TARGET_P99_MS} ms over HTTP ({p99:.1} ms at {} records)",
        if ok { "MET" } else { "NOT MET" },
        head.last.id
    );
    Ok(())
}

async fn seed(store: &dyn Store, args: &AuditArgs) -> Result<()> {
    if args.records == 0 {
        return Ok(());
    }
    let now = sekisho_core::Clock::now(&crate::app::SystemClock).0;
    let span = i64::try_from(args.days * 86_400).unwrap_or(i64::MAX);
    let start = now - span;
    let mut mix = Mix(0x0123_4567_89ab_cdef ^ args.records);
    let t = stopwatch();
    let mut done = 0u64;
    let mut reported = 0u64;
    while done < args.records {
        let n = SEED_CHUNK.min(args.records - done);
        let chunk: Vec<NewAuditEvent> = (done..done + n)
            .map(|i| {
                let offset = (i128::from(span) * i128::from(i) / i128::from(args.records)) as i64;
                record(&mut mix, start + offset, args.logins)
            })
            .collect();
        store
            .seed_audit(&chunk)
            .await
            .map_err(|e| anyhow!("seeding: {e}"))?;
        done += n;
        if done - reported >= 1_000_000 || done == args.records {
            reported = done;
            let secs = t.elapsed().as_secs_f64();
            println!(
                "seeded {done} records in {secs:.1} s ({:.0} records/s)",
                done as f64 / secs.max(1e-9)
            );
        }
    }
    Ok(())
}

/// Prints p50/p99/max of the timings and returns p99 in milliseconds.
fn figure(what: &str, times: &mut [Duration]) -> f64 {
    let mut us: Vec<u64> = times.iter().map(|d| d.as_micros() as u64).collect();
    us.sort_unstable();
    let ms = |p: f64| percentile(&us, p) as f64 / 1e3;
    println!(
        "{what}: {} reads, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        us.len(),
        ms(50.0),
        ms(99.0),
        ms(100.0)
    );
    ms(99.0)
}
