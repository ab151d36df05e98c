#!/usr/bin/env python3
"""The measuring half of benchmarks/pairs/run. Standard library only; shares the socket
client and the record writers of benchmarks/plugins/drive.py.

    drive.py write SPOOL TAG PAIRS        (writes the files into SPOOL/tmp, untimed)
    drive.py drop SOCKET SPOOL TAG PAIRS LABEL   (prints one JSON line)

write  PAIRS stand-mixer order + not-delivered-to-door complaint pairs (each complaint
       opens a case with a 24-hour deadline), in NDJSON files of 10,000 pairs
       (20,000 records) named TAG-*.ndjson.
drop   renames those files into incoming/ together and reports the records per second
       from the first rename until daemon.status counts PAIRS more open cases.
"""
import datetime
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plugins"))
from drive import Client, cst, drop, kitchen_pair, write_tmp  # noqa: E402

PER = 10000


def names(tag, n):
    return ["%s-%06d.ndjson" % (tag, f) for f in range(0, n, PER)]


def write(spool, tag, n):
    now = datetime.datetime.now(datetime.timezone.utc)
    opened = cst(now - datetime.timedelta(hours=1))
    paid = cst(now - datetime.timedelta(days=1))
    for f, name in zip(range(0, n, PER), names(tag, n)):
        write_tmp(spool, name, [kitchen_pair(tag, i, opened, paid) for i in range(f, min(n, f + PER))])


def drop_all(sock, spool, tag, n, label):
    c = Client(sock)
    before = c.status()["cases"]["open"]
    t0 = time.time()
    for name in names(tag, n):
        drop(spool, name)
    while c.status()["cases"]["open"] < before + n:
        if time.time() - t0 > 3600:
            sys.exit("drive: the cases did not open within an hour")
        time.sleep(0.05)
    seconds = time.time() - t0
    print(json.dumps({"scenario": label, "records": 2 * n, "seconds": round(seconds, 3), "records_per_s": round(2 * n / seconds)}))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "drop":
        drop_all(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        sys.exit(__doc__)
