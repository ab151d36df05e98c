#!/usr/bin/env python3
"""Stores COUNT cases in a running wardend through record.submit: for each i, a merchant
stand-mixer order PREFIXO%06d and a not-delivered-to-door complaint PREFIX%06d opened
now (an awaiting-evidence case due in 24 h, with a deadline row). Batches of 1,000
orders and complaints per request (under the 1 MiB line limit).

    seed.py SOCKET COUNT [PREFIX]
"""
import json
import socket
import sys
import time

path, count = sys.argv[1], int(sys.argv[2])
prefix = sys.argv[3] if len(sys.argv) > 3 else "BC"
opened = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
s = socket.socket(socket.AF_UNIX)
s.connect(path)
f = s.makefile("rb")
batch = 1000
for start in range(0, count, batch):
    records = []
    for i in range(start, min(start + batch, count)):
        records.append({"type": "order", "order_id": f"{prefix}O{i:06d}", "category": "stand-mixer", "item": "mixer",
                        "shop": f"shop-{i % 50}", "paid_amount": "1299.00", "paid_at": "2023-04-01 10:12:00",
                        "delivery_service": "merchant"})
        records.append({"type": "complaint", "complaint_id": f"{prefix}{i:06d}", "order_id": f"{prefix}O{i:06d}",
                        "reason": "not-delivered-to-door", "opened_at": opened})
    s.sendall((json.dumps({"jsonrpc": "2.0", "id": start, "method": "record.submit",
                           "params": {"records": records}}) + "\n").encode())
    answer = json.loads(f.readline())
    if "error" in answer:
        sys.exit(f"seed: {answer['error']}")
