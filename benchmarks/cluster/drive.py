#!/usr/bin/env python3
"""The measuring half of benchmarks/cluster/run. Standard library only; shares the
socket client and the record writers of benchmarks/plugins/drive.py.

    drive.py write SPOOL TAG PAIRS [DUE]     (writes the files into SPOOL/tmp, untimed)
    drive.py drop SOCKET PAIRS SPOOL...      (prints the seconds)
    drive.py wait-open SOCKET CASES DUE      (prints the seconds left before DUE)
    drive.py ledger SOCKET                   (prints the number of ledger entries)
    drive.py wait-closed SOCKET CASES DUE    (prints the seconds after DUE)
    drive.py cpu POSTMASTER_PID|- WARDEND_PID...   (prints "POSTGRES_S WARDEND_S")

write      PAIRS stand-mixer order + not-delivered-to-door complaint pairs in NDJSON
           files of 10,000 pairs named TAG-*.ndjson, tagged TAG (complaint and case
           ids TAG + "C" + i, i from 0). Without DUE the complaints were opened an hour
           ago (their 24-hour deadlines 23 h ahead); with DUE (epoch s) they were opened
           24 h before DUE, so every deadline falls due at DUE.
drop       renames the files of every SPOOL's tmp/ into its incoming/, the spools in
           turn file by file (all within a few milliseconds), and reports the seconds
           from the first rename until daemon.status on SOCKET counts PAIRS more open
           cases (on PostgreSQL the counts of every node that shares the database).
wait-open  until daemon.status counts CASES open cases; fails if DUE passes first.
wait-closed  asks daemon.status every 0.05 s from DUE until it counts CASES closed
           cases (a deadline that fires closes its case, defaulted, in the transaction
           that books the penalty: the count is of committed firings); the seconds from
           DUE to that answer. Fails after 900 s.
cpu        CPU seconds (user + system) so far: of the postmaster, its children that
           are still running and those it has reaped (cutime + cstime), and of the
           given wardend processes.
"""
import datetime
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plugins"))
from drive import Client, cst, kitchen_pair, write_tmp  # noqa: E402

PER = 10000


def write(spool, tag, n, due=None):
    if due is None:
        now = datetime.datetime.now(datetime.timezone.utc)
        opened, paid = cst(now - datetime.timedelta(hours=1)), cst(now - datetime.timedelta(days=1))
    else:
        opened = cst(datetime.datetime.fromtimestamp(due - 86400, datetime.timezone.utc))
        paid = cst(datetime.datetime.fromtimestamp(due - 2 * 86400, datetime.timezone.utc))
    for f in range(0, n, PER):
        write_tmp(spool, "%s-%06d.ndjson" % (tag, f), [kitchen_pair(tag, i, opened, paid) for i in range(f, min(n, f + PER))])


def drop(sock, n, spools):
    c = Client(sock)
    before = c.status()["cases"]["open"]
    files = [sorted((s, name) for name in os.listdir(os.path.join(s, "tmp"))) for s in spools]
    order = [f for group in zip(*files) for f in group] + [f for group in files for f in group[min(map(len, files)):]]
    t0 = time.time()
    for s, name in order:
        os.rename(os.path.join(s, "tmp", name), os.path.join(s, "incoming", name))
    while c.status()["cases"]["open"] < before + n:
        if time.time() - t0 > 3600:
            sys.exit("drive: the cases did not open within an hour")
        time.sleep(0.05)
    print("%.3f" % (time.time() - t0))


def wait_open(sock, n, due):
    c = Client(sock)
    while c.status()["cases"]["open"] < n:
        if time.time() > due - 1:
            sys.exit("drive: the cases were not stored before they fell due (raise the lead)")
        time.sleep(0.05)
    print("%.1f" % (due - time.time()))


def ledger(sock):
    result, error = Client(sock).call("ledger.summary")
    if error:
        sys.exit("drive: ledger.summary: %s" % error)
    print(result["count"])


def wait_closed(sock, n, due):
    c = Client(sock)
    time.sleep(max(due - time.time(), 0))
    while True:
        closed = c.status()["cases"]["closed"]
        t = time.time()
        if closed >= n:
            print("%.3f" % (t - due))
            return
        if t > due + 900:
            sys.exit("drive: %d of %d cases closed 900 s after the due time" % (closed, n))
        time.sleep(0.05)


def stat(pid):
    """(ppid, utime + stime, cutime + cstime) in ticks, or None if pid is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime fields 14-17.
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def cpu(postmaster, wardends):
    tick = os.sysconf("SC_CLK_TCK")
    pg = 0
    if postmaster != "-":
        pm = int(postmaster)
        own = stat(pm)
        if own:
            pg += own[1] + own[2]
            for entry in os.listdir("/proc"):
                if entry.isdigit():
                    s = stat(int(entry))
                    if s and s[0] == pm:
                        pg += s[1]
    w = sum((stat(int(p)) or (0, 0, 0))[1] for p in wardends)
    print("%.2f %.2f" % (pg / tick, w / tick))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "write":
        write(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]) if len(sys.argv) > 5 else None)
    elif cmd == "drop":
        drop(sys.argv[2], int(sys.argv[3]), sys.argv[4:])
    elif cmd == "wait-open":
        wait_open(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "ledger":
        ledger(sys.argv[2])
    elif cmd == "wait-closed":
        wait_closed(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "cpu":
        cpu(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(__doc__)
