#!/usr/bin/env python3
"""The measuring half of benchmarks/plugins/run: talks to a running wardend over its
socket, hands files to its spool (written into tmp/, renamed into incoming/) and prints
one JSON line per scenario. Standard library only.

    drive.py throughput SOCKET SPOOL kitchen|quality FILES RECORDS_PER_FILE LABEL
    drive.py latency SOCKET SPOOL SAMPLES hung|idle LABEL
    drive.py module EXEC FILES RECORDS_PER_FILE LABEL
    drive.py summary RESULTS

throughput  kitchen: FILES NDJSON files of RECORDS_PER_FILE order + complaint pairs
            (stand-mixer, delivery_service merchant, a not-delivered-to-door complaint
            opened an hour ago: one awaiting-evidence case due in 23 h per pair);
            quality: FILES NDJSON files of RECORDS_PER_FILE chat-metrics records, one
            month per file, shops s0... once each (every odd shop fails S1 and books S3).
            The first file is dropped alone and waited for (cold: the first file after
            the daemon started), then the others all at once (warm). Done means: every
            case open (kitchen) or every file in processed/ (quality), and
            daemon.status records_waiting {} (every external module's input applied).
latency     drop-to-case-visible latency: SAMPLES files of one order + complaint each,
            dropped one at a time; after each rename, case.get is asked every 0.5 ms
            until the case is there. "hung" first drops a cosmetics order and waits
            until the cosmetics module has it (its evaluate never returns).
module      the chat-metrics inputs of "quality" sent straight to the module EXEC on
            stdio, no daemon, in the daemon's pattern (rounds of 64 inputs, 4 pipelined
            calls of 16): what the module alone can do.
summary     the targets against the scenarios in RESULTS (lines "KEY JSON").
"""
import datetime
import json
import os
import socket
import sys
import time

CST = datetime.timezone(datetime.timedelta(hours=8))


class Client:
    """One connection, one request at a time."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.file = self.sock.makefile("rb")
        self.next_id = 0

    def call(self, method, params=None):
        self.next_id += 1
        line = json.dumps({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}})
        self.sock.sendall(line.encode() + b"\n")
        answer = json.loads(self.file.readline())
        return answer.get("result"), answer.get("error")

    def has_case(self, case_id):
        result, _ = self.call("case.get", {"case_id": case_id})
        return result is not None

    def status(self):
        result, error = self.call("daemon.status")
        if error:
            sys.exit("drive: daemon.status: %s" % error)
        return result


def wait_running(c, timeout=60):
    """Until every enabled policy is running (an external module has done its handshake)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        result, _ = c.call("policy.list")
        entries = result if isinstance(result, list) else (result or {}).get("policies", [])
        states = {e.get("id"): e.get("state") for e in entries if e.get("enabled", True)}
        if states and all(s in ("running", "disabled") for s in states.values()):
            return states
        time.sleep(0.05)
    sys.exit("drive: modules not running after %ds: %s" % (timeout, states))


def processed_count(spool):
    root = os.path.join(spool, "processed")
    return sum(len(os.listdir(os.path.join(root, d))) for d in os.listdir(root))


def rejected(spool):
    return [n for n in os.listdir(os.path.join(spool, "rejected")) if not n.endswith(".error.json")]


def write_tmp(spool, name, lines):
    with open(os.path.join(spool, "tmp", name), "w") as f:
        f.write("".join(lines))


def drop(spool, name):
    os.rename(os.path.join(spool, "tmp", name), os.path.join(spool, "incoming", name))


def cst(t):
    return t.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")


def kitchen_pair(tag, i, opened, paid, shop="bench"):
    order = '{"type":"order","order_id":"%sO%d","category":"stand-mixer","shop":"%s","paid_amount":"1299.00","paid_at":"%s","delivery_service":"merchant"}\n' % (tag, i, shop, paid)
    complaint = '{"type":"complaint","complaint_id":"%sC%d","order_id":"%sO%d","reason":"not-delivered-to-door","opened_at":"%s"}\n' % (tag, i, tag, i, opened)
    return order + complaint


def month(k):
    """The k-th month from 2022-09 (the first month S1 assesses)."""
    m = 8 + k
    return "%d-%02d" % (2022 + m // 12, m % 12 + 1)


def metrics(k, shop):
    """Shop s<shop>'s chat-metrics for month k: odd shops fail S1 (30 of 45 satisfied)."""
    return '{"type":"chat-metrics","shop":"s%d","month":"%s","ratings":45,"satisfied_ratings":%d,"rounds":1100,"rounds_answered_within_3min":1000}' % (
        shop, month(k), 30 if shop % 2 else 40)


def throughput(sock, spool, kind, files, per, label):
    c = Client(sock)
    wait_running(c)
    now = datetime.datetime.now(datetime.timezone.utc)
    opened, paid = cst(now - datetime.timedelta(hours=1)), cst(now - datetime.timedelta(days=2))
    names = ["f%03d.ndjson" % k for k in range(files)]
    per_file = per * 2 if kind == "kitchen" else per  # records
    for k, name in enumerate(names):
        if kind == "kitchen":
            write_tmp(spool, name, [kitchen_pair("B", k * per + i, opened, paid) for i in range(per)])
        else:
            write_tmp(spool, name, [metrics(k, i) + "\n" for i in range(per)])

    def last_applied(k):
        """Whether the last record of file k has been applied."""
        last = (k + 1) * per - 1
        if kind == "kitchen":
            return c.has_case("BC%d" % last)
        # One month per file, every shop once; the last odd shop fails every month.
        shop = "s%d" % (per - 1 if (per - 1) % 2 else per - 2)
        result, _ = c.call("finding.list", {"subject": "shop:" + shop, "limit": 1000})
        return result is not None and len(result["findings"]) >= k + 1

    def all_applied(dropped):
        s = c.status()
        if s["records_waiting"]:
            return False
        if kind == "kitchen":
            return s["cases"]["open"] == dropped * per
        return processed_count(spool) + len(rejected(spool)) == dropped

    def wait(first, last, t_start, stored=None):
        """Polls until the last record of each file first...last is applied in turn (the
        time of each from t_start), then until everything is."""
        done = []
        for k in range(first, last + 1):
            while True:
                if stored is not None and stored[0] is None and processed_count(spool) == files:
                    stored[0] = time.monotonic()
                if last_applied(k):
                    break
                time.sleep(0.005)
            done.append(round(time.monotonic() - t_start, 2))
        while not all_applied(last + 1):
            if stored is not None and stored[0] is None and processed_count(spool) == files:
                stored[0] = time.monotonic()
            time.sleep(0.005)
        return time.monotonic(), done

    t0 = time.monotonic()
    drop(spool, names[0])
    t1, _ = wait(0, 0, t0)
    stored = [None]
    t2 = time.monotonic()
    for name in names[1:]:
        drop(spool, name)
    t3, per_file_done = wait(1, files - 1, t2, stored) if files > 1 else (t1, [])
    if stored[0] is None:
        stored[0] = t3
    s = c.status()
    bad = rejected(spool)
    out = {
        "scenario": label,
        "records": files * per_file,
        "files": files,
        "records_per_file": per_file,
        "records_per_s": round(files * per_file / (t3 - t0)),
        "seconds": round(t3 - t0, 3),
        "cold_first_file_s": round(t1 - t0, 3),
        "cold_records_per_s": round(per_file / (t1 - t0)),
        "warm_records_per_s": round((files - 1) * per_file / (t3 - t2)) if files > 1 else None,
        "warm_spool_durable_s": round(stored[0] - t2, 3) if files > 1 else None,
        "cases_open": s["cases"]["open"],
        "records_waiting": s["records_waiting"],
        "rejected_files": len(bad),
        "warm_file_done_s": per_file_done,
    }
    if kind == "quality":
        result, _ = c.call("ledger.summary")
        out["s3_booked"] = result["by_rule"].get("S3", {}).get("count", 0)
        out["s3_expected"] = files * (per // 2)
    print(json.dumps(out))


def module_alone(exe, files, per, label):
    """The module without a daemon: the same chat-metrics inputs (facts.records: the
    shop's records so far, as the daemon sends them) in the daemon's pattern, rounds of
    64 inputs as 4 pipelined evaluate calls of 16, each round answered before the next."""
    import subprocess
    env = dict(os.environ, WARDEN_PLUGIN_PROTOCOL="1", WARDEN_PLUGIN_ID="service-quality")
    p = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def send(obj):
        p.stdin.write(json.dumps(obj, separators=(",", ":")).encode() + b"\n")

    send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocol": 1, "module": "service-quality", "parameters": {}, "timezone": "Asia/Shanghai", "warden_version": "bench"}})
    p.stdin.flush()
    json.loads(p.stdout.readline())
    now = datetime.datetime.now(CST).isoformat(timespec="milliseconds")
    inputs = []
    for k in range(files):
        for shop in range(per):
            record = json.loads(metrics(k, shop))
            history = [json.loads(metrics(j, shop)) for j in range(k + 1)]
            inputs.append({"kind": "record", "record": record, "facts": {"now": now, "order_cases": [], "records": history}})
    lines = []
    for i in range(0, len(inputs), 16):
        lines.append(json.dumps({"jsonrpc": "2.0", "id": 2 + i // 16, "method": "evaluate",
                                 "params": {"inputs": inputs[i:i + 16]}}, separators=(",", ":")).encode() + b"\n")
    books = 0
    t0 = time.monotonic()
    for r in range(0, len(lines), 4):
        p.stdin.write(b"".join(lines[r:r + 4]))
        p.stdin.flush()
        for _ in lines[r:r + 4]:
            answer = json.loads(p.stdout.readline())
            books += sum(1 for x in answer["result"]["results"] for d in x["decisions"] if "book" in d)
    t1 = time.monotonic()
    send({"jsonrpc": "2.0", "method": "shutdown", "params": {}})
    p.stdin.close()
    p.wait()
    print(json.dumps({"scenario": label, "records": len(inputs), "records_per_s": round(len(inputs) / (t1 - t0)),
                      "seconds": round(t1 - t0, 3), "s3_booked": books, "s3_expected": files * (per // 2)}))


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def latency(sock, spool, samples, mode, label):
    c = Client(sock)
    wait_running(c)
    now = datetime.datetime.now(datetime.timezone.utc)
    opened, paid = cst(now - datetime.timedelta(hours=1)), cst(now - datetime.timedelta(days=2))
    hung_waiting = None
    if mode == "hung":
        write_tmp(spool, "cosmetics.json",
                  ['{"type":"order","order_id":"COSMO-1","category":"cosmetics","shop":"glow","paid_amount":"129.00","paid_at":"%s"}\n' % paid])
        drop(spool, "cosmetics.json")
        start = time.monotonic()
        while c.status()["records_waiting"].get("cosmetics", 0) < 1:
            if time.monotonic() - start > 30:
                sys.exit("drive: the cosmetics order was not queued")
            time.sleep(0.01)
        time.sleep(1.0)  # the runner has sent it; the module sleeps in evaluate
    for i in range(samples):
        write_tmp(spool, "l%03d.ndjson" % i, [kitchen_pair("L", i, opened, paid, shop="lat")])
    lat = []
    for i in range(samples):
        t = time.monotonic()
        drop(spool, "l%03d.ndjson" % i)
        while not c.has_case("LC%d" % i):
            time.sleep(0.0005)
        lat.append((time.monotonic() - t) * 1000)
        time.sleep(0.05)
    s = c.status()
    if mode == "hung":
        hung_waiting = s["records_waiting"].get("cosmetics", 0)
        policies, _ = c.call("policy.list")
        entries = policies if isinstance(policies, list) else (policies or {}).get("policies", [])
        cosmetics = [e for e in entries if e.get("id") == "cosmetics"]
    warm = sorted(lat[1:])
    every = sorted(lat)
    out = {
        "scenario": label,
        "samples": samples,
        "cold_ms": round(lat[0], 2),
        "warm_p50_ms": round(percentile(warm, 50), 2),
        "warm_p99_ms": round(percentile(warm, 99), 2),
        "warm_max_ms": round(warm[-1], 2),
        "all_p50_ms": round(percentile(every, 50), 2),
        "all_p99_ms": round(percentile(every, 99), 2),
        "all_max_ms": round(every[-1], 2),
    }
    if mode == "hung":
        out["cosmetics_waiting_at_end"] = hung_waiting
        if cosmetics:
            out["cosmetics_state"] = cosmetics[0].get("state")
            out["cosmetics_restarts"] = cosmetics[0].get("restarts")
    print(json.dumps(out))


def summary(path):
    r = {}
    for line in open(path):
        key, _, text = line.partition(" ")
        r[key] = json.loads(text)

    def verdict(ok):
        return "PASS" if ok else "FAIL"

    if "kitchen-builtin" in r and "kitchen-served" in r:
        b, s = r["kitchen-builtin"], r["kitchen-served"]
        ratio = s["records_per_s"] / b["records_per_s"]
        warm = s["warm_records_per_s"] / b["warm_records_per_s"] if b.get("warm_records_per_s") and s.get("warm_records_per_s") else None
        print("1. served kitchen-appliances / in-process: %.2f (%d / %d records/s; warm %s; target >= 0.50): %s" % (
            ratio, s["records_per_s"], b["records_per_s"], "%.2f" % warm if warm else "n/a", verdict(ratio >= 0.5)))
    if "quality-python" in r:
        p = r["quality-python"]
        ref = r.get("quality-builtin", {}).get("records_per_s")
        alone = r.get("quality-module", {}).get("records_per_s")
        print("2. Python service_quality.py: %d records/s (warm %s; in-process %s; the module alone %s; target >= 10,000): %s" % (
            p["records_per_s"], p.get("warm_records_per_s"), ref, alone, verdict(p["records_per_s"] >= 10000)))
    if "latency-hung" in r:
        h = r["latency-hung"]
        ref = r.get("latency-idle", {})
        worst = max(h["cold_ms"], h["warm_max_ms"])
        print("3. kitchen drop-to-case with a hung module: cold %.1f ms, p50 %.1f, p99 %.1f, max %.1f ms (without: cold %s, p50 %s, p99 %s, max %s; target <= 1000 ms): %s" % (
            h["cold_ms"], h["warm_p50_ms"], h["warm_p99_ms"], h["warm_max_ms"],
            ref.get("cold_ms"), ref.get("warm_p50_ms"), ref.get("warm_p99_ms"), ref.get("warm_max_ms"), verdict(worst <= 1000)))


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "throughput" and len(sys.argv) == 8:
        throughput(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    elif mode == "latency" and len(sys.argv) == 7:
        latency(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif mode == "module" and len(sys.argv) == 6:
        module_alone(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif mode == "summary" and len(sys.argv) == 3:
        summary(sys.argv[2])
    else:
        sys.exit(__doc__)
