#!/usr/bin/env python3
"""The measuring half of benchmarks/expiry/run. Standard library only; shares the
socket client and the record writers of benchmarks/plugins/drive.py.

    drive.py ingest SOCKET SPOOL DEADLINES LEAD_S     (prints the due time, epoch s)
    drive.py measure SOCKET DEADLINES DUE LABEL        (prints one JSON line)

ingest   DEADLINES stand-mixer order + not-delivered-to-door complaint pairs, the
         complaints opened 24 h before DUE (LEAD_S seconds from now, on a whole
         second), in NDJSON files of 10,000 pairs; returns once every case is open.
measure  subscribes to ledger.entry events and reports when the first and the
         DEADLINES-th arrived, after DUE (wall clock; events go out after each commit).
"""
import datetime
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plugins"))
from drive import Client, cst, drop, kitchen_pair, write_tmp  # noqa: E402


def ingest(sock, spool, n, lead):
    c = Client(sock)
    due = math.ceil(time.time()) + lead
    opened = cst(datetime.datetime.fromtimestamp(due - 86400, datetime.timezone.utc))
    paid = cst(datetime.datetime.fromtimestamp(due - 2 * 86400, datetime.timezone.utc))
    per = 10000
    for f in range(0, n, per):
        name = "due-%06d.ndjson" % f
        write_tmp(spool, name, [kitchen_pair("X", i, opened, paid) for i in range(f, min(n, f + per))])
        drop(spool, name)
    while c.status()["cases"]["open"] < n:
        if time.time() > due - 1:
            sys.exit("drive: the cases did not open before they fell due (raise LEAD_S)")
        time.sleep(0.05)
    print(due)


def measure(sock, n, due, label):
    """Follows ledger.entry events (sent after each commit) rather than asking for
    counts, which would take the daemon's CPU for its own measurement."""
    c = Client(sock)
    result, error = c.call("event.subscribe", {"topics": ["ledger.entry"]})
    if error:
        sys.exit("drive: event.subscribe: %s" % error)
    first = last = None
    seen = 0
    c.sock.settimeout(max(due - time.time(), 0) + 600)
    while seen < n:
        line = c.file.readline()
        if not line:
            sys.exit("drive: the daemon closed the subscription after %d of %d entries" % (seen, n))
        t = time.time()
        event = json.loads(line)
        params = event.get("params", event)
        if params.get("topic") == "lagged":
            sys.exit("drive: the subscription lagged (%s dropped)" % params.get("dropped"))
        if params.get("topic") != "ledger.entry":
            continue
        seen += 1
        if first is None:
            first = t
    last = time.time()
    print(json.dumps({"scenario": label, "deadlines": n, "first_booked_after_due_s": round(first - due, 3),
                      "last_booked_after_due_s": round(last - due, 3), "expiries_per_s": round(n / max(last - due, 0.001))}))


if __name__ == "__main__":
    if sys.argv[1] == "ingest":
        ingest(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1] == "measure":
        measure(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(__doc__)
