#!/usr/bin/env python3
"""The fault soak's server-side half (tests/soak/test_soak.sh; docs/fault-soak.md).

    soak_check.py faults   SERVER_JSON SEED              install the seeded fault rules
    soak_check.py snapshot SERVER_JSON OUT               hash every auth Secret's password
    soak_check.py check    SERVER_JSON COUNT SNAPSHOT STATS SQL_COUNTS
                                                         check the objects, print the summary

Talks to the API test server's control API (/_test/..., never faulted). Passwords
are only ever hashed (SHA-256) in memory; no password or REDIS_URL is printed or
written. Exit 0 when every check held, 1 otherwise.
"""
import base64
import hashlib
import http.client
import json
import ssl
import sys

TENANTS = 4  # as soak_driver.c

# The storm: about 10% of API requests (watches included) get one of these. Each
# rule draws from its own seeded random.Random, so the same seed and the same
# request sequence give the same faults; the first rule that fires wins.
# 429s are rarer than the rest because each costs the Retry-After's full second.
FAULTS = [
    ("500", {"probability": 0.025, "status": 500}),
    ("503", {"probability": 0.02, "status": 503}),
    ("504 after 100 ms", {"probability": 0.015, "status": 504, "latency_ms": 100}),
    ("429 Retry-After 1 s", {"probability": 0.004, "status": 429, "retry_after": 1}),
    ("dropped connection", {"probability": 0.015, "drop": True}),
    # The server acts, the answer is lost: a create retried finds its own object (409).
    ("answer lost after the write", {"probability": 0.01, "drop_response": True}),
    ("latency 150 ms", {"probability": 0.011, "latency_ms": 150}),
]


class Server:
    def __init__(self, server_json):
        with open(server_json) as f:
            info = json.load(f)
        self.port = info["port"]
        self.token = info["token"]
        self.ssl = ssl.create_default_context(cafile=info["ca"])

    def call(self, method, path, body=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ssl, timeout=60)
        try:
            headers = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            if resp.status >= 300:
                raise SystemExit(f"soak_check: {method} {path}: HTTP {resp.status}")
            return json.loads(data)
        finally:
            conn.close()


def install_faults(server, seed):
    for i, (_, rule) in enumerate(FAULTS):
        server.call("POST", "/_test/faults", dict(rule, seed=seed * 100 + i))


def fault_kind(rule):
    for label, spec in FAULTS:
        if all(rule.get(k) == v for k, v in spec.items() if k != "probability"):
            return label
    return f"rule {rule.get('id')}"


def decode(secret, key):
    value = (secret.get("data") or {}).get(key)
    return base64.b64decode(value) if value is not None else None


def digest(value):
    return hashlib.sha256(value).hexdigest() if value is not None else None


def app_index(app_id, count):
    if not app_id or not app_id.startswith("soak-") or not app_id[5:].isdigit():
        return None
    i = int(app_id[5:])
    return i if i < count else None


def role(obj):
    kind, name = obj["kind"], obj["metadata"]["name"]
    labels = obj["metadata"].get("labels") or {}
    if kind == "Service":
        return "Service/" + labels.get("valkeyaddon.io/service", "?")
    if kind == "Secret":
        if name.endswith("-auth"):
            return "Secret/auth"
        if name.startswith("app-") and name.endswith("-redis-url"):
            return "Secret/url"
    return kind


# The NetworkPolicy {name}-ingress is built by default (issue 14 item 4).
ROLES = ("StatefulSet", "Service/primary", "Service/headless", "Secret/auth", "Secret/url", "NetworkPolicy")


# Made by the test server's StatefulSet controller from what the library wrote, not by the library.
CONTROLLER_MADE = ("Pod", "PersistentVolumeClaim", "ControllerRevision")


def soak_objects(server):
    items = server.call("GET", "/_test/objects")["items"]
    return [o for o in items if o["metadata"].get("namespace", "").startswith("soak-")
            and o.get("kind") not in CONTROLLER_MADE]


def snapshot(server, out):
    hashes = {}
    for obj in soak_objects(server):
        if role(obj) == "Secret/auth":
            app = (obj["metadata"].get("labels") or {}).get("valkeyaddon.io/app-id")
            hashes[app] = digest(decode(obj, "password"))
    with open(out, "w") as f:
        json.dump(hashes, f)
    print(f"soak_check: snapshot of {len(hashes)} auth Secret password hashes after pass 1")


def read_stats(path):
    stats, retries = {}, {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts[0] == "retry":
                retries[parts[1]] = int(parts[2])
            else:
                stats[parts[0]] = int(parts[1])
    return stats, retries


def check(server, count, snapshot_path, stats_path, sql_counts):
    failures = []
    stats, driver_retries = read_stats(stats_path)
    with open(snapshot_path) as f:
        before = json.load(f)

    # Objects: each app has exactly one of each role, nothing else lives in the soak namespaces.
    per_app = [dict.fromkeys(ROLES, 0) for _ in range(count)]
    keys, strays, auth, url = {}, [], {}, {}
    objects = soak_objects(server)
    for obj in objects:
        meta = obj["metadata"]
        key = (obj["kind"], meta["namespace"], meta["name"])
        keys[key] = keys.get(key, 0) + 1
        app = (meta.get("labels") or {}).get("valkeyaddon.io/app-id")
        i, r = app_index(app, count), role(obj)
        if i is None or r not in ROLES or meta["namespace"] != f"soak-t{i % TENANTS}":
            strays.append("/".join(key))
            continue
        per_app[i][r] += 1
        if r == "Secret/auth":
            auth[app] = obj
        elif r == "Secret/url":
            url[app] = obj
    duplicates = sum(n - 1 for n in keys.values() if n > 1)
    duplicates += sum(max(0, n - 1) for counts in per_app for n in counts.values())
    missing = sum(1 for counts in per_app for n in counts.values() if n == 0)
    if duplicates:
        failures.append(f"{duplicates} duplicate object(s)")
    if missing:
        failures.append(f"{missing} missing object(s)")
    if strays:
        failures.append(f"{len(strays)} unexpected object(s), e.g. {strays[:3]}")

    # Passwords: the same after the repeat provisions; REDIS_URL copied from the auth Secret.
    rotated = url_mismatch = 0
    for i in range(count):
        app = f"soak-{i}"
        if app not in auth:
            continue
        password = decode(auth[app], "password")
        if before.get(app) != digest(password):
            rotated += 1
        uri = decode(auth[app], "uri")
        if app not in url or decode(url[app], "REDIS_URL") != uri or not uri or password not in uri:
            url_mismatch += 1
    if rotated:
        failures.append(f"{rotated} password(s) rotated")
    if url_mismatch:
        failures.append(f"{url_mismatch} app Secret(s) whose REDIS_URL is not the auth Secret's uri")

    # Rows, as PostgreSQL holds them (psql, not the library): "total distinct ready lost".
    total, distinct, ready, lost = (int(x) for x in sql_counts.split())
    row_duplicates = total - distinct
    if lost:
        failures.append(f"{lost} row(s) lost")
    if row_duplicates:
        failures.append(f"{row_duplicates} duplicate row(s)")
    if ready != count or total != count:
        failures.append(f"app_addons holds {total} rows, {ready} ready; expected {count}, all ready")

    attempted = 2 * count
    ready_n = stats["pass1_ready"] + stats["pass2_ready"]
    if ready_n != attempted:
        failures.append(f"{attempted - ready_n} provision(s) not Ready")
    if stats["pass2_created"] or stats["pass2_written"]:
        failures.append("the repeat provisions created a password or wrote an object")
    if not stats["pg_reconnects"]:
        failures.append("the PostgreSQL storage never reconnected")

    rules = server.call("GET", "/_test/faults")["items"]
    by_kind = {}
    for rule in rules:
        by_kind[fault_kind(rule)] = by_kind.get(fault_kind(rule), 0) + rule["injected"]
    injected = sum(by_kind.values())
    log = server.call("GET", "/_test/requests")["items"]
    requests = len(log)
    # Retries as the server saw them: a failed faulted request followed at once by the same request.
    # This also counts what libcurl re-sends by itself when a reused connection was dropped (not logged).
    resent = sum(1 for a, b in zip(log, log[1:])
                 if a["was_fault"] and a["status"] in (None, 429, 500, 503, 504)
                 and (a["method"], a["path"], a["query"]) == (b["method"], b["path"], b["query"]))
    capped = " (the log keeps the last 100000)" if requests >= 100000 else ""
    driver_total = sum(driver_retries.values())
    calls = stats["pass1_calls"] + stats["pass2_calls"]

    print(f"fault soak: {count} apps x 2 passes; pass 1 {stats['pass1_ms'] / 1000:.1f} s, "
          f"pass 2 {stats['pass2_ms'] / 1000:.1f} s")
    print(f"  provisions attempted: {attempted} ({count} + {count} repeated), ready: {ready_n}")
    print(f"  provision calls: {calls} ({driver_total} retried by the driver"
          + (": " + ", ".join(f"{k} {v}" for k, v in sorted(driver_retries.items())) if driver_retries else "")
          + ")")
    print(f"  passwords rotated: {rotated} (created in pass 1: {stats['pass1_created']}, "
          f"in pass 2: {stats['pass2_created']}; objects written by pass 2: {stats['pass2_written']})")
    print(f"  rows lost: {lost}, duplicate rows: {row_duplicates} (app_addons: {total} rows, {ready} ready)")
    print(f"  duplicate objects: {duplicates} ({len(objects)} objects, {missing} missing, {len(strays)} unexpected)")
    print(f"  faults injected: {injected} of {requests} API requests{capped}: "
          + ", ".join(f"{k} {v}" for k, v in by_kind.items()))
    print(f"  retries seen: {stats['request_retries']} request retries and {stats['watch_retries']} watch "
          f"re-opens (transport), {driver_total} provision retries (driver), "
          f"{stats['pg_reconnects']} PostgreSQL reconnect(s); {resent} faulted requests re-sent at once "
          f"(server's log)")
    print(f"  PostgreSQL restart: requested before provision {stats['restart_requested_at']}, "
          f"done before provision {stats['restart_seen_at']} of pass 1")
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    print("PASS: every add-on Ready, no password rotated, no row lost or duplicated, no object duplicated")
    return 0


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    server = Server(argv[2])
    if argv[1] == "faults" and len(argv) == 4:
        install_faults(server, int(argv[3]))
        return 0
    if argv[1] == "snapshot" and len(argv) == 4:
        snapshot(server, argv[3])
        return 0
    if argv[1] == "check" and len(argv) == 7:
        return check(server, int(argv[3]), argv[4], argv[5], argv[6])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
