"""Sequential requests over one keep-alive connection, every latency kept (for failover timelines).

`python bench/probe.py URL --count N [--auth KEY] < body.json` prints JSON: latencies (ms, in
order), statuses, and the `X-MediaRouter-Attempts` header of each answer when present.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import time
from urllib.parse import urlsplit


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--auth", default="")
    p.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    body = sys.stdin.read().encode()
    parts = urlsplit(a.url)
    headers = {"Content-Type": "application/json"}
    if a.auth:
        headers["Authorization"] = f"Bearer {a.auth}"
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=a.timeout)
    latencies, statuses, attempts = [], [], []
    for _ in range(a.count):
        t0 = time.perf_counter()
        try:
            conn.request("POST", parts.path, body, headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
            attempts.append(resp.getheader("x-mediarouter-attempts"))
            if resp.getheader("connection", "").lower() == "close":
                conn.close()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=a.timeout)
            status, _ = 0, attempts.append(None)
        latencies.append(round((time.perf_counter() - t0) * 1000, 3))
        statuses.append(status)
    json.dump({"latencies_ms": latencies, "statuses": statuses, "attempts": attempts}, sys.stdout)


if __name__ == "__main__":
    main()
