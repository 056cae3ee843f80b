#!/usr/bin/env python3
"""The throttle's cost on SQLite, statement by statement (issue 16 item 2; docs/benchmarks.md).

Builds a WAL database shaped like Sekisho's (60,000 logins with an authenticator app, 5 % of
them with a validate bucket), then times, with prepared statements and alternating rounds:
the hot read of /api/v1/validate without and with the LEFT JOIN on the throttle table, and
the GCRA upsert every login attempt makes (one commit each). Not run by CI: `python3
crates/bench/throttle_cost.py`.
"""
import sqlite3, time, random, os, tempfile
d=tempfile.mkdtemp(); db=sqlite3.connect(os.path.join(d,'b.db'), isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
db.executescript("""
CREATE TABLE logins (id INTEGER PRIMARY KEY, login_id TEXT UNIQUE NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE otp_factors (id INTEGER PRIMARY KEY, uid TEXT, login_pk INTEGER, method TEXT, state TEXT, label TEXT, secret_enc TEXT,
 algorithm TEXT, digits INTEGER, period INTEGER, last_step INTEGER, drift INTEGER, failed_attempts INTEGER, locked_at INTEGER,
 created_at INTEGER, expires_at INTEGER, confirmed_at INTEGER, last_used_at INTEGER);
CREATE INDEX otp_login ON otp_factors(login_pk);
CREATE TABLE throttle (bucket TEXT PRIMARY KEY, tat_ms INTEGER NOT NULL, hold_until_ms INTEGER NOT NULL DEFAULT 0, allowed INTEGER NOT NULL DEFAULT 1, failures INTEGER NOT NULL DEFAULT 0);
""")
N=60000
db.execute("BEGIN")
for i in range(N):
    db.execute("INSERT INTO logins (id, login_id) VALUES (?,?)",(i+1,f"bench{i:06d}"))
    db.execute("INSERT INTO otp_factors (login_pk,uid,method,state,secret_enc,algorithm,digits,period,last_step,drift,failed_attempts,created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",(i+1,"u","totp","active","x"*80,"SHA1",6,30,0,0,0,0))
for i in range(0,N,20):  # 5% of logins have a validate bucket
    db.execute("INSERT INTO throttle (bucket,tat_ms) VALUES (?,?)",(f"validate:bench{i:06d}",0))
db.execute("COMMIT")
base="""SELECT l.id, l.login_id, l.disabled, f.id, f.uid, f.login_pk, f.method,
 f.state, f.label, f.secret_enc, f.algorithm, f.digits, f.period, f.last_step, f.drift,
 f.failed_attempts, f.locked_at, f.created_at, f.expires_at, f.confirmed_at, f.last_used_at{extra}
 FROM logins l LEFT JOIN otp_factors f ON f.login_pk = l.id AND f.method = 'totp' AND f.state = 'active'{join}
 WHERE l.login_id = ?"""
A=base.format(extra="",join="")
B=base.format(extra=", t.tat_ms",join=" LEFT JOIN throttle t ON t.bucket = 'validate:' || l.login_id")
ids=[f"bench{random.randrange(N):06d}" for _ in range(100000)]
def run(q):
    t=time.perf_counter()
    for i in ids: db.execute(q,(i,)).fetchone()
    return (time.perf_counter()-t)/len(ids)*1e6
res={'A':[],'B':[]}
for r in range(10):
    res['A'].append(run(A)); res['B'].append(run(B))
print("hot read without join µs:", ["%.2f"%x for x in res['A']])
print("hot read with join    µs:", ["%.2f"%x for x in res['B']])
C="""INSERT INTO throttle (bucket, tat_ms, hold_until_ms, allowed) VALUES (?1, ?2 + ?3, 0, 1)
 ON CONFLICT (bucket) DO UPDATE SET
 tat_ms = CASE WHEN throttle.hold_until_ms <= ?2 AND (CASE WHEN throttle.tat_ms > ?2 THEN throttle.tat_ms ELSE ?2 END) - ?2 <= ?4
   THEN (CASE WHEN throttle.tat_ms > ?2 THEN throttle.tat_ms ELSE ?2 END) + ?3 ELSE throttle.tat_ms END,
 allowed = CASE WHEN throttle.hold_until_ms <= ?2 AND (CASE WHEN throttle.tat_ms > ?2 THEN throttle.tat_ms ELSE ?2 END) - ?2 <= ?4 THEN 1 ELSE 0 END
 RETURNING tat_ms, hold_until_ms, allowed"""
keys=[f"addr:192.0.2.{random.randrange(250)}" for _ in range(20000)]
for r in range(2):
    t=time.perf_counter()
    for k in keys: db.execute(C,(k,1_780_000_000_000,500,29_500)).fetchall()
    print("GCRA upsert, own commit each (WAL, synchronous=NORMAL) µs: %.1f"%((time.perf_counter()-t)/len(keys)*1e6))
