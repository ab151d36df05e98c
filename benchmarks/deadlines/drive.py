#!/usr/bin/env python3
"""The measuring half of benchmarks/deadlines/run. Standard library only; shares the
socket client and the record writers of benchmarks/plugins/drive.py.

    drive.py start WARDEND CONFIG NOTIFY LOG     (prints one JSON line; leaves it running)
    drive.py rss PID LABEL                       (prints one JSON line)

start  starts WARDEND with NOTIFY_SOCKET=NOTIFY (a datagram socket this script binds,
       as systemd does) and reports the seconds from exec to READY=1, to the socket
       accepting, and to the first daemon.status answer; writes the pid to NOTIFY.pid.
rss    the daemon's resident memory now and at its peak (/proc/PID/status).
"""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plugins"))
from drive import Client  # noqa: E402


def start(wardend, config, notify, log):
    if os.path.exists(notify):
        os.unlink(notify)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(notify)
    env = dict(os.environ, NOTIFY_SOCKET=notify, WARDEN_LOG_TARGET="stderr")
    t0 = time.time()
    proc = subprocess.Popen([wardend, "--config", config], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(log, "ab"), start_new_session=True)
    with open(notify + ".pid", "w") as f:
        f.write(str(proc.pid))
    listener.settimeout(600)
    ready = None
    while ready is None:
        message = listener.recv(4096).decode(errors="replace")
        if "READY=1" in message.split("\n"):
            ready = time.time()
    sock_path = None
    for line in open(config):
        if line.startswith("socket"):
            sock_path = line.split("=", 1)[1].strip().strip('"')
    while True:
        try:
            c = Client(sock_path)
            break
        except OSError:
            if proc.poll() is not None:
                sys.exit("drive: wardend exited (%s)" % proc.returncode)
            time.sleep(0.005)
    accepted = time.time()
    status = c.status()
    answered = time.time()
    print(json.dumps({"ready_s": round(ready - t0, 3), "socket_s": round(accepted - t0, 3), "first_answer_s": round(answered - t0, 3),
                      "cases_open": status["cases"]["open"]}))


def rss(pid, label):
    fields = {}
    for line in open("/proc/%s/status" % pid):
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    mb = lambda k: round(int(fields[k].split()[0]) / 1024, 1)  # noqa: E731
    print(json.dumps({"scenario": label, "rss_mb": mb("VmRSS"), "peak_rss_mb": mb("VmHWM"), "threads": int(fields["Threads"])}))


if __name__ == "__main__":
    if sys.argv[1] == "start":
        start(*sys.argv[2:6])
    elif sys.argv[1] == "rss":
        rss(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
