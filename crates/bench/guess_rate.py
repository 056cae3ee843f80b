#!/usr/bin/env python3
# Guesses a client gets checked at POST /api/v1/login (issue 16 item 2): a fresh server from
# the given binary on its embedded defaults, 400 logins, then 10 s of wrong passwords from one
# address at one login, and (after the buckets refill) spread over the others.
#   python3 crates/bench/guess_rate.py target/release/sekisho
import json, os, subprocess, sys, tempfile, threading, time, urllib.request, urllib.error, socket
BIN = sys.argv[1]
d = tempfile.mkdtemp()
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
url = f"http://127.0.0.1:{port}"
env = {k: v for k, v in os.environ.items() if not k.startswith("SEKISHO_")}
srv = subprocess.Popen([BIN, "serve", "--listen", f"127.0.0.1:{port}"], cwd=d, env=env,
                       stdout=subprocess.DEVNULL, stderr=open(d + "/log", "w"))
for _ in range(300):
    try:
        urllib.request.urlopen(url + "/readyz"); break
    except Exception: time.sleep(0.1)
tok = subprocess.run([BIN, "api-token", "create", "--name", "m", "--scope", "admin"], cwd=d, env=env,
                     capture_output=True, text=True).stdout.strip().splitlines()[-1]
def call(path, body, bearer=None):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **({"authorization": "Bearer " + bearer} if bearer else {})})
    try:
        with urllib.request.urlopen(req) as r: return r.status
    except urllib.error.HTTPError as e: return e.code
ids = [f"99990{i:05d}" for i in range(400)]
for i in ids:
    assert call("/api/admin/v1/logins", {"login_id": i, "email": f"{i}@example.jp", "display_name": "M", "password": "Right2026x", "temporary": False}, tok) == 201
def run(name, pick, secs=10, threads=8):
    counts = {}; lock = threading.Lock(); stop = time.time() + secs; n = [0]
    def w():
        while time.time() < stop:
            with lock: k = n[0]; n[0] += 1
            st = call("/api/v1/login", {"login_id": pick(k), "password": "wrong-guess"})
            with lock: counts[st] = counts.get(st, 0) + 1
    ts = [threading.Thread(target=w) for _ in range(threads)]
    [t.start() for t in ts]; [t.join() for t in ts]
    checked = counts.get(401, 0) + counts.get(403, 0)
    print(f"{name}: {sum(counts.values())} requests in {secs} s, answers {counts}; guesses checked {checked} = {checked/secs:.1f}/s")
run("one login, one address", lambda k: ids[0])
time.sleep(61)
run("many logins, one address", lambda k: ids[1 + k % 399])
st = subprocess.run([BIN, "audit", "verify"], cwd=d, env=env, capture_output=True, text=True).stdout
srv.terminate(); srv.wait()
