//! Issue 19 item 3: `sekisho audit archive` writes the records before a date to a file that
//! verifies on its own and removes them, so the remaining trail verifies from the archive's end;
//! `sekisho audit verify` states its rate and walks from a checkpoint. The archiving itself runs
//! on both backends; the commands run as real processes on SQLite.

use super::{ok, sekisho};
use sekisho::audit_archive::{archive, verify_file};
use sekisho_core::audit::{Actor, AuditFilter, ClientInfo, EventType, NewAuditEvent};
use sekisho_core::audit_chain::ChainPoint;
use sekisho_core::Timestamp;
use sekisho_store::{ConnectOptions, Store};
use std::path::Path;
use std::sync::Arc;

async fn open(url: &str) -> Arc<dyn Store> {
    ok(sekisho_store::connect(&ConnectOptions {
        url: url.to_owned(),
        max_connections: 4,
        sqlite_synchronous: Default::default(),
    })
    .await)
}

fn ev(t: i64) -> NewAuditEvent {
    NewAuditEvent::new(
        Timestamp(t),
        EventType::LoginFailed,
        Some("arch0001"),
        Actor::SelfService,
        &ClientInfo::default(),
        "wrong password",
    )
}

async fn exec(url: &str, sql: &str) {
    sqlx::any::install_default_drivers();
    let pool = ok(sqlx::AnyPool::connect(url).await);
    ok(sqlx::query(sql).execute(&pool).await);
    pool.close().await;
}

/// Rewrites line `n` (1-based) of an archive file, or drops it.
fn edit_line(path: &Path, n: usize, f: impl Fn(&str) -> Option<String>) {
    let text = ok(std::fs::read_to_string(path));
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .filter_map(|(i, l)| if i + 1 == n { f(l) } else { Some(l.to_owned()) })
        .collect();
    ok(std::fs::write(path, lines.join("\n") + "\n"));
}

async fn archive_then_verify_both_halves(url: String) {
    let store = open(&url).await;
    let dir = ok(tempfile::tempdir());
    for t in 1_000..1_030 {
        ok(store.append_audit(&ev(t)).await);
    }
    let first = dir.path().join("2026-01.jsonl");
    let a = ok(archive(store.as_ref(), Timestamp(1_010), &first, Timestamp(5_000)).await)
        .unwrap_or_else(|| unreachable!("nothing archived"));
    assert_eq!(
        (a.from, a.end.id, a.records),
        (ChainPoint::genesis(1), 10, 10)
    );
    let f = ok(verify_file(&first));
    assert_eq!((f.broken, f.verified, &f.last), (None, 10, &a.end));
    let r = ok(store.verify_audit_chain(7).await);
    assert!(r.broken.is_none(), "{:?}", r.broken);
    assert_eq!((&r.from, r.verified), (&a.end, 21));
    let archived = ok(store
        .query_audit(&AuditFilter {
            event_type: Some(EventType::AuditArchived),
            limit: 5,
            ..AuditFilter::default()
        })
        .await);
    assert_eq!(archived.len(), 1);
    assert!(
        archived[0].description.contains(&a.end.to_text())
            && archived[0].description.contains("records 1..10 (10)"),
        "{}",
        archived[0].description
    );

    // The next archive starts where the first ended.
    let second = dir.path().join("2026-02.jsonl");
    let b = ok(archive(store.as_ref(), Timestamp(1_020), &second, Timestamp(5_001)).await)
        .unwrap_or_else(|| unreachable!("nothing archived"));
    assert_eq!((&b.from, b.end.id), (&a.end, 20));
    assert_eq!(ok(verify_file(&second)).from, a.end);
    assert_eq!(
        ok(archive(
            store.as_ref(),
            Timestamp(1_020),
            &dir.path().join("x"),
            Timestamp(5_002)
        )
        .await),
        None
    );
    assert!(
        archive(store.as_ref(), Timestamp(1_025), &second, Timestamp(5_002))
            .await
            .is_err_and(|e| e.to_string().contains("must not exist"))
    );
    let r = ok(store.verify_audit_chain(7).await);
    assert!(r.broken.is_none(), "{:?}", r.broken);

    // Tampering with an archive file is found: an altered record, a removed one, a cut file.
    let copy = dir.path().join("copy.jsonl");
    let tampered = |n: usize, f: &dyn Fn(&str) -> Option<String>| {
        ok(std::fs::copy(&first, &copy));
        edit_line(&copy, n, f);
        ok(verify_file(&copy)).broken.unwrap_or_default()
    };
    let altered = tampered(3, &|l| {
        Some(l.replace("wrong password", "nothing happened"))
    });
    assert!(
        altered.contains("event 2") && altered.contains("altered"),
        "{altered}"
    );
    let removed = tampered(4, &|_| None);
    assert!(removed.contains("missing"), "{removed}");
    let cut = tampered(12, &|_| None);
    assert!(cut.contains("cut short"), "{cut}");

    // A broken chain is not archived: nothing is written or removed.
    exec(&url, drop_update_trigger(&url)).await;
    exec(&url, "UPDATE audit_events SET time = 1 WHERE id = 24").await;
    let third = dir.path().join("2026-03.jsonl");
    let e = archive(store.as_ref(), Timestamp(1_028), &third, Timestamp(5_003)).await;
    assert!(
        e.is_err_and(|e| e.to_string().contains("broken at event 24")),
        "archived over a break"
    );
    assert!(!third.exists());
    assert_eq!(ok(store.audit_head().await).archived, Some(b.end));
}

fn drop_update_trigger(url: &str) -> &'static str {
    if url.starts_with("sqlite:") {
        "DROP TRIGGER audit_events_no_update"
    } else {
        "DROP TRIGGER audit_events_no_change ON audit_events"
    }
}

#[tokio::test]
async fn archive_then_verify_both_halves_sqlite() {
    let dir = ok(tempfile::tempdir());
    archive_then_verify_both_halves(sekisho_store::testing::sqlite_url(dir.path())).await;
}

#[tokio::test]
async fn archive_then_verify_both_halves_postgres() {
    let Some(url) = sekisho_store::testing::fresh_postgres_url("cli_audit_archive").await else {
        eprintln!("SEKISHO_TEST_DATABASE_URL not set: PostgreSQL case skipped");
        return;
    };
    archive_then_verify_both_halves(url).await;
}

/// The commands: verify with its rate and a checkpoint file, archive, verify the archive file
/// and what remains, and tampering after the checkpoint found.
#[tokio::test]
async fn audit_commands_archive_and_verify_from_a_checkpoint() {
    let dir = ok(tempfile::tempdir());
    let run = |args: &[&str]| {
        let out = ok(sekisho(dir.path()).args(args).output());
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for name in ["a", "b", "c"] {
        let (code, _, err) = run(&["api-token", "create", "--name", name, "--scope", "admin"]);
        assert_eq!(code, Some(0), "{err}");
    }
    let (code, out, err) = run(&["audit", "verify", "--checkpoint", "cp"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("records/s"), "{out}");
    assert!(out.contains("3 chained records verified"), "{out}");
    let cp = ok(std::fs::read_to_string(dir.path().join("cp")));
    assert!(cp.starts_with("3:"), "{cp}");
    run(&["api-token", "create", "--name", "d", "--scope", "admin"]);
    let (code, out, _) = run(&["audit", "verify", "--checkpoint", "cp"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("verified from {}", cp.trim())),
        "{out}"
    );
    assert!(out.contains("1 chained records verified"), "{out}");

    let (code, _, err) = run(&["audit", "archive", "--to", "a.jsonl"]);
    assert_ne!(code, Some(0));
    assert!(err.contains("audit.retain_days"), "{err}");
    let (code, out, err) = run(&[
        "audit",
        "archive",
        "--before",
        "2999-01-01",
        "--to",
        "a.jsonl",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        out.contains("4 records (1..4) archived to a.jsonl"),
        "{out}"
    );
    let (code, out, _) = run(&["audit", "verify", "--file", "a.jsonl"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("records/s") && out.ends_with("OK\n"), "{out}");
    let (code, out, _) = run(&["audit", "verify"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("verified from 4:"), "{out}");
    assert!(
        out.contains("1 chained records verified"),
        "the archiving's record: {out}"
    );

    // Tampering after the checkpoint is found by the walk from it.
    let db = dir.path().join("sekisho-data").join("sekisho.db");
    let url = format!("sqlite://{}", db.display());
    exec(&url, "DROP TRIGGER audit_events_no_update").await;
    exec(
        &url,
        "UPDATE audit_events SET description = 'x' WHERE id = 5",
    )
    .await;
    let (code, out, _) = run(&["audit", "verify", "--checkpoint", "cp"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("BROKEN at event 5"), "{out}");
}
