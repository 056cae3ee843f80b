//! The closed-loop load of the password-login and e-mail-code workloads: `concurrency` clients,
//! each with its own keep-alive connection ([`http1`]), taking jobs from one shared counter (so
//! a job is done once across the warm-up and the measured run, or cycled over for logins), each
//! job from its own client address (`X-Forwarded-For`, which the spawned server trusts: customers
//! come from many addresses, and one address would meet the throttle instead of the logins).
//! Latencies and answers are kept per 5-second slice, so a slowdown over a run shows.

use crate::{http1, mib, percentile, stopwatch, Samples};
use anyhow::Result;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Seconds per slice of the per-slice rates.
pub(crate) const SLICE_SECS: u64 = 5;

/// Settings a spawned server gets for these workloads: client addresses from the load
/// generator's `X-Forwarded-For`, and throttle limits at their maximum (each address and
/// login ID makes one attempt per job, so they only bind when logins are cycled fast).
pub(crate) const SERVER_ENV: &[&str] = &[
    "SEKISHO_TRUST_FORWARDED_FOR=true",
    "SEKISHO_THROTTLE_PER_ADDRESS_PER_MINUTE=60000",
    "SEKISHO_THROTTLE_PER_ADDRESS_BURST=60000",
    "SEKISHO_THROTTLE_PER_LOGIN_PER_MINUTE=60000",
    "SEKISHO_THROTTLE_PER_LOGIN_BURST=60000",
];

/// Accepted answers and latencies of one slice.
#[derive(Default)]
pub(crate) struct Slice {
    pub(crate) accepted: u64,
    pub(crate) latencies_us: Vec<u64>,
}

/// Writes job `i`'s JSON request body.
pub(crate) type WriteBody = dyn Fn(usize, &mut Vec<u8>) -> Result<()> + Send + Sync;

/// The jobs of a run: `n` of them, writing job `i`'s JSON body; `cycle` starts over after the
/// last (else the run ends when every job is done).
pub(crate) struct Jobs {
    pub(crate) n: usize,
    pub(crate) cycle: bool,
    pub(crate) next: AtomicUsize,
    pub(crate) body: Box<WriteBody>,
}

impl Jobs {
    fn take(&self) -> Option<usize> {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        match (self.cycle, self.n) {
            (_, 0) => None,
            (true, n) => Some(i % n),
            (false, n) => (i < n).then_some(i),
        }
    }

    /// Whether every job was taken (never, when cycling).
    pub(crate) fn exhausted(&self) -> bool {
        !self.cycle && self.next.load(Ordering::Relaxed) >= self.n
    }
}

/// The client address of job `i`: `10.x.y.z`, one per job (up to 16 million).
fn address(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

/// Sends `POST {path}` to `addr` (`host:port`) from `concurrency` clients for `secs` seconds
/// (or until the jobs run out); requests in flight then finish.
pub(crate) async fn drive(
    addr: &str,
    path: &str,
    jobs: &Arc<Jobs>,
    concurrency: u32,
    secs: u64,
) -> Result<(Samples, Vec<Slice>)> {
    let start = stopwatch();
    let deadline = start + Duration::from_secs(secs);
    let head: Arc<str> = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         user-agent: sekisho-bench\r\n"
    )
    .into();
    let mut set = JoinSet::new();
    for _ in 0..concurrency {
        let (jobs, head) = (jobs.clone(), head.clone());
        let mut conn = http1::Conn::new(addr);
        set.spawn(async move {
            let mut statuses = BTreeMap::<u16, u64>::new();
            let mut slices: Vec<Slice> = Vec::new();
            let (mut body, mut req_head) = (Vec::with_capacity(256), Vec::with_capacity(256));
            while stopwatch() < deadline {
                let Some(i) = jobs.take() else { break };
                body.clear();
                (jobs.body)(i, &mut body)?;
                req_head.clear();
                req_head.extend_from_slice(head.as_bytes());
                req_head
                    .extend_from_slice(format!("x-forwarded-for: {}\r\n", address(i)).as_bytes());
                let t = stopwatch();
                let code = conn.post(&req_head, &body).await.unwrap_or(0);
                let us = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                let at = usize::try_from((t - start).as_secs() / SLICE_SECS).unwrap_or(usize::MAX);
                if slices.len() <= at {
                    slices.resize_with(at + 1, Slice::default);
                }
                if let Some(s) = slices.get_mut(at) {
                    s.latencies_us.push(us);
                    s.accepted += u64::from(code == 200);
                }
                *statuses.entry(code).or_default() += 1;
                if code == 0 {
                    // A refused connection fails at once; do not spin.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Ok::<_, anyhow::Error>((slices, statuses))
        });
    }
    gather(set, start).await
}

/// What one load task measured: its slices and its count per status.
pub(crate) type TaskResult = Result<(Vec<Slice>, BTreeMap<u16, u64>)>;

/// What a workload's tasks measured, put together: their slices added up, slice by slice,
/// their status counts, and the samples of the whole run since `start`.
pub(crate) async fn gather(
    mut set: JoinSet<TaskResult>,
    start: std::time::Instant,
) -> Result<(Samples, Vec<Slice>)> {
    let (mut all, mut statuses) = (Vec::<Slice>::new(), BTreeMap::new());
    while let Some(r) = set.join_next().await {
        let (slices, s) = r??;
        if all.len() < slices.len() {
            all.resize_with(slices.len(), Slice::default);
        }
        for (into, from) in all.iter_mut().zip(slices) {
            into.accepted += from.accepted;
            into.latencies_us.extend(from.latencies_us);
        }
        for (code, count) in s {
            *statuses.entry(code).or_default() += count;
        }
    }
    let latencies_us = all
        .iter()
        .flat_map(|s| s.latencies_us.iter().copied())
        .collect();
    let samples = Samples {
        latencies_us,
        statuses,
        elapsed: start.elapsed(),
    };
    Ok((samples, all))
}

/// Prints the rate and p99 of each slice (the last one may be short: requests in flight when
/// the time ran out end in it). `what`: the accepted answers' name, plural.
pub(crate) fn print_slices(slices: &[Slice], what: &str) {
    println!("per {SLICE_SECS} s slice ({what}/s, p99):");
    for (i, s) in slices.iter().enumerate() {
        let mut lat = s.latencies_us.clone();
        lat.sort_unstable();
        let p99 = percentile(&lat, 99.0) as f64 / 1e3;
        let from = i as u64 * SLICE_SECS;
        println!(
            "  {from:>3}-{:<3} s: {:>7.0}/s  p99 {p99:.2} ms",
            from + SLICE_SECS,
            s.accepted as f64 / SLICE_SECS as f64
        );
    }
}

/// CPU time a process has used so far, in clock ticks (Linux: 10 ms), from `/proc/<pid>/stat`.
pub(crate) fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces): state is the 3rd field, utime the
    // 14th and stime the 15th.
    let rest = stat.rsplit_once(')')?.1;
    let mut f = rest.split_whitespace().skip(11);
    Some(f.next()?.parse::<u64>().ok()? + f.next()?.parse::<u64>().ok()?)
}

/// CPU used by the server(s) and by this process (the load generator) over a measured run.
pub(crate) struct CpuUse {
    pub(crate) server_ticks: u64,
    pub(crate) client_ticks: u64,
}

/// Samples the CPU of the servers `pids` and of this process at the start of a measured run.
pub(crate) struct CpuMeter {
    pids: Vec<u32>,
    before: (Option<u64>, Option<u64>),
}

impl CpuMeter {
    pub(crate) fn start(pids: Vec<u32>) -> CpuMeter {
        let before = (servers_ticks(&pids), cpu_ticks(std::process::id()));
        CpuMeter { pids, before }
    }

    /// The CPU used since the start (`None` where `/proc` cannot say).
    pub(crate) fn finish(self) -> Option<CpuUse> {
        let after = (servers_ticks(&self.pids), cpu_ticks(std::process::id()));
        match (self.before, after) {
            ((Some(s0), Some(c0)), (Some(s1), Some(c1))) => Some(CpuUse {
                server_ticks: s1.saturating_sub(s0),
                client_ticks: c1.saturating_sub(c0),
            }),
            _ => None,
        }
    }
}

fn servers_ticks(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter().map(|p| cpu_ticks(*p)).sum()
}

/// Prints answers, rate, latency percentiles, RSS, CPU per accepted answer and the load
/// average; answers (rate, p99 in ms). `one` / `many`: the accepted answer's name.
pub(crate) fn print_figures(
    s: &Samples,
    one: &str,
    many: &str,
    memory: Option<(u64, u64)>,
    cpu: Option<CpuUse>,
) -> (f64, f64) {
    let total: u64 = s.statuses.values().sum();
    let ok = s.statuses.get(&200).copied().unwrap_or(0);
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    let others: String = s
        .statuses
        .iter()
        .filter(|(c, _)| **c != 200)
        .map(|(c, n)| match c {
            0 => format!(", transport error: {n}"),
            c => format!(", HTTP {c}: {n}"),
        })
        .collect();
    println!("requests: {total} total in {secs:.1} s, {ok} accepted (200){others}");
    let rate = ok as f64 / secs;
    println!("throughput: {rate:.0} {many}/s");
    let mut lat = s.latencies_us.clone();
    lat.sort_unstable();
    let [p50, p90, p99, max] = [50.0, 90.0, 99.0, 100.0].map(|p| percentile(&lat, p) as f64 / 1e3);
    println!("latency: p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms, max {max:.2} ms");
    match memory {
        Some((peak, end)) => println!(
            "server RSS: peak {:.1} MiB, at end {:.1} MiB",
            mib(peak),
            mib(end)
        ),
        None => println!("server RSS: not measured (give --server-pid with --server-url)"),
    }
    if let Some(c) = cpu.filter(|_| ok > 0) {
        // Linux counts CPU time in ticks of 10 ms.
        let per = |ticks: u64| ticks as f64 * 10_000.0 / ok as f64;
        println!(
            "CPU per {one}: server {:.0} us, load generator {:.0} us (over {:.1} s of CPU)",
            per(c.server_ticks),
            per(c.client_ticks),
            (c.server_ticks + c.client_ticks) as f64 / 100.0
        );
    }
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let avg: Vec<&str> = load.split_whitespace().take(3).collect();
        println!("load average at the end: {}", avg.join(" "));
    }
    (rate, p99)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs(n: usize, cycle: bool) -> Jobs {
        Jobs {
            n,
            cycle,
            next: AtomicUsize::new(0),
            body: Box::new(|_, _| Ok(())),
        }
    }

    #[test]
    fn each_job_is_taken_once_unless_cycling() {
        let once = jobs(2, false);
        assert_eq!(
            (once.take(), once.take(), once.take()),
            (Some(0), Some(1), None)
        );
        assert!(once.exhausted());
        let cycled = jobs(2, true);
        assert_eq!(
            (cycled.take(), cycled.take(), cycled.take()),
            (Some(0), Some(1), Some(0))
        );
        assert!(!cycled.exhausted());
    }

    #[test]
    fn each_job_has_its_own_address() {
        assert_eq!(address(0), "10.0.0.0");
        assert_eq!(address(70_000), "10.1.17.112");
    }
}
