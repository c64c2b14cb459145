#!/usr/bin/env python3
"""Tabulates scripts/accuracy-table runs: accuracy and macro-F1 against bytes on the wire.

Reads OUT/<run>/metrics.jsonl (fedsmear simulate runs) and OUT/central.log (fedsmear train),
writes OUT/results.json and OUT/results.md and prints the Markdown. Standard library only.
The recommended default is the run with the fewest training bytes (down + up per round per
site) whose final central accuracy is within 1 point of float FedAvg's (run "f32").
"""
import argparse
import json
import os
import re

RUNS = [  # name, codec_down, codec_up, strategy, secure aggregation
    ("f32", "f32", "f32", "fedavg", "off"),
    ("down1", "sign1+f16", "f32", "fedavg", "off"),
    ("both1", "sign1+f16", "sign1+f16", "fedvote", "off"),
    ("both1q8", "sign1+f16", "sign1+q8", "fedvote", "off"),
    ("smallest", "sign1+q8", "sign1+q8", "fedvote", "off"),
    ("q8delta", "sign1+f16", "q8_delta+q8", "fedavg", "off"),
    ("secvotes", "sign1+f16", "sign1+f16", "fedvote", "secagg+"),
    ("glorot", "sign1+q8", "sign1+q8", "fedvote", "off"),  # latent_start glorot
]
WITHIN = 0.01  # accuracy points (as a fraction) a default may lose against float FedAvg


def federated(path, rounds):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    rows = [r for r in rows if r.get("round", 0) <= rounds]
    if not rows:
        return None
    sites = max(len(r.get("sites_selected", [])) for r in rows) or 1
    best = max(rows, key=lambda r: r["accuracy"])
    down = sum(r.get("bytes_down", 0) for r in rows)
    up = sum(r.get("bytes_up", 0) for r in rows)
    secagg = sum(r.get("secagg", {}).get("bytes", 0) for r in rows)
    return {
        "rounds": len(rows), "sites": sites,
        "final_accuracy": rows[-1]["accuracy"], "final_macro_f1": rows[-1]["macro_f1"],
        "best_accuracy": best["accuracy"], "best_round": best["round"],
        "accuracy_per_round": [round(r["accuracy"], 4) for r in rows],
        "down_per_round_site": down / len(rows) / sites,
        "up_per_round_site": up / len(rows) / sites,
        "secagg_per_round_site": secagg / len(rows) / sites,
        "eval_down_per_round_site": sum(r.get("bytes_eval_down", 0) for r in rows) / len(rows) / sites,
        "total_bytes": down + up + secagg,
        "wall_s": sum(r.get("round_s", 0) + r.get("eval_s", 0) for r in rows),
    }


def central(path, epochs):
    pattern = re.compile(r"^epoch\s+(\d+).*holdout acc ([0-9.]+)\s+macro-F1 ([0-9.]+)")
    rows = []
    for line in open(path):
        m = pattern.match(line)
        if m:
            rows.append((int(m.group(1)), float(m.group(2)), float(m.group(3))))
    rows = [r for r in rows if r[0] <= epochs]
    if not rows:
        return None
    best = max(rows, key=lambda r: r[1])
    return {"epochs": len(rows), "final_accuracy": rows[-1][1], "final_macro_f1": rows[-1][2],
            "best_accuracy": best[1], "best_epoch": best[0],
            "accuracy_per_epoch": [r[1] for r in rows]}


def mib(n):
    return f"{n / 1048576:.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--data", default="")
    a = ap.parse_args()
    res = {"rounds": a.rounds, "data": a.data, "runs": {}}
    for name, down, up, strategy, secure in RUNS:
        path = os.path.join(a.out, name, "metrics.jsonl")
        if os.path.exists(path):
            r = federated(path, a.rounds)
            if r:
                r.update(codec_down=down, codec_up=up, strategy=strategy, secure=secure)
                res["runs"][name] = r
    clog = os.path.join(a.out, "central.log")
    res["central"] = central(clog, a.rounds) if os.path.exists(clog) else None

    base = res["runs"].get("f32")
    lines = [f"Real data: `{a.data}`, 4 sites (Dirichlet 0.5), bdn28 64 px, {a.rounds} rounds of "
             "one local epoch, lr 0.002 (cosine over rounds), seed 1; accuracy on the coordinator's "
             "15% held-out set. Bytes are per round per site (training traffic; the federated-"
             "evaluation broadcast is listed apart).", ""]
    head = ["run", "down", "up", "strategy", "secure", "final acc", "final macro-F1",
            "best acc (round)", "MiB down", "MiB up", "MiB secagg", "down+up vs f32",
            "MiB eval down", "complete"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    candidates = []
    for name, *_ in RUNS:
        r = res["runs"].get(name)
        if not r:
            continue
        traffic = r["down_per_round_site"] + r["up_per_round_site"] + r["secagg_per_round_site"]
        ratio = ""
        if base:
            f = base["down_per_round_site"] + base["up_per_round_site"]
            ratio = f"1/{f / traffic:.1f}" if traffic else ""
            r["ratio_vs_f32"] = f / traffic if traffic else None
        done = r["rounds"] >= a.rounds
        lines.append("| " + " | ".join([
            name, r["codec_down"], r["codec_up"], r["strategy"], r["secure"],
            f"{r['final_accuracy']:.4f}", f"{r['final_macro_f1']:.4f}",
            f"{r['best_accuracy']:.4f} ({r['best_round']})", mib(r["down_per_round_site"]),
            mib(r["up_per_round_site"]), mib(r["secagg_per_round_site"]), ratio,
            mib(r["eval_down_per_round_site"]),
            "yes" if done else f"{r['rounds']}/{a.rounds} rounds"]) + " |")
        if done and base and r["final_accuracy"] >= base["final_accuracy"] - WITHIN:
            candidates.append((traffic, name))
    c = res["central"]
    if c:
        lines.append("")
        lines.append(f"Centralized (`fedsmear train` on the union of the sites' data, {c['epochs']} "
                     f"epochs): final accuracy {c['final_accuracy']:.4f}, macro-F1 "
                     f"{c['final_macro_f1']:.4f}, best {c['best_accuracy']:.4f} (epoch "
                     f"{c['best_epoch']}).")
        if base:
            gap = c["final_accuracy"] - base["final_accuracy"]
            res["central_minus_f32"] = gap
            lines.append(f"Gap centralized - float FedAvg (final): {100 * gap:+.1f} points; "
                         f"best vs best: {100 * (c['best_accuracy'] - base['best_accuracy']):+.1f}.")
    if base:
        if candidates:
            choice = min(candidates)[1]
            res["recommended_default"] = choice
            lines.append("")
            lines.append(f"Smallest run within {100 * WITHIN:.0f} point of float FedAvg's final "
                         f"accuracy: **{choice}** ({res['runs'][choice]['codec_down']} down, "
                         f"{res['runs'][choice]['codec_up']} up, {res['runs'][choice]['strategy']}).")
        else:
            lines.append("")
            lines.append("No completed compressed run is within 1 point of float FedAvg yet.")
    md = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
