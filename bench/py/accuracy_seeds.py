#!/usr/bin/env python3
"""Seed aggregation for docs/accuracy.md (used by accuracy_doc.py): each run of
scripts/accuracy-table --seeds N over its seeds, as mean +- spread.

A run NAME at seed 1 lives in the folder NAME (every run made before --seeds existed is a seed-1
run), at seed S > 1 in NAME-sS; the concentrated scenario's runs are conc-NAME[-sS]. The
centralized reference is central[-sS].log / .eval.json. Per seed, a federated run counts the
mean of its last TAIL rounds (rounds 25-30 of 30) for accuracy, macro-F1 and every class's
recall; a centralized one its last epoch. Across seeds: the mean, the sample standard deviation
(n - 1; none for one seed) and the min-max range. Standard library only.
"""
import json
import math
import os
import re

SEED_SUFFIX = re.compile(r"^(.*)-s([0-9]+)$")


def split_name(folder_name):
    """("default", 2) for "default-s2", ("default", 1) for "default"."""
    m = SEED_SUFFIX.match(folder_name)
    return (m.group(1), int(m.group(2))) if m and int(m.group(2)) > 1 else (folder_name, 1)


def seed_folder(name, seed):
    return name if seed == 1 else f"{name}-s{seed}"


def per_class_recall(block):
    return {c["class"]: c["recall"] for c in block.get("per_class", [])}


def federated_seed(path, tail):
    """{"accuracy", "macro_f1", "recall": {class: r}, "rounds", "partial"} of one metrics.jsonl:
    means over its last `tail` rounds (all of them, marked partial, when it has fewer)."""
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    rows = [r for r in rows if r.get("accuracy") is not None]
    if not rows:
        return None
    last = rows[-tail:]
    recalls = [per_class_recall(next(iter(r.get("central", {}).values()), {})) for r in last]
    classes = [k for k in (recalls[-1] if recalls else {})]
    recall = {}
    for k in classes:
        values = [r[k] for r in recalls if k in r]
        recall[k] = sum(values) / len(values)
    return {"accuracy": sum(r["accuracy"] for r in last) / len(last),
            "macro_f1": sum(r["macro_f1"] for r in last) / len(last),
            "recall": recall, "rounds": len(rows), "partial": len(rows) < tail}


def central_seed(folder, name):
    """The centralized reference's last epoch (log) and per-class recall (eval.json)."""
    log = os.path.join(folder, f"{name}.log")
    if not os.path.exists(log):
        return None
    pattern = re.compile(r"^epoch\s+(\d+).*holdout acc ([0-9.]+)\s+macro-F1 ([0-9.]+)")
    with open(log) as f:
        rows = [m for m in (pattern.match(line) for line in f) if m]
    if not rows:
        return None
    out = {"accuracy": float(rows[-1].group(2)), "macro_f1": float(rows[-1].group(3)),
           "recall": {}, "rounds": len(rows), "partial": False}
    ev = os.path.join(folder, f"{name}.eval.json")
    if os.path.exists(ev) and os.path.getsize(ev) > 0:
        with open(ev) as f:
            out["recall"] = per_class_recall(json.load(f))
    return out


def seeds_of(folders, name, tail):
    """{seed: figures} of run `name` over every seed folder found; for each seed the first
    folder holding it wins (the live runs before the records)."""
    found = {}
    for folder in folders:
        if not os.path.isdir(folder):
            continue
        for entry in sorted(os.listdir(folder)):
            if name.startswith("central"):
                if not entry.endswith(".log"):
                    continue
                base, seed = split_name(entry[:-4])
                if base != name or seed in found:
                    continue
                r = central_seed(folder, entry[:-4])
            else:
                base, seed = split_name(entry)
                metrics = os.path.join(folder, entry, "metrics.jsonl")
                if base != name or seed in found or not os.path.exists(metrics):
                    continue
                r = federated_seed(metrics, tail)
            if r:
                found[seed] = r
    return dict(sorted(found.items()))


def spread(values):
    """(mean, sample std or None, min, max) of a non-empty list."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return mean, std, min(values), max(values)


def aggregate(by_seed):
    """Across seeds: {"seeds": [...], "accuracy": spread, "macro_f1": spread,
    "recall": {class: spread}, "partial": any seed short of its rounds}."""
    if not by_seed:
        return None
    runs = list(by_seed.values())
    classes = []
    for r in runs:
        classes += [k for k in r["recall"] if k not in classes]
    return {"seeds": list(by_seed), "accuracy": spread([r["accuracy"] for r in runs]),
            "macro_f1": spread([r["macro_f1"] for r in runs]),
            "recall": {k: spread([r["recall"][k] for r in runs if k in r["recall"]])
                       for k in classes},
            "partial": any(r["partial"] for r in runs)}


def fmt(s, scale=1.0, digits=3):
    """ "0.942 +- 0.004 (0.938-0.946)" or "0.942" for one seed."""
    mean, std, lo, hi = s
    if std is None:
        return f"{scale * mean:.{digits}f}"
    return (f"{scale * mean:.{digits}f} ± {scale * std:.{digits}f} "
            f"({scale * lo:.{digits}f}-{scale * hi:.{digits}f})")


def seed_lines(folders, names, labels, tail, recall_points, goal_points):
    """The Markdown of the seeds section: the table of every run in `names` found at any seed,
    the per-class recall table (mean +- std over seeds, and the difference of the means to the
    centralized reference's), and the goal checks of the default runs; nothing when every run
    has one seed and none is of the concentrated scenario (the main table shows those)."""
    agg = {}
    for name in names:
        a = aggregate(seeds_of(folders, name, tail))
        if a:
            agg[name] = a
    # Only what the main table does not show already: several seeds, or the concentrated scenario.
    if not any(len(a["seeds"]) > 1 or n.startswith("conc-") for n, a in agg.items()):
        return []
    c = agg.get("central")
    lines = ["### Over seeds", "",
             f"Each seed's figure is the mean of its last {tail} rounds (centralized: its last "
             "epoch); across seeds, mean ± sample standard deviation (min-max). The seed "
             "changes the sites' split, initialisation and batches, not the held-out set. "
             "`conc-` runs: the concentrated scenario (one site holds >= 95% of a class).", "",
             "| run | seeds | accuracy | macro-F1 | vs centralized (points, acc / macro-F1) |",
             "|---|---|---|---|---|"]
    for name, a in agg.items():
        vs = ""
        if c and name != "central":
            vs = (f"{100 * (a['accuracy'][0] - c['accuracy'][0]):+.1f} / "
                  f"{100 * (a['macro_f1'][0] - c['macro_f1'][0]):+.1f}")
        lines.append(f"| {labels.get(name, name)} | {','.join(map(str, a['seeds']))}"
                     f"{' (partial)' if a['partial'] else ''} | {fmt(a['accuracy'])} | "
                     f"{fmt(a['macro_f1'])} | {vs} |")
    cols = [n for n in agg if agg[n]["recall"]]
    classes = []
    for n in cols:
        classes += [k for k in agg[n]["recall"] if k not in classes]
    if classes:
        lines += ["", "Per-class recall over seeds (mean ± std; in brackets the difference of "
                  f"the means to centralized, in points, bold beyond {recall_points:.0f}):", "",
                  "| class | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
        for k in classes:
            cells = []
            for n in cols:
                s = agg[n]["recall"].get(k)
                if s is None:
                    cells.append("")
                    continue
                cell = f"{s[0]:.3f}" + (f" ± {s[1]:.3f}" if s[1] is not None else "")
                if c and n != "central" and k in c["recall"]:
                    d = 100 * (s[0] - c["recall"][k][0])
                    cell += f" ({'**' if -d > recall_points else ''}{d:+.1f}"
                    cell += f"{'**' if -d > recall_points else ''})"
                cells.append(cell)
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
    for name in ("default", "conc-default"):
        if not c or name not in agg:
            continue
        a = agg[name]
        da = 100 * (a["accuracy"][0] - c["accuracy"][0])
        df = 100 * (a["macro_f1"][0] - c["macro_f1"][0])
        worst = min(((100 * (s[0] - c["recall"][k][0]), k) for k, s in a["recall"].items()
                     if k in c["recall"]), default=(None, None))
        ok = -da <= goal_points and -df <= goal_points and \
            (worst[0] is None or -worst[0] <= recall_points)
        line = (f"**Goal check over seeds ({name}, seeds {','.join(map(str, a['seeds']))}, vs "
                f"centralized, seeds {','.join(map(str, c['seeds']))})**: accuracy {da:+.1f}, "
                f"macro-F1 {df:+.1f} points (goal: within {goal_points:.0f})")
        if worst[0] is not None:
            line += f", worst class recall {worst[0]:+.1f} ({worst[1]}; goal: within " \
                    f"{recall_points:.0f})"
        line += (": **met**" if ok else ": **not met**") + \
            (f" (partial: a seed has fewer than {tail} rounds)." if a["partial"] else ".")
        lines += ["", line]
    lines.append("")
    return lines
