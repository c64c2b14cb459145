#!/usr/bin/env python3
"""Writes docs/accuracy.md from scripts/accuracy-table runs (runs/accuracy/<task>/).

Runs are read from two places, the live one first: the runs folder (this machine's runs, with
models and checkpoints) and the records folder docs/accuracy-runs/<task>/ (the small files of
every completed run, kept in the repository by scripts/accuracy-table: metrics.jsonl per
federated run, central.log and central.eval.json), so that a table can be completed run by run
on different days and machines.

For each task folder: a table of the centralized reference, float FedAvg (f32), the default and
any other run present (accuracy, macro-F1, best and last round, bytes per site per round, ratio
to float FedAvg, wall time), a generated SVG plot of accuracy per round (docs/accuracy-<task>.svg),
per-class recall of the default against the centralized model and float FedAvg, and the goal
check of issue 14. Runs made with `--seeds N` (folders NAME-sS) and in the concentrated scenario
(conc-NAME[-sS]) add a section over seeds: mean +- spread of the last rounds' accuracy and
macro-F1, per-class recall against centralized, and the goal check of issue 36
(accuracy_seeds.py); the main table keeps showing seed 1. Standard library only; safe to run while runs are in progress (partial runs
are marked as such).
"""
import argparse
import json
import os
import re
import platform
import subprocess

import accuracy_seeds

TASKS = {
    "wbc-pbc": "white cells (PBC, 8 classes), 4 sites with Dirichlet(0.5) label skew",
    "rbc-tyas": "red cells (Tyas et al., the seed paper's 8 classes: pencil left out), 4 sites by "
                "smear (no smear split between sites or between training and held-out data)",
}
ORDER = ["central", "central128", "default", "plain", "securebn", "secure32", "secureunion", "plainbn", "flip25", "flip20", "majority", "f32", "fresh", "f32fresh", "keepscale", "flipglorot", "iid",
         "f32iid", "f32m", "steps", "stepsbal", "epochbal", "f32epoch", "nola", "nobn", "mom5", "lr4", "epochnobn", "epochmom5", "down1",
         "both1", "smallest", "glorot"]
LABEL = {
    "default": "secure default since 2026-12-07 evening (SecAgg+: sign votes of equal weight and "
               "masked 32-bit floats; a sign flips when over three tenths of the vote goes "
               "against it; 28 local steps a round, logit adjustment toward the pooled prior, "
               "sites' Adam moments kept between rounds; no BN recalibration)",
    "plain": "default in plain rounds (secure_aggregation off)",
    "securebn": "secure default with BN recalibration by a second secure sum of each round (256 "
                "images per site in one batch, pooled as the union's mean and the sites' "
                "average variance)",
    "secure32": "secure default with BN recalibration in batches of 32 (the training size), "
                "pooled with the sites' average variance",
    "secureunion": "secure default with BN recalibration in batches of 32, pooling the union's "
                   "variance (the spread between the sites' means included): the secure default "
                   "of 2026-12-07 until that evening",
    "plainbn": "default in plain rounds with BN recalibration (batches of 32, the union's "
               "variance), the default until 2026-12-07 (sign votes on changes: a sign flips "
               "when over three tenths of the vote goes against it; sign1+q8 both ways, 28 local "
               "steps a round, logit adjustment toward the pooled prior, sites' Adam moments "
               "kept between rounds)",
    "flip25": "default of the morning of 2026-11-30 (a sign flips when over a quarter of the vote "
              "goes against it, flip_share 0.25)",
    "flip20": "default with flip_share 0.2 (over a fifth of the vote)",
    "majority": "default until 2026-11-30 (a sign flips on a majority of the vote, flip_share 0.5)",
    "f32": "float FedAvg (f32 both ways), same schedule",
    "fresh": "default until 2026-11-29 night (a fresh optimizer at every site every round)",
    "f32fresh": "float FedAvg, same schedule but a fresh optimizer every round",
    "epochbal": "default until 2026-11-29 (rounds of one local epoch, balanced logit target)",
    "f32epoch": "float FedAvg, rounds of one local epoch (balanced logit target)",
    "epochnobn": "default until 2026-11-29 without BN recalibration",
    "epochmom5": "default until 2026-11-29 with vote momentum 0.5",
    "nola": "default without logit adjustment",
    "nobn": "default without BN recalibration",
    "mom5": "default with vote momentum 0.5",
    "lr4": "default with twice the sites' learning rate (0.004)",
    "keepscale": "default keeping only Adam's second moment between rounds (keep_scale)",
    "flipglorot": "default with flipped signs restarting at the Glorot magnitude (latent_flip glorot)",
    "steps": "default with rounds of K local steps (--steps K)",
    "stepsbal": "default with the balanced logit target (before the pooled prior)",
    "down1": "sign1+f16 down, f32 up, fedavg",
    "both1": "sign1+f16 both ways, fedvote",
    "smallest": "sign1+q8 both ways, fedvote, epsilon start",
    "glorot": "sign1+q8 both ways, fedvote, glorot start",
    "central": "centralized (`fedsmear train`, pooled sites' data)",
    "central128": "centralized with batches of 128 (4 sites x 32): about a federated run's "
                  "number of sequential optimizer steps",
    "f32m": "float FedAvgM (server momentum 0.7, server step 0.3), same schedule",
    "iid": "default with the images dealt to the sites at random (no label skew)",
    "f32iid": "float FedAvg, same schedule, images dealt to the sites at random",
}
COLOURS = {"central": "#222222", "central128": "#555555", "iid": "#2ca02c", "f32m": "#9edae5",
           "f32iid": "#98df8a", "fresh": "#ff9896", "keepscale": "#f7b6d2", "f32fresh": "#c5b0d5",
           "flipglorot": "#393b79",
           "majority": "#e7ba52", "flip25": "#ff7f0e", "flip20": "#8c6d31",
           "default": "#d62728", "plain": "#8c564b", "secureunion": "#e377c2", "secure32": "#f7b6d2", "securebn": "#ff9896", "plainbn": "#8c564b", "f32": "#1f77b4", "nola": "#ff7f0e",
           "nobn": "#17becf", "mom5": "#7f7f7f", "lr4": "#8c564b", "steps": "#bcbd22",
           "stepsbal": "#ff9896",
           "epochbal": "#9467bd", "f32epoch": "#aec7e8", "epochnobn": "#17becf",
           "epochmom5": "#7f7f7f",
           "down1": "#2ca02c", "both1": "#9467bd", "smallest": "#8c564b", "glorot": "#e377c2"}
GOAL_POINTS = 1.0     # accuracy and macro-F1 within this many points of centralized
TAIL_ROUNDS = 6       # the "last rounds" mean of the tables
RECALL_POINTS = 3.0   # every class's recall within this many points of centralized
BYTES_RATIO = 16.0    # a round of the plain default costs at most 1/16 of float FedAvg's bytes
SECURE_BYTES_RATIO = 8.0  # the secure default (issue 36): at most 1/8


def per_class(block):
    return {c["class"]: c["recall"] for c in block.get("per_class", [])}


def support(block):
    """Held-out images per class: one image of a class with n of them moves its recall by
    100/n points, which is what a per-class recall difference has to be read against."""
    return {c["class"]: c["support"] for c in block.get("per_class", []) if "support" in c}


def command_of(folders, name):
    """The record of how a run was made: (first line "date commit", the rest), from
    <folder>/<name>/command.txt or <folder>/central.command.txt; None if no folder has one."""
    for folder in folders:
        path = os.path.join(folder, f"{name}.command.txt" if name.startswith("central") else
                            os.path.join(name, "command.txt"))
        if os.path.exists(path):
            lines = [l.rstrip() for l in open(path) if l.strip()]
            if lines:
                return lines[0], lines[1:]
    return None


def federated(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    rows = [r for r in rows if r.get("accuracy") is not None]
    if not rows:
        return None
    sites = max(len(r.get("sites_selected", [])) for r in rows) or 1
    best = max(rows, key=lambda r: r["accuracy"])
    last = rows[-1]
    holdout = next(iter(last.get("central", {}).values()), {})
    return {
        "rounds": len(rows), "final_accuracy": last["accuracy"], "final_macro_f1": last["macro_f1"],
        "best_accuracy": best["accuracy"], "best_macro_f1": best["macro_f1"],
        "best_round": best["round"], "curve": [r["accuracy"] for r in rows],
        # Single rounds move by 1-2 points: the mean of the last six is the steadier figure.
        "tail": tail_mean(rows),
        # Training traffic both ways, SecAgg+'s own, and the statistics sites send back for BN
        # recalibration (its model travels with federated evaluation, which every run has).
        "per_round_site": sum(r.get("bytes_down", 0) + r.get("bytes_up", 0) +
                              r.get("secagg", {}).get("bytes", 0) +
                              r.get("bn_recalibration", {}).get("bytes_up", 0)
                              for r in rows) / len(rows) / sites,
        # A round's wall time is its training round plus its evaluation stages (eval_s); runs
        # recorded before eval_s existed count the training rounds only (marked in the table).
        "wall_s": sum(r.get("round_s", 0) + r.get("eval_s", 0) for r in rows),
        "wall_partial": any("eval_s" not in r for r in rows), "recall": per_class(holdout),
        "support": support(holdout),
    }


def tail_mean(rows, n=TAIL_ROUNDS):
    """(accuracy, macro-F1) averaged over the last n rounds, or None for a shorter run."""
    if len(rows) < n:
        return None
    tail = rows[-n:]
    return (sum(r["accuracy"] for r in tail) / n, sum(r["macro_f1"] for r in tail) / n)


def seed_runs(folders, names):
    """The folders of seeds > 1 and of the concentrated scenario of runs in `names`, sorted."""
    out = set()
    for folder in folders:
        for entry in os.listdir(folder) if os.path.isdir(folder) else []:
            if entry.endswith(".log") or entry.endswith(".command.txt"):
                entry = entry.split(".")[0]
            base, seed = accuracy_seeds.split_name(entry)
            if base in names and (seed > 1 or base.startswith("conc-")):
                out.add(entry)
    return sorted(out)


def central_summary(path):
    """A centralized reference whose log was not kept: its figures as transcribed, with a note
    saying from where (docs/accuracy-runs/<task>/central.summary.json)."""
    s = json.load(open(path))
    return {"rounds": s["epochs"], "final_accuracy": s["final_accuracy"],
            "final_macro_f1": s["final_macro_f1"], "best_accuracy": s["best_accuracy"],
            "best_round": s["best_epoch"], "curve": [], "per_round_site": None,
            "wall_s": 60 * s["wall_min"], "recall": s["recall"], "note": s["note"]}


def federated_summary(path):
    """A federated run whose metrics.jsonl was not kept: its figures as transcribed, with a note
    saying from where (docs/accuracy-runs/<task>/<run>/summary.json)."""
    s = json.load(open(path))
    return {"rounds": s["rounds"], "final_accuracy": s["final_accuracy"],
            "final_macro_f1": s["final_macro_f1"], "best_accuracy": s["best_accuracy"],
            "best_round": s["best_round"], "curve": [],
            "per_round_site": s["mib_per_site_round"] * 1048576, "wall_s": 60 * s["wall_min"],
            "recall": s["recall"], "note": s["note"]}


def run_of(folder, name):
    if name.startswith("central"):
        return central(folder, name)
    metrics = os.path.join(folder, name, "metrics.jsonl")
    if os.path.exists(metrics):
        return federated(metrics)
    summary = os.path.join(folder, name, "summary.json")
    return federated_summary(summary) if os.path.exists(summary) else None


def central(folder, name="central"):
    log = os.path.join(folder, f"{name}.log")
    if not os.path.exists(log):
        summary = os.path.join(folder, f"{name}.summary.json")
        return central_summary(summary) if os.path.exists(summary) else None
    pattern = re.compile(r"^epoch\s+(\d+).*holdout acc ([0-9.]+)\s+macro-F1 ([0-9.]+)")
    rows, secs = [], 0.0
    for line in open(log):
        m = pattern.match(line)
        if m:
            rows.append((int(m.group(1)), float(m.group(2)), float(m.group(3))))
        t = re.search(r"\(([0-9.]+) s\)", line)
        if m and t:
            secs += float(t.group(1))
    if not rows:
        return None
    best = max(rows, key=lambda r: r[1])
    out = {"rounds": len(rows), "final_accuracy": rows[-1][1], "final_macro_f1": rows[-1][2],
           "best_accuracy": best[1], "best_macro_f1": best[2], "best_round": best[0],
           "curve": [r[1] for r in rows], "per_round_site": None, "wall_s": secs, "recall": {}}
    ev = os.path.join(folder, f"{name}.eval.json")
    if os.path.exists(ev) and os.path.getsize(ev) > 0:
        ev = json.load(open(ev))
        out["recall"], out["support"] = per_class(ev), support(ev)
    return out


def plot(task, runs, path):
    w, h, left, top, right, bottom = 640, 320, 50, 20, 170, 40
    runs = {k: r for k, r in runs.items() if r["curve"]}
    if not runs:
        return
    n = max(len(r["curve"]) for r in runs.values())
    sx = lambda i: left + (w - left - right) * (i / max(1, n - 1))
    sy = lambda a: top + (h - top - bottom) * (1 - a)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    for a in (0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<line x1="{left}" x2="{w - right}" y1="{sy(a):.1f}" y2="{sy(a):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 6}" y="{sy(a) + 4:.1f}" '
                   f'text-anchor="end">{a:.2f}</text>')
    for i in range(0, n, max(1, n // 10)):
        out.append(f'<text x="{sx(i):.1f}" y="{h - bottom + 15}" text-anchor="middle">{i + 1}</text>')
    out.append(f'<text x="{(left + w - right) / 2}" y="{h - 5}" text-anchor="middle">round '
               f'(centralized: epoch)</text>')
    out.append(f'<text x="{left}" y="12">{task}: held-out accuracy</text>')
    for k, (name, r) in enumerate(runs.items()):
        pts = " ".join(f"{sx(i):.1f},{sy(a):.1f}" for i, a in enumerate(r["curve"]))
        c = COLOURS.get(name, "#777")
        out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.8"/>')
        y = top + 14 * k
        out.append(f'<line x1="{w - right + 10}" x2="{w - right + 28}" y1="{y}" y2="{y}" '
                   f'stroke="{c}" stroke-width="2"/><text x="{w - right + 32}" y="{y + 4}">'
                   f'{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def section(task, folders, docs_dir):
    runs = {}
    for name in ORDER:
        for folder in folders:
            r = run_of(folder, name)
            if r:
                runs[name] = r
                break
    if not runs:
        return []
    lines = [f"## {task}: {TASKS.get(task, task)}", "", machine(), ""]
    svg = f"accuracy-{task}.svg"
    plot(task, runs, os.path.join(docs_dir, svg))
    lines += [f"![accuracy per round, {task}]({svg})", ""]
    head = ["run", "rounds", "final acc", "final macro-F1",
            f"mean of the last {TAIL_ROUNDS} rounds (acc / macro-F1)", "best acc (round)",
            "MiB per site-round (down+up)", "vs float", "wall"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    # Float FedAvg's bytes per round do not depend on the schedule: the older run serves the
    # ratio until the same-schedule run exists.
    f32_name = next((n for n in ("f32", "f32fresh", "f32epoch") if n in runs), "f32")
    f32 = runs.get(f32_name)
    for name, r in runs.items():
        ratio, traffic = "", ""
        if r["per_round_site"]:
            traffic = f"{r['per_round_site'] / 1048576:.2f}"
            if f32 and f32["per_round_site"]:
                ratio = f"1/{f32['per_round_site'] / r['per_round_site']:.1f}"
        lines.append("| " + " | ".join([
            LABEL.get(name, name), str(r["rounds"]), f"{r['final_accuracy']:.4f}",
            f"{r['final_macro_f1']:.4f}",
            f"{r['tail'][0]:.4f} / {r['tail'][1]:.4f}" if r.get("tail") else "",
            f"{r['best_accuracy']:.4f} ({r['best_round']})",
            traffic, ratio,
            f"{r['wall_s'] / 60:.0f} min" + (" (training only)" if r.get("wall_partial") else "")])
            + " |")
    # The goal is judged on the default; a task without a run of today's default (SecAgg+ since
    # 2026-12-07) is judged on its plain default.
    d_name = "default" if runs.get("default") else "plain"
    c, d = runs.get("central"), runs.get(d_name)
    if c and (c["recall"] or d):
        classes = list(c["recall"] or d["recall"])
        cols = [n for n in ("central", "central128", "default", "plain", "securebn", "secure32", "secureunion", "plainbn", "flip25", "flip20", "majority", "f32", "fresh", "f32fresh",
                            "keepscale", "flipglorot", "iid", "f32iid", "f32m", "lr4", "stepsbal", "epochbal", "f32epoch", "nola", "nobn", "mom5",
                            "epochnobn", "epochmom5")
                if n in runs and runs[n]["recall"]]
        n_of = next((runs[n].get("support") for n in ("central", "default", f32_name)
                     if n in runs and runs[n].get("support")), {})
        lines += ["", "Per-class recall on the held-out set (last round / last epoch); "
                  "\"images\" is the class's held-out count, so one image moves its recall by "
                  "100/images points:", "",
                  "| class | images | " + " | ".join(cols) + " |",
                  "|---|---|" + "---|" * len(cols)]
        for k in classes:
            cells = []
            for n in cols:
                v = runs[n]["recall"].get(k)
                mark = ""
                if n != "central" and v is not None and c["recall"].get(k) is not None and \
                        100 * (c["recall"][k] - v) > RECALL_POINTS:
                    mark = " (**-{:.1f}**)".format(100 * (c["recall"][k] - v))
                cells.append("" if v is None else f"{v:.3f}{mark}")
            lines.append(f"| {k} | {n_of.get(k, '')} | " + " | ".join(cells) + " |")
    if c and d:
        da, df = 100 * (c["final_accuracy"] - d["final_accuracy"]), 100 * (c["final_macro_f1"] - d["final_macro_f1"])
        ratio = f32["per_round_site"] / d["per_round_site"] if f32 and d["per_round_site"] else None
        worst = max(((100 * (c["recall"][k] - v), k) for k, v in d["recall"].items()
                     if k in c["recall"]), default=(None, None))
        budget = SECURE_BYTES_RATIO if d_name == "default" else BYTES_RATIO
        ok = da <= GOAL_POINTS and df <= GOAL_POINTS and d["rounds"] <= 30 and \
            (ratio is None or ratio >= budget) and (worst[0] is None or worst[0] <= RECALL_POINTS)
        lines += ["", f"**Goal check ({'default' if d_name == 'default' else 'plain default'} vs centralized)**: accuracy {-da:+.1f} points, macro-F1 "
                  f"{-df:+.1f} points (goal: within {GOAL_POINTS:.0f}), in {d['rounds']} rounds "
                  f"(at most 30), bytes 1/{ratio:.1f} of float FedAvg (at most 1/{budget:.0f})"
                  if ratio else
                  f"**Goal check ({'default' if d_name == 'default' else 'plain default'} vs centralized)**: accuracy {-da:+.1f} points, macro-F1 "
                  f"{-df:+.1f} points, {d['rounds']} rounds"]
        if worst[0] is not None:
            lines[-1] += f", worst class recall {-worst[0]:+.1f} points ({worst[1]}; goal: within 3)"
        lines[-1] += ": **met**." if ok else ": **not met**."
        if d.get("tail"):
            lines[-1] += (f" On the mean of the last {TAIL_ROUNDS} rounds: accuracy "
                          f"{100 * (d['tail'][0] - c['final_accuracy']):+.1f} points, macro-F1 "
                          f"{100 * (d['tail'][1] - c['final_macro_f1']):+.1f}.")
    if c and f32:
        lines.append(f"{LABEL[f32_name][0].upper() + LABEL[f32_name][1:]} vs centralized: accuracy "
                     f"{100 * (f32['final_accuracy'] - c['final_accuracy']):+.1f} points, macro-F1 "
                     f"{100 * (f32['final_macro_f1'] - c['final_macro_f1']):+.1f}" +
                     (f" (mean of the last {TAIL_ROUNDS} rounds: "
                      f"{100 * (f32['tail'][0] - c['final_accuracy']):+.1f} and "
                      f"{100 * (f32['tail'][1] - c['final_macro_f1']):+.1f})."
                      if f32.get("tail") else "."))
    for name, r in runs.items():
        if r.get("note"):
            lines += ["", f"{LABEL.get(name, name)}: {r['note']}"]
    seed_names = ORDER + ["conc-" + n for n in ORDER if not n.startswith("central")]
    seeds = accuracy_seeds.seed_lines(folders, seed_names, {}, TAIL_ROUNDS, RECALL_POINTS,
                                      GOAL_POINTS)
    if seeds:
        lines += [""] + seeds
    made = [(name, command_of(folders, name)) for name in runs]
    made += [(name, command_of(folders, name)) for name in seed_runs(folders, seed_names)
             if name not in runs]
    if any(m for _, m in made):
        lines += ["", "How each row was made (date, commit, command; from "
                  f"`docs/accuracy-runs/{task}/`):", ""]
        for name, m in made:
            if m:
                lines.append(f"- **{name}** ({m[0]}):")
                lines += ["  ```", *[f"  {l}" for l in m[1]], "  ```"]
    lines.append("")
    return lines


def machine():
    cpu = ""
    try:
        cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                             capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return (f"Generated on {platform.machine()}, {os.cpu_count()} cores ({cpu}), no GPU, by "
            "`python3 bench/py/accuracy_doc.py` from the runs of `scripts/accuracy-table`. Runs "
            "may come from different machines (all 2 cores, no GPU): each run's machine is in its "
            "record below, and wall times compare only within one machine.")


def kept_sections(path):
    """The task sections of an existing page, by task: a task whose runs are not on this machine
    keeps the rows measured earlier (their commands and dates are in the section itself)."""
    out, task = {}, None
    if not os.path.exists(path):
        return out
    for line in open(path).read().rstrip("\n").split("\n"):
        m = re.match(r"^## ([a-z0-9-]+): ", line)
        if m and m.group(1) in TASKS:
            task = m.group(1)
            out[task] = []
        elif line.startswith("## "):
            task = None  # the page's tail (docs/accuracy.tail.md) belongs to no task
        if task:
            out[task].append(line)
    for task in out:
        out[task].append("")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="runs/accuracy")
    ap.add_argument("--records", default="docs/accuracy-runs")
    ap.add_argument("--out", default="docs/accuracy.md")
    a = ap.parse_args()
    docs_dir = os.path.dirname(os.path.abspath(a.out))
    head_path = os.path.join(docs_dir, "accuracy.head.md")
    lines = open(head_path).read().rstrip("\n").split("\n") + [""] if os.path.exists(head_path) else []
    sections = kept_sections(a.out)
    tasks = set()
    for root in (a.runs, a.records):
        if os.path.isdir(root):
            tasks |= {t for t in os.listdir(root) if os.path.isdir(os.path.join(root, t))}
    for task in sorted(tasks):
        folders = [os.path.join(root, task) for root in (a.runs, a.records)
                   if os.path.isdir(os.path.join(root, task))]
        fresh = section(task, folders, docs_dir)
        if fresh:
            sections[task] = fresh
    for task in sorted(sections):
        body = list(sections[task])
        while body and not body[-1]:
            body.pop()
        lines += body + [""]
    # What the default does and why comes after the results (docs/accuracy.tail.md); the dated
    # notes are a page of their own (docs/accuracy-notes.md).
    tail_path = os.path.join(docs_dir, "accuracy.tail.md")
    if os.path.exists(tail_path):
        with open(tail_path) as f:
            lines += f.read().rstrip("\n").split("\n")
    with open(a.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
