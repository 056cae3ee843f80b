//! The `email-code` workload: the second step of e-mail-code logins (`POST
//! /api/v1/login/second-factor` with the challenge and its code), each request finishing one
//! login into a session. The logins, each waiting at a challenge for its code, are seeded in
//! bulk in the spawned server's database through its own wiring
//! (`sekisho_app::seed::seed_password_logins`: the code hashed as the server hashes a sent one,
//! keyed with its challenge), and the load generator keeps the codes, so no mail is read.
//! Each challenge finishes once: the run ends when every one has.

use crate::load::{self, print_figures, print_slices, CpuMeter, Jobs};
use crate::{run_tag, stopwatch, BenchArgs, RssSampler, SpawnedServer};
use anyhow::{anyhow, bail, Result};
use serde_json::json;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

/// Runs the workload against the spawned `server` at `url`.
pub(crate) async fn run(
    args: &BenchArgs,
    url: &str,
    server: &SpawnedServer,
    backend: &str,
    rss: Option<RssSampler>,
    cores: usize,
) -> Result<()> {
    println!(
        "workload: e-mail-code second step (POST /api/v1/login/second-factor), backend: {backend}"
    );
    let n = args.logins as usize;
    println!(
        "logins: {n} (each waiting for its e-mail code, finished once), concurrency: {}, \
         warm-up: {} s, duration: {} s, cores here: {cores}",
        args.concurrency, args.warmup, args.duration
    );
    let t = stopwatch();
    let state = crate::validate::server_state(server).await?;
    let ttl = state.app().settings.email_code.ttl_secs;
    if i64::try_from(args.warmup + args.duration).unwrap_or(i64::MAX) + 30 > ttl {
        bail!(
            "the seeded codes live {ttl} s (email_code.ttl_secs): keep --warmup plus --duration \
             under {} s, or raise SEKISHO_EMAIL_CODE_TTL_SECS with --server-env",
            ttl - 30
        );
    }
    let prefix = format!("e{}-", run_tag());
    let seeded =
        sekisho_app::seed::seed_password_logins(state.app(), &prefix, n, "pwbenchcode01", true)
            .await
            .map_err(|e| anyhow!("seeding: {e:?}"))?;
    drop(state);
    let secs = t.elapsed().as_secs_f64();
    println!(
        "setup: seeded {n} logins, each with a challenge waiting for its e-mail code, in \
         {secs:.1} s ({:.0} logins/s)",
        n as f64 / secs.max(1e-9)
    );
    let answers: Vec<(String, String)> = seeded
        .into_iter()
        .map(|s| {
            s.challenge
                .ok_or_else(|| anyhow!("a login without its challenge"))
        })
        .collect::<Result<_>>()?;
    let jobs = Arc::new(Jobs {
        n,
        cycle: false,
        next: AtomicUsize::new(0),
        body: Box::new(move |i, out| {
            let (challenge, code) = answers.get(i).ok_or_else(|| anyhow!("no challenge {i}"))?;
            let body = json!({ "challenge": challenge, "otp": code });
            Ok(serde_json::to_writer(out, &body)?)
        }),
    });
    let addr = url.trim_start_matches("http://");
    let path = "/api/v1/login/second-factor";
    load::drive(addr, path, &jobs, args.concurrency, args.warmup).await?;
    let meter = CpuMeter::start(vec![server.child.id()]);
    let (samples, slices) = load::drive(addr, path, &jobs, args.concurrency, args.duration).await?;
    let cpu = meter.finish();
    let memory = rss.map(RssSampler::finish);
    print_slices(&slices, "logins finished");
    print_figures(&samples, "login finished", "logins finished", memory, cpu);
    if jobs.exhausted() {
        println!(
            "note: every seeded challenge was used before the time ran out; seed more with \
             --logins"
        );
    }
    Ok(())
}
