"""results.json -> Markdown tables, and the generated block of bench/RESULTS.md.

RESULTS.md keeps its hand-written analysis; only the text between the two markers below is
replaced by a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:generated:begin -->"
END = "<!-- bench:generated:end -->"
NAMES = {"direct": "direct (mock)", "mediarouter": "**mediarouter**", "litellm": "LiteLLM proxy"}


def _f(x: Any, nd: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b or b <= 0:
        return "–"
    r = a / b
    return f"{r:.1f}×" if r >= 0.95 else f"{r:.2g}×"


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f}%"


def sustained(g: dict[str, Any]) -> dict[str, Any] | None:
    ok = [s for s in g["steps"] if s["error_count"] == 0 and s["rps"] >= 0.95 * s["rate_target"]]
    return max(ok, key=lambda s: s["rps"], default=None)


def capacity(g: dict[str, Any]) -> tuple[float, dict[str, Any]] | None:
    """Requests/s one core could serve at the CPU cost measured on the busiest step (1000 / CPU ms)."""
    steps = [s for s in g["steps"] if s.get("cpu_ms_per_req")]
    if not steps:
        return None
    busiest = max(steps, key=lambda s: s["rps"])
    return 1000 / busiest["cpu_ms_per_req"], busiest


def _errors(row: dict[str, Any]) -> str:
    errs = {k: v for k, v in row["errors"].items() if v}
    return "0" if not errs else ", ".join(f"{k} {v}" for k, v in errs.items())


def _latency_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    out = [
        "| target | req/s | p50 ms | p99 ms | p99.9 ms | overhead p50 / p99 ms | CPU ms/req | gateway core busy | others on gateway / load core | peak RSS MB | errors | load core busy |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lat = r["latency_ms"]
        ov = r.get("overhead_ms")
        if not r["requests"]:
            out.append(f"| {NAMES.get(name, name)} | 0 | no request answered within the run | | | | | | | "
                       f"{_f(r.get('peak_rss_mb'), 0)} | all {r['load']['connections']} still waiting | |")  # fmt: skip
            continue
        out.append(
            f"| {NAMES.get(name, name)} | {r['rps']:.0f} | {lat['p50']:.3f} | {lat['p99']:.3f} | {lat['p99.9']:.3f} | "
            + (f"{ov['p50']:+.3f} / {ov['p99']:+.3f}" if ov else "(calibration)")
            + f" | {_f(r.get('cpu_ms_per_req'), 3)} | {_f(r.get('gateway_core_busy_pct'), 0)}{'%' if r.get('gateway_core_busy_pct') is not None else ''}"
            + f" | {_pct(r.get('foreign_on_gateway_core_pct'))} / {_pct(r.get('foreign_on_load_core_pct'))} | {_f(r.get('peak_rss_mb'), 0)} | {_errors(r)} | {r['load_core_busy_pct']:.0f}% |"
        )
    return out


def _ratios(rows: dict[str, dict[str, Any]]) -> list[str]:
    """LiteLLM ÷ mediarouter and each gateway against direct, for whatever both runs measured."""
    mr, lt, d = rows.get("mediarouter"), rows.get("litellm"), rows.get("direct")
    if not mr:
        return []
    parts: list[str] = []
    if lt and mr["requests"] and lt["requests"]:
        parts.append(
            f"LiteLLM ÷ mediarouter: overhead p50 {_ratio(lt['overhead_ms']['p50'], mr['overhead_ms']['p50'])}, "
            f"overhead p99 {_ratio(lt['overhead_ms']['p99'], mr['overhead_ms']['p99'])}, "
            f"CPU per request {_ratio(lt.get('cpu_ms_per_req'), mr.get('cpu_ms_per_req'))}, "
            f"peak RSS {_ratio(lt.get('peak_rss_mb'), mr.get('peak_rss_mb'))}, "
            f"req/s mediarouter ÷ LiteLLM {_ratio(mr['rps'], lt['rps'])}."
        )
    elif lt:
        parts.append(
            f"LiteLLM answered {lt['requests']} requests (mediarouter {mr['requests']}): no latency or CPU-per-"
            f"request ratio exists; peak RSS LiteLLM ÷ mediarouter {_ratio(lt.get('peak_rss_mb'), mr.get('peak_rss_mb'))}."
        )
    if d and d["requests"]:

        def vs(r: dict[str, Any], label: str) -> str:
            if not r["requests"]:
                return f"{label} answered none of them"
            return (f"{label} p50 {_ratio(r['latency_ms']['p50'], d['latency_ms']['p50'])}, "
                    f"p99 {_ratio(r['latency_ms']['p99'], d['latency_ms']['p99'])}, "
                    f"req/s {_ratio(r['rps'], d['rps'])}")  # fmt: skip

        parts.append(
            "Against direct: "
            + "; ".join([vs(mr, "mediarouter")] + ([vs(lt, "LiteLLM")] if lt else []))
            + "."
        )
    return ["", " ".join(parts)] if parts else []


def _d_table(rows: dict[str, dict[str, Any]]) -> list[str]:
    out = [
        "| target | sent | answered | errors (unanswered, refused, late, bad status) | socket read/write errors (incl. idle closes) | answered/s | p50 ms | p99 ms | overhead p50 / p99 ms | CPU ms/req | gateway core busy | others on gateway / load core | peak RSS MB | load core busy |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        lat, ov = r["latency_ms"], r.get("overhead_ms")
        sock = r.get("socket_errors", {})
        n_err = sum(r["errors"].values())
        answered = r["requests"]
        lat_txt = f"{lat['p50']:.1f} | {lat['p99']:.1f}" if answered else "– | –"
        ov_txt = (
            f"{ov['p50']:+.1f} / {ov['p99']:+.1f}"
            if ov and answered
            else ("(calibration)" if not ov else "–")
        )
        out.append(
            f"| {NAMES.get(name, name)} | {r.get('sent', '?')} | {answered} | **{n_err}**"
            + (f" ({_errors(r)})" if n_err else "")
            + f" | {sock.get('read', 0)} / {sock.get('write', 0)} | {r['rps']:.0f} | {lat_txt} | {ov_txt} | {_f(r.get('cpu_ms_per_req'), 3)} | "
            + (f"{r['gateway_core_busy_pct']:.0f}%" if r.get("gateway_core_busy_pct") is not None else "–")
            + f" | {_pct(r.get('foreign_on_gateway_core_pct'))} / {_pct(r.get('foreign_on_load_core_pct'))} | {_f(r.get('peak_rss_mb'), 0)} | {r['load_core_busy_pct']:.0f}% |"
        )  # fmt: skip
    return out


def gateways_b(res: dict[str, Any]) -> dict[str, Any]:
    return {n: g for n, g in res.get("b", {}).items() if n != "direct"}


def render(res: dict[str, Any]) -> str:
    info = res.get("info", {})
    out: list[str] = [
        f"Run: `{info.get('argv', '')}`, started {info.get('started', '?')}, took {info.get('wall_s', '?')} s.",
        "",
    ]
    m = info.get("machine", {})
    out += [
        f"Machine: {m.get('cpu')} × {m.get('cores')} cores, {m.get('memory_gib')} GiB, kernel {m.get('kernel')}, "
        f"open files {m.get('nofile')}; commit {m.get('commit')}.",
        f"Load before: `{m.get('uptime')}`; after: `{info.get('finished_uptime', '?')}`.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items()) + ".",
        "",
        "`mediarouter serve` ready (spawn to first 200 on /health), wall / CPU s: "
        + ", ".join(f"{w:.2f} / {c:.2f}" for w, c in info.get("startup_s", []))
        + "; "
        f"LiteLLM proxy: {info.get('litellm_startup_s', '–')} s.",
        "",
    ]
    out += _targets(res)
    if "a" in res:
        a = res["a"]
        out += (
            ["### (a) concurrency 1, 0 ms upstream, tiny image", ""]
            + _latency_table(a["rows"])
            + _ratios(a["rows"])
        )
        c = a["mock_ceiling_c64"]
        out += ["", f"Mock ceiling (wrk → mock, 64 connections, both on the load core): **{c['rps']:.0f} req/s**, "
                f"p50 {c['latency_ms']['p50']:.3f} ms.", ""]  # fmt: skip
    if "b" in res:
        out += ["### (b) 100 ms upstream, rising fixed rate", "",
                "Held = no errors, achieved ≥ 95 % of the target rate, overhead p99 < 10 ms (against direct at the same rate).", "",
                "| gateway | target req/s | achieved | p50 ms | p99 ms | overhead p50 / p99 ms | CPU ms/req | gateway core busy | others on gateway / load core | peak RSS MB | errors | load core busy | held |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
        for s in res.get("b_direct", []):
            lat = s["latency_ms"]
            out.append(
                f"| direct (mock) | {s['rate_target']:g} | {s['rps']:.0f} | {lat['p50']:.2f} | {lat['p99']:.2f} | (calibration) | – | – | – | – | "
                f"{_errors(s)} | {s['load_core_busy_pct']:.0f}% | – |"
            )  # fmt: skip
        for name, g in gateways_b(res).items():
            for s in g["steps"]:
                lat, ov = s["latency_ms"], s["overhead_ms"]
                out.append(
                    f"| {NAMES.get(name, name)} | {s['rate_target']:g} | {s['rps']:.0f} | {lat['p50']:.2f} | {lat['p99']:.2f} | "
                    f"{ov['p50']:+.2f} / {ov['p99']:+.2f} | {_f(s.get('cpu_ms_per_req'), 3)} | {_f(s.get('gateway_core_busy_pct'), 0)}% | "
                    f"{_pct(s.get('foreign_on_gateway_core_pct'))} / {_pct(s.get('foreign_on_load_core_pct'))} | {_f(s.get('peak_rss_mb'), 0)} | {_errors(s)} | {s['load_core_busy_pct']:.0f}% | {'yes' if s['held'] else 'no'} |"
                )
        best = {n: g["best"] for n, g in gateways_b(res).items()}
        mr, lt = best.get("mediarouter"), best.get("litellm")
        line = "Highest rate held: " + ", ".join(
            f"{n} {b['rate_target']:g} req/s ({_f(b.get('cpu_ms_per_req'), 3)} ms CPU/req)"
            if b
            else f"{n} none"
            for n, b in best.items()
        )
        if mr and lt:
            line += (
                f"; mediarouter ÷ LiteLLM = **{mr['rate_target'] / lt['rate_target']:.0f}×** the rate per worker, "
                f"LiteLLM ÷ mediarouter CPU per request {_ratio(lt.get('cpu_ms_per_req'), mr.get('cpu_ms_per_req'))}"
            )
        elif mr and "litellm" in best:
            line += "; **LiteLLM holds no rate** (p99 overhead ≥ 10 ms or errors at every rate tried), so no held-to-held ratio exists"
        sus = {n: sustained(g) for n, g in gateways_b(res).items()}
        line += (
            ".\n\nHighest rate sustained (achieved ≥ 95 % of the target, no errors, whatever the latency): "
            + ", ".join(
                f"{n} {x['rps']:.0f} req/s (target {x['rate_target']:g})" for n, x in sus.items() if x
            )
        )
        if sus.get("mediarouter") and sus.get("litellm"):
            line += f"; ratio **{sus['mediarouter']['rps'] / sus['litellm']['rps']:.0f}×**"
            if mr:
                line += (f". mediarouter's *held* rate ÷ LiteLLM's highest *sustained* rate: {mr['rate_target']:g} ÷ "
                         f"{sus['litellm']['rps']:.0f} = **{mr['rate_target'] / sus['litellm']['rps']:.1f}×**")  # fmt: skip
        caps = {n: capacity(g) for n, g in gateways_b(res).items()}
        line += (
            ".\n\nCPU-bound capacity of one core (1000 ÷ CPU ms per request on the busiest step; robust to the "
            "shared machine's contention, which inflates latency but not CPU time much): "
            + ", ".join(
                f"{n} {c[0]:.0f} req/s (at {c[1]['rps']:.0f} req/s, {c[1]['cpu_ms_per_req']:.3f} ms)"
                for n, c in caps.items()
                if c
            )
        )
        if caps.get("mediarouter") and caps.get("litellm"):
            line += f"; ratio **{caps['mediarouter'][0] / caps['litellm'][0]:.0f}×**"
        if sus.get("mediarouter") and sus.get("litellm"):
            sm, sl = sus["mediarouter"], sus["litellm"]
            line += (f".\n\nAt each one's highest sustained step: LiteLLM ÷ mediarouter CPU per request "
                     f"{_ratio(sl.get('cpu_ms_per_req'), sm.get('cpu_ms_per_req'))}, overhead p50 "
                     f"{_ratio(sl['overhead_ms']['p50'], sm['overhead_ms']['p50'])}, peak RSS "
                     f"{_ratio(sl.get('peak_rss_mb'), sm.get('peak_rss_mb'))}; latency p50 against direct at the same rate: "
                     f"mediarouter {_ratio(sm['latency_ms']['p50'], sm['direct']['p50'])}, "
                     f"LiteLLM {_ratio(sl['latency_ms']['p50'], sl['direct']['p50'])}")  # fmt: skip
        out += ["", line + ".", ""]
    if "c" in res:
        c = res["c"]
        out += [
            f"### (c) 0 ms upstream, four images of 1.5 MB (response {c['response_bytes'] / 1e6:.1f} MB of JSON), concurrency 1",
            "",
        ]
        out += _latency_table(c["rows"]) + _ratios(c["rows"]) + [""]
    if "d" in res:
        d = res["d"]
        send_s = next((r.get("send_s") for r in d["rows"].values() if r.get("send_s")), None)
        out += [f"### (d) 2 s upstream, {d['in_flight']} requests in flight", ""]
        if send_s:
            out += [f"Requests sent for {send_s:g} s, then no new ones while wrk waits timeout + 1 s for the rest: a "
                    "request sent and not answered by then is an error (\"unanswered\"). wrk's socket read errors are shown apart: "
                    "they include the idle keep-alive connections a gateway closes during the grace period, and a "
                    "request cut by one is already counted as unanswered. answered/s = answered ÷ the send window.", ""]  # fmt: skip
        out += _d_table(d["rows"]) + _ratios(d["rows"])
        out += ["", f"Mock's peak of open connections over the run: {d.get('mock_peak_connections')}.", ""]
    if "e" in res:
        rows_e = res["e"]["rows"]
        fresh = rows_e.get("mediarouter", {}).get("fresh_process")
        out += ["### (e) long run, 0 ms upstream, tiny image, 16 connections", ""]
        if fresh:
            out += ["mediarouter runs in a **fresh process** started just before (e) (after a 5 s rate probe), not in the one "
                    "(d) left at its peak. Trends are least-squares slopes after warm-up (first 20 % of the run dropped).", ""]  # fmt: skip
        out += ["| target | process | requests | req/s | overhead p50 / p99 ms | CPU ms/req | RSS after warm-up MB | RSS end MB | growth after warm-up MB | RSS trend MB per 10k req | others on gateway / load core | load core busy | errors |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for name, r in rows_e.items():
            t, ov = r.get("trend", {}), r.get("overhead_ms")
            proc = "–" if name == "direct" else ("fresh" if r.get("fresh_process") else "after (a)-(d)")
            out.append(
                f"| {NAMES.get(name, name)} | {proc} | {r['requests']} | {r['rps']:.0f} | "
                + (f"{ov['p50']:+.3f} / {ov['p99']:+.3f}" if ov else "(calibration)")
                + f" | {_f(r.get('cpu_ms_per_req'), 3)} | {_f(t.get('rss_after_warmup_mb'), 1)} | {_f(t.get('rss_end_mb'), 1)} | "
                f"{_f(t.get('growth_mb_after_warmup'), 1)} | {_f(t.get('slope_mb_per_10k_req'), 3)} | "
                f"{(_pct(r.get('foreign_on_gateway_core_pct')) + ' / ' + _pct(r.get('foreign_on_load_core_pct'))) if name != 'direct' else '–'} | "
                f"{r['load_core_busy_pct']:.0f}% | {_errors(r)} |"
            )
        mp = rows_e.get("mediarouter", {}).get("memprobe")
        if mp and "blocks_per_10k_req" in mp:
            out += ["", "Inside the fresh mediarouter (`bench/memprobe`, sampled each second, no RSS slack): live "
                    f"allocated blocks {mp['blocks_after_warmup']} after warm-up → {mp['blocks_end']} at the end, trend "
                    f"**{mp['blocks_per_10k_req']:+.0f} blocks per 10k requests**"
                    + (f"; gc-tracked objects {mp['objects_after_warmup']} → {mp['objects_end']}, trend "
                       f"**{mp['objects_per_10k_req']:+.0f} per 10k requests**" if "objects_per_10k_req" in mp else "")
                    + f" ({mp['samples']} samples)."]  # fmt: skip
        out += _ratios(rows_e)
        out.append("")
    if "f" in res:
        out += ["### (f) failover: sequential requests (one keep-alive connection), every latency kept", "",
                "| variant | requests | ok | p50 ms | p90 ms | p99 ms | max ms | p50 ÷ direct | first requests (ms) | attempts per answer | CPU ms/req | load core busy |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|"]  # fmt: skip
        direct_p50 = res["f"].get("direct", {}).get("p50")
        for name, r in res["f"].items():
            first = ", ".join(f"{x:.1f}" for x in r["first"][:6])
            hist = ", ".join(f"{k}: {v}" for k, v in r.get("attempts_hist", {}).items()) or "–"
            out.append(
                f"| {name} | {r['requests']} | {r['ok']} | {r['p50']:.2f} | {r['p90']:.2f} | {r['p99']:.2f} | {r['max']:.1f} | "
                f"{_ratio(r['p50'], direct_p50) if name != 'direct' else '(calibration)'} | "
                f"{first} | {hist} | {_f(r.get('cpu_ms_per_req'), 3)} | {_pct(r.get('load_core_busy_pct'))} |"
            )
        out += _f_ratios(res["f"])
        out.append("")
    return "\n".join(out) + "\n"


def _f_ratios(f: dict[str, Any]) -> list[str]:
    forced = f.get("mediarouter: forced xai/ (the second provider alone)")
    refused = f.get("mediarouter: first provider refuses connections, breaker disabled")
    lt_ok = f.get("litellm: healthy deployment alone (bench-second)")
    lt_ref = f.get("litellm: first deployment refuses connections, fallback")
    lt_hang = f.get("litellm: first deployment never answers (timeout 1 s), fallback")
    hang = f.get("mediarouter: first provider never answers (attempt timeout 1 s), breaker on")
    parts = []
    if forced and refused and lt_ok and lt_ref:
        dm, dl = refused["p50"] - forced["p50"], lt_ref["p50"] - lt_ok["p50"]
        parts.append(f"Cost of a refused first provider at p50, LiteLLM ÷ mediarouter: {dl:.2f} ÷ {dm:.2f} ms = "
                     f"{_ratio(dl, dm) if dm > 0 else '– (mediarouter ≤ 0)'}")  # fmt: skip
        parts.append(f"healthy second provider alone, p50 LiteLLM ÷ mediarouter {_ratio(lt_ok['p50'], forced['p50'])}, "
                     f"CPU per request {_ratio(lt_ok.get('cpu_ms_per_req'), forced.get('cpu_ms_per_req'))}")  # fmt: skip
    if hang and lt_hang:
        parts.append(f"a provider that never answers, p50 LiteLLM ÷ mediarouter {_ratio(lt_hang['p50'], hang['p50'])} "
                     "(mediarouter's breaker opens after 5 timeouts; LiteLLM pays the timeout on every request)")  # fmt: skip
    return ["", "; ".join(parts) + "."] if parts else []


def _targets(res: dict[str, Any]) -> list[str]:
    rows: list[tuple[str, str, str, str]] = []

    def add(target: str, measured: str, ok: bool | None, lt: str = "–") -> None:
        rows.append((target, measured, lt, "–" if ok is None else ("**met**" if ok else "**not met**")))

    if "a" in res:
        mr = res["a"]["rows"]["mediarouter"]["overhead_ms"]
        lt = res["a"]["rows"].get("litellm", {}).get("overhead_ms")
        add("(a) overhead p50 < 1 ms, p99 < 3 ms", f"{mr['p50']:.2f} / {mr['p99']:.2f} ms", mr["p50"] < 1 and mr["p99"] < 3,
            f"{lt['p50']:.1f} / {lt['p99']:.1f} ms" if lt else "–")  # fmt: skip
    if "b" in res:
        gb = gateways_b(res)
        mr, lt = gb.get("mediarouter", {}).get("best"), gb.get("litellm", {}).get("best")
        has_lt = "litellm" in gb
        sm, sl = sustained(gb["mediarouter"]), sustained(gb.get("litellm", {"steps": []}))
        if mr:
            ratio = mr["rate_target"] / lt["rate_target"] if lt else None
            if lt or not has_lt:
                add("(b) rate held (p99 overhead < 10 ms, no errors) ≥ 20 × LiteLLM's held rate",
                    f"{mr['rate_target']:g} req/s" + (f" = {ratio:.0f}×" if ratio else ""),
                    ratio >= 20 if ratio else None, f"{lt['rate_target']:g} req/s" if lt else "–")  # fmt: skip
            else:
                add("(b) rate held (p99 overhead < 10 ms, no errors) ≥ 20 × LiteLLM's held rate",
                    f"{mr['rate_target']:g} req/s", None,
                    "**holds no rate** (p99 overhead ≥ 10 ms at every rate tried): no held-to-held ratio")  # fmt: skip
                if sl:
                    add("(b) *separate measure*: mediarouter's held rate ÷ LiteLLM's highest sustained rate",
                        f"{mr['rate_target']:g} ÷ {sl['rps']:.0f} = {mr['rate_target'] / sl['rps']:.1f}×",
                        mr["rate_target"] / sl["rps"] >= 20, f"{sl['rps']:.0f} req/s sustained (any latency)")  # fmt: skip
        elif has_lt:
            add("(b) rate held (p99 overhead < 10 ms, no errors) ≥ 20 × LiteLLM's held rate", "**none held**", False,
                f"{lt['rate_target']:g} req/s" if lt else "none held")  # fmt: skip
        if sm and sl:
            add("(b) informational: highest rate sustained (any latency), both at saturation",
                f"{sm['rps']:.0f} req/s = {sm['rps'] / sl['rps']:.0f}×", None, f"{sl['rps']:.0f} req/s")  # fmt: skip
        from_caps = {n: capacity(g) for n, g in gb.items()}
        cm, cl = from_caps.get("mediarouter"), from_caps.get("litellm")
        if cm and cl:
            add("(b) informational: CPU-bound capacity per core (1000 ÷ CPU ms at the busiest step)",
                f"{cm[0]:.0f} req/s = {cm[0] / cl[0]:.0f}×", None, f"{cl[0]:.0f} req/s")  # fmt: skip
        if mr:
            held_steps = [s for s in gb["mediarouter"]["steps"] if s["held"] and s.get("cpu_ms_per_req")]
            cpus = sorted(s["cpu_ms_per_req"] for s in held_steps)
            span = (
                f"{cpus[0]:.2f}-{cpus[-1]:.2f} ms at held rates"
                if len(cpus) > 1
                else f"{mr['cpu_ms_per_req']:.3f} ms"
            )
            add("(b) CPU per request < 1 ms (at held rates)", f"{mr['cpu_ms_per_req']:.3f} ms at {mr['rate_target']:g} req/s ({span})",
                all(c < 1 for c in cpus) if cpus else mr["cpu_ms_per_req"] < 1,
                f"{lt['cpu_ms_per_req']:.1f} ms" if lt else (f"{sl['cpu_ms_per_req']:.1f} ms at {sl['rps']:.0f} req/s" if sl and sl.get("cpu_ms_per_req") else "–"))  # fmt: skip
    if "c" in res:
        mr = res["c"]["rows"]["mediarouter"]["overhead_ms"]
        lt = res["c"]["rows"].get("litellm", {}).get("overhead_ms")
        add(
            "(c) overhead p50 < 15 ms (4 × 1.5 MB)",
            f"{mr['p50']:.2f} ms",
            mr["p50"] < 15,
            f"{lt['p50']:.1f} ms" if lt else "–",
        )
    if "d" in res:
        mr = res["d"]["rows"]["mediarouter"]
        lt = res["d"]["rows"].get("litellm")
        errs = sum(mr["errors"].values())
        lt_txt = "–"
        if lt:
            lt_txt = (
                f"{lt.get('sent', '?')} sent, {lt['requests']} answered, {sum(lt['errors'].values())} errors, "
                f"{lt['peak_rss_mb']:.0f} MB"
            )
        add("(d) no errors, peak memory < 400 MB", f"{mr.get('sent', '?')} sent, {mr['requests']} answered, {errs} errors, "
            f"{mr['peak_rss_mb']:.0f} MB", errs == 0 and mr["peak_rss_mb"] < 400, lt_txt)  # fmt: skip
    if "e" in res:
        t = res["e"]["rows"]["mediarouter"].get("trend", {})
        lt = res["e"]["rows"].get("litellm", {}).get("trend", {})
        mp = res["e"]["rows"]["mediarouter"].get("memprobe", {})
        if t:
            fresh = " (fresh process)" if res["e"]["rows"]["mediarouter"].get("fresh_process") else ""
            blocks = (f"; live blocks {mp['blocks_per_10k_req']:+.0f} per 10k requests ({mp['blocks_after_warmup']} → {mp['blocks_end']})"
                      if "blocks_per_10k_req" in mp else "")  # fmt: skip
            add("(e) no upward memory trend after warm-up", f"RSS {t['slope_mb_per_10k_req']:+.2f} MB per 10k requests, "
                f"{t['growth_mb_after_warmup']:+.1f} MB over the run{fresh}{blocks}",
                t["slope_mb_per_10k_req"] < 0.5 and mp.get("blocks_per_10k_req", 0) < 1000,
                f"{lt['slope_mb_per_10k_req']:+.2f} MB per 10k" if lt else "–")  # fmt: skip
    if "f" in res:
        f = res["f"]
        forced = f.get("mediarouter: forced xai/ (the second provider alone)")
        refused = f.get("mediarouter: first provider refuses connections, breaker disabled")
        opened = f.get("mediarouter: first provider refuses connections, breaker on (defaults)")
        hang = f.get("mediarouter: first provider never answers (attempt timeout 1 s), breaker on")
        lt_ok = f.get("litellm: healthy deployment alone (bench-second)")
        lt_ref = f.get("litellm: first deployment refuses connections, fallback")
        if forced and refused:
            d = refused["p50"] - forced["p50"]
            add("(f) refused connection fails over in < 5 ms", f"+{d:.2f} ms at p50 (p99 +{refused['p99'] - forced['p99']:.2f})", d < 5,
                f"+{lt_ref['p50'] - lt_ok['p50']:.1f} ms" if lt_ref and lt_ok else "–")  # fmt: skip
        if forced and opened and hang:
            d1, d2 = opened["p50"] - forced["p50"], hang["p50"] - forced["p50"]
            add("(f) breaker open: the dead provider costs nothing", f"p50 {d1:+.2f} ms (refused), {d2:+.2f} ms (timing out)",
                abs(d1) < 0.3 and abs(d2) < 0.3)  # fmt: skip
    if "startup_s" in res.get("info", {}):
        s = res["info"]["startup_s"]
        add("`mediarouter serve` ready < 2 s", ", ".join(f"{w:.2f} s (CPU {c:.2f} s)" for w, c in s), min(w for w, _ in s) < 2,
            f"{res['info'].get('litellm_startup_s', '–')} s")  # fmt: skip
    out = ["### Targets", "", "| target | mediarouter | LiteLLM | verdict |", "|---|---|---|---|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return out + [""]


def write_into(path: Path, generated: str) -> None:
    text = path.read_text() if path.exists() else f"# Benchmark results\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n{generated}\n{END}{tail}")
