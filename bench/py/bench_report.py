"""Turns the raw outputs of scripts/bench into bench-results.json, a Markdown report, and the
generated part of docs/benchmarks.md (between <!-- bench:begin --> and <!-- bench:end -->).

    bench_report.py --raw DIR --json OUT.json --md OUT.md --doc docs/benchmarks.md

DIR holds what scripts/bench collected: machine.env, steps.tsv, model.json (scripts/bench-model),
codec.json / secagg.json / transport.json / loader.json (Google Benchmark JSON), openssl.txt, bytes.json,
memory-{10,50,200}.json, {curve,insecure}-metrics.jsonl (fedsmear simulate) and infer.json
(bench/infer_bench). Each goal is
judged from these numbers alone: "met", "not met" or "not measurable yet". Standard library only.
"""
import argparse
import json
import os
import re
import statistics
import sys

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
MEMORY_SITES = (10, 50, 200)
# Reference bdn28 round for SecAgg+'s standalone cost: one local epoch over a tenth of wbc-pbc
# (13,671 images split over 10 sites), at the measured C++ training speed at 64 px.
REFERENCE_SITE_IMAGES = 1367
BYTES_GOAL_RATIO = 16.0
AGG_GOAL = 0.5
CRYPTO_GOAL = 0.02
MEMORY_FLAT_TOLERANCE = 0.05  # peak at 200 sites within 5% of the peak at 10
# Issue 19: binary engine vs LibTorch at bdn28, 64 px, batch 1, 1 thread.
INFER_CONV_GOAL, INFER_MODEL_GOAL = 4.0, 2.5
# transport_bench message sizes (bdn28, 8 classes: f32 update, sign1+f16 downlink) and the
# number of sites whose messages the coordinator's one I/O thread encrypts in a round.
TRANSPORT_FLOAT_BYTES, TRANSPORT_COMPACT_BYTES, TRANSPORT_SITES = 18312540, 1283199, 10


def load_json(path):
    with open(path) as f:
        return json.load(f)


def read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            if key:
                env[key] = value
    return env


def status(ok):
    return "**met**" if ok else "**not met**"


def mb(n):
    return f"{n / 1e6:.2f} MB"


def gbench(path):
    """name -> {ms, bytes_per_second, counters...} from Google Benchmark JSON."""
    out = {}
    for b in load_json(path)["benchmarks"]:
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
        entry = {k: v for k, v in b.items() if isinstance(v, (int, float))}
        entry["label"] = b.get("label", "")
        entry["real_ms"] = b["real_time"] * scale
        entry["cpu_ms"] = b["cpu_time"] * scale
        out[b["name"]] = entry
    return out


def find(results, prefix):
    for name, entry in results.items():
        if name == prefix or name.startswith(prefix + "/"):
            return entry
    return None


def parse_openssl(path):
    """Bytes/s per block size from `openssl speed -evp aes-256-ctr` (values are in 1000s)."""
    with open(path) as f:
        text = f.read()
    header = re.search(r"^type\s+(.*)$", text, re.M)
    row = re.search(r"^(AES-256-CTR|aes-256-ctr)\s+(.*)$", text, re.M | re.I)
    if not header or not row:
        return None
    sizes = [int(s) for s in re.findall(r"(\d+) bytes", header.group(1))]
    values = [float(v.rstrip("k")) * 1000 for v in row.group(2).split()]
    return {str(s): v for s, v in zip(sizes, values)}


def curve_cost_ms(transport, size):
    """CurveZMQ's extra ms per message of `size` bytes, down and up (secure - plain)."""
    out = {}
    for direction, name in (("down", "BM_Downlink"), ("up", "BM_Uplink")):
        t = {sec: find(transport, f"{name}/secure:{sec}/bytes:{size}") for sec in (0, 1)}
        if not t[0] or not t[1]:
            return None
        out[direction] = t[1]["real_ms"] - t[0]["real_ms"]
    return out


def round_stats(path):
    rounds = [json.loads(line) for line in open(path) if line.strip()]
    rows = [{"round": r["round"], "round_s": r["round_s"], "train_s": r["train_s"],
             "overhead_s": r["round_s"] - r["train_s"], "bytes_down": r.get("bytes_down"),
             "bytes_up": r.get("bytes_up")} for r in rounds]
    return {"rounds": rows,
            "mean_round_s": statistics.mean(r["round_s"] for r in rows),
            "mean_train_s": statistics.mean(r["train_s"] for r in rows),
            "mean_overhead_s": statistics.mean(r["overhead_s"] for r in rows)}


def collect(raw):
    r = {"machine": read_env(os.path.join(raw, "machine.env"))}
    r["mode"] = r["machine"].pop("mode")
    r["steps_s"] = {}
    with open(os.path.join(raw, "steps.tsv")) as f:
        for line in f:
            name, seconds = line.split("\t")
            r["steps_s"][name] = float(seconds)
    r["model"] = load_json(os.path.join(raw, "model.json"))
    r["model"].pop("runs", None)
    r["codec"] = gbench(os.path.join(raw, "codec.json"))
    r["secagg"] = gbench(os.path.join(raw, "secagg.json"))
    transport = os.path.join(raw, "transport.json")
    r["transport"] = gbench(transport) if os.path.exists(transport) else {}
    r["loader"] = gbench(os.path.join(raw, "loader.json"))
    r["openssl_aes256ctr_bytes_s"] = parse_openssl(os.path.join(raw, "openssl.txt"))
    r["bytes"] = load_json(os.path.join(raw, "bytes.json"))
    r["memory"] = {str(n): load_json(os.path.join(raw, f"memory-{n}.json")) for n in MEMORY_SITES}
    r["rounds"] = {name: round_stats(os.path.join(raw, f"{name}-metrics.jsonl"))
                   for name in ("curve", "insecure", "secagg", "secvotes")
                   if os.path.exists(os.path.join(raw, f"{name}-metrics.jsonl"))}
    infer = os.path.join(raw, "infer.json")
    r["infer"] = load_json(infer) if os.path.exists(infer) else []
    acc = os.path.join(raw, "accuracy.json")
    r["accuracy"] = load_json(acc) if os.path.exists(acc) else None
    if r["accuracy"]:
        with open(os.path.join(raw, "accuracy.md")) as f:
            r["accuracy_md"] = f.read()
    return r


def judge(r):
    """Adds r["goals"] (rows for the goal table) and a few derived figures."""
    goals = []
    # Bytes per round per site, down + up.
    for arch in r["bytes"]["archs"]:
        pairs = arch["per_round_per_site"]
        for key, label in (("default", "coordinator defaults"),
                           ("smallest_selectable", "smallest codec_down/codec_up can select"),
                           ("smallest", "smallest PackModel/EncodeUpdate can produce")):
            p = pairs[key]
            goals.append({
                "area": "bytes", "goal": "bytes per round per site <= 1/16 of float FedAvg",
                "figure": f"{arch['arch']}, {label}: {p['down_codec']} down + {p['up_codec']} up",
                "value": f"{mb(p['total_bytes'])} vs {mb(pairs['float_fedavg']['total_bytes'])} "
                         f"= 1/{p['ratio_vs_float']:.1f}",
                "status": status(p["ratio_vs_float"] >= BYTES_GOAL_RATIO)})
    # Aggregation throughput: each thread count against memcpy with as many threads.
    r["fedavg_vs_memcpy"] = {}
    for threads, label in ((1, "1 thread"), (2, "2 threads, the coordinator's default "
                                               "aggregation_threads")):
        fedavg = find(r["codec"], f"FedAvgAdd/K:10/threads:{threads}")
        memcpy = find(r["codec"], f"MemcpyK/K:10/threads:{threads}")
        if not fedavg or not memcpy:
            continue
        ratio = fedavg["bytes_per_second"] / memcpy["bytes_per_second"]
        r["fedavg_vs_memcpy"][str(threads)] = ratio
        goals.append({
            "area": "aggregation", "goal": "FedAvg aggregation >= 50% of memcpy throughput",
            "figure": f"WeightedAccumulator::Add of 10 bdn28 updates vs memcpy of the same bytes, "
                      f"{label}",
            "value": f"{fedavg['bytes_per_second'] / 1e9:.2f} vs "
                     f"{memcpy['bytes_per_second'] / 1e9:.2f} GB/s = {100 * ratio:.0f}%",
            "status": status(ratio >= AGG_GOAL)})
    # Crypto: CurveZMQ per message (transport_bench) and in rounds; SecAgg+ compute.
    curve, plain = r["rounds"]["curve"], r["rounds"]["insecure"]
    extra = curve["mean_overhead_s"] - plain["mean_overhead_s"]
    share = extra / curve["mean_round_s"]
    r["curve_extra_s"], r["curve_share_of_round"] = extra, share
    train64 = next((b["cpp_img_s"] for b in r["model"]["best"]
                    if b["size"] == 64 and b["phase"] == "train"), None)
    ref = REFERENCE_SITE_IMAGES / train64 if train64 else None
    for label, size in (("f32", TRANSPORT_FLOAT_BYTES), ("sign1+f16", TRANSPORT_COMPACT_BYTES)):
        cost = curve_cost_ms(r["transport"], size)
        if cost is None or ref is None:
            continue
        per_round = TRANSPORT_SITES * (cost["down"] + cost["up"]) / 1000
        r.setdefault("curve_per_message_ms", {})[label] = cost
        goals.append({
            "area": "crypto", "goal": "crypto < 2% of round time",
            "figure": f"CurveZMQ (transport_bench): the coordinator's extra time for "
                      f"{TRANSPORT_SITES} {label}-sized ({mb(size)}) downlinks + uplinks vs a "
                      f"bdn28 round's training ({ref:.1f} s, see SecAgg+ below)",
            "value": f"{cost['down']:+.1f} + {cost['up']:+.1f} ms per site = {per_round:.2f} s "
                     f"= {100 * per_round / ref:.2f}%",
            "status": status(per_round / ref < CRYPTO_GOAL)})
    goals.append({
        "area": "crypto", "goal": "crypto < 2% of round time (context)",
        "figure": "CurveZMQ in real rounds: round overhead with CurveZMQ minus --insecure "
                  "(10 sites, bdn-tiny 32 px; one run each, within run-to-run noise)",
        "value": f"{extra * 1000:+.0f} ms of {curve['mean_round_s']:.2f} s = {100 * share:+.1f}%",
        "status": "informative"})
    if ref:
        r["secagg_reference_round_train_s"] = ref
        r["secagg_share_of_reference_round"] = {}
        for n in (10, 50):
            site = find(r["secagg"], f"BM_SiteRound/{n}")
            server = find(r["secagg"], f"BM_ServerRound/{n}/0")
            if not site or not server:
                continue
            shares = {"site": site["real_ms"] / 1000 / ref,
                      "server": server["real_ms"] / 1000 / ref}
            r["secagg_share_of_reference_round"][str(n)] = shares
            goals.append({
                "area": "crypto", "goal": "crypto < 2% of round time",
                "figure": f"SecAgg+ compute per round (secagg_bench, bdn28-sized vector), {n} "
                          f"sites, vs a bdn28 round's training ({REFERENCE_SITE_IMAGES} images "
                          f"at {train64:.0f} img/s = {ref:.1f} s)",
                "value": f"site {site['real_ms']:.0f} ms = {100 * shares['site']:.2f}%, "
                         f"server {server['real_ms']:.0f} ms = {100 * shares['server']:.2f}%",
                "status": status(max(shares.values()) < CRYPTO_GOAL) if n == 10
                          else "(50 sites: for scale)"})
    if "secagg" in r["rounds"]:
        sec = r["rounds"]["secagg"]
        extra = sec["mean_overhead_s"] - curve["mean_overhead_s"]
        r["secagg_extra_s"] = extra
        goals.append({
            "area": "crypto", "goal": "crypto < 2% of round time (context)",
            "figure": "SecAgg+ in real rounds: overhead with secagg+ minus CurveZMQ alone, 10 sites, "
                      "bdn-tiny 32 px (a ~1 s round: the four stages' message round trips, not "
                      "the crypto, dominate)",
            "value": f"{extra * 1000:+.0f} ms of {sec['mean_round_s']:.2f} s",
            "status": "informative"})
    # C++ vs Python training.
    for b in r["model"]["best"]:
        if b["phase"] != "train":
            continue
        ratio = b["ratio_cpp_over_python"]
        goals.append({
            "area": "training", "goal": "C++ training >= 1.0x Python",
            "figure": f"bdn28 {b['size']}x{b['size']}, batch 32, 2 threads",
            "value": "n/a (no torch in /usr/bin/python3)" if ratio is None else
                     f"{b['cpp_img_s']:.1f} vs {b['python_img_s']:.1f} img/s = {ratio:.2f}x",
            "status": "not measurable yet" if ratio is None else status(ratio >= 1.0)})
    # Coordinator memory.
    peaks = {n: r["memory"][str(n)]["peak"]["vm_hwm_kb"] for n in MEMORY_SITES}
    growth = (peaks[MEMORY_SITES[-1]] - peaks[MEMORY_SITES[0]]) / peaks[MEMORY_SITES[0]]
    r["memory_growth_10_to_200"] = growth
    goals.append({
        "area": "memory", "goal": "coordinator memory flat in the number of sites",
        "figure": "peak RSS (VmHWM) aggregating 10 / 50 / 200 bdn28 updates",
        "value": " / ".join(f"{peaks[n] / 1024:.0f}" for n in MEMORY_SITES) +
                 f" MiB ({100 * growth:+.1f}% from 10 to 200)",
        "status": status(abs(growth) <= MEMORY_FLAT_TOLERANCE)})
    goals += infer_goals(r["infer"])
    r["goals"] = goals


def infer_goals(rows):
    """Goal rows for the binary engine (bdn28, 64 px, batch 1, 1 thread) from infer.json."""
    key = [x for x in rows
           if (x["arch"], x["size"], x["batch"], x["threads"]) == ("bdn28", 64, 1, 1)]
    if not key:
        return []
    x = key[0]
    figure = f"bdn28 64 px, batch 1, 1 thread, {x['isa']}"
    return [{"area": "inference", "goal": f"binary convs >= {INFER_CONV_GOAL:g}x LibTorch",
             "figure": figure + " (dense layers, ms/img)",
             "value": f"{x['torch_binary_ms_per_img']:.2f} vs {x['engine_binary_ms_per_img']:.3f}"
                      f" = {x['binary_conv_ratio']:.1f}x",
             "status": status(x["binary_conv_ratio"] >= INFER_CONV_GOAL)},
            {"area": "inference", "goal": f"whole model >= {INFER_MODEL_GOAL:g}x LibTorch",
             "figure": figure,
             "value": f"{x['binary_img_s']:.0f} vs {x['torch_img_s']:.1f} img/s"
                      f" = {x['ratio']:.1f}x",
             "status": status(x["ratio"] >= INFER_MODEL_GOAL)}]


def infer_markdown(rows):
    """The binary engine table (empty list when infer.json is absent)."""
    if not rows:
        return []
    out = ["", "#### 1-bit inference: binary engine vs LibTorch float forward (paired rounds, "
           f"engine kernels {rows[0]['isa']})", ""]
    out.append(table(["arch", "px", "batch", "threads", "LibTorch img/s", "binary img/s", "x",
                      "dense layers ms/img (x)", "float parts ms/img (x)", "weights MB"],
                     [[x["arch"], x["size"], x["batch"], x["threads"], f"{x['torch_img_s']:.1f}",
                       f"{x['binary_img_s']:.0f}", f"{x['ratio']:.1f}",
                       f"{x['torch_binary_ms_per_img']:.2f} / {x['engine_binary_ms_per_img']:.3f}"
                       f" ({x['binary_conv_ratio']:.0f})",
                       f"{x['torch_float_ms_per_img']:.2f} / {x['engine_float_ms_per_img']:.3f}"
                       f" ({x['float_part_ratio']:.1f})",
                       f"{x['torch_weight_bytes'] / 1e6:.2f} / "
                       f"{x['engine_weight_bytes'] / 1e6:.2f}"]
                      for x in rows]))
    out.append("\nLibTorch / binary engine. Dense layers: BN + sign + 3x3 conv (+ LibTorch's "
               "concatenation); the engine's split is summed over its threads. The section "
               "'1-bit inference' above says how to read these.")
    return out


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(r):
    m = r["machine"]
    out = [f"_Generated by `scripts/bench{' --quick' if r['mode'] == 'quick' else ''}` on "
           f"{m['date']} (commit `{m['git_commit'][:12]}`"
           f"{', with uncommitted changes' if m.get('git_dirty') == 'true' else ''}); "
           "do not edit by hand._", ""]
    out.append(f"**Machine:** {m['nproc']} x {m['cpu_model']}, "
               f"{int(m['mem_total_kb']) / 1048576:.1f} GiB RAM, Linux {m['kernel']}. "
               f"**Load average** (1/5/15 min) at start {m['loadavg_start']}, at end "
               f"{m['loadavg_end']}: with {m['nproc']} cores, a 1-min load above "
               f"{m['nproc']} means other work competed with the benchmarks. "
               f"**Mode:** {r['mode']}, {int(m['elapsed_s'])} s in all; "
               f"build: {m.get('build', '?')}.")
    out += ["", "#### Goals", ""]
    out.append(table(["goal", "figure", "value", "status"],
                     [[g["goal"], g["figure"], g["value"], g["status"]] for g in r["goals"]]))

    # Bytes.
    archs = r["bytes"]["archs"]
    names = [a["arch"] for a in archs]
    out += ["", f"#### Bytes per round per site ({r['bytes']['classes']} classes, "
            f"{r['bytes']['input_size']} px; payload bytes, MB = 1e6 bytes)", ""]
    out.append(table(["down + up"] + [f"{n} bytes" for n in names] + [f"{n} vs float x"
                                                                       for n in names],
                     [[f"{p} ({archs[0]['per_round_per_site'][p]['down_codec']} + "
                       f"{archs[0]['per_round_per_site'][p]['up_codec']})"] +
                      [f"{a['per_round_per_site'][p]['total_bytes']:,}" for a in archs] +
                      [f"1/{a['per_round_per_site'][p]['ratio_vs_float']:.2f}" for a in archs]
                      for p in ("float_fedavg", "default", "smallest_selectable", "smallest")]))
    out += ["", "Downlink (PackModel of the global model; `selectable` = a `codec_down` value):",
            ""]
    out.append(table(["downlink", "selectable"] + [f"{n} bytes" for n in names],
                     [[d["codec"], "yes" if d["selectable"] else "no"] +
                      [f"{a['downlink'][i]['bytes']:,}" for a in archs]
                      for i, d in enumerate(archs[0]["downlink"])]))
    out += ["", "Uplink (EncodeUpdate, every codec):", ""]
    out.append(table(["uplink"] + [f"{n} bytes" for n in names],
                     [[u["codec"]] + [f"{a['uplink'][i]['bytes']:,}" for a in archs]
                      for i, u in enumerate(archs[0]["uplink"])]))

    # Model.
    out += ["", f"#### Training and inference, C++ vs Python PyTorch (bdn28, batch "
            f"{r['model']['batch']}, {r['model']['threads']} threads, {r['model']['seconds']:g} s "
            "per phase, best of 2)", ""]
    fmt = lambda v, spec=".1f": "n/a" if v is None else format(v, spec)  # noqa: E731
    out.append(table(["input", "phase", "C++ img/s", "Python img/s", "C++ / Python x"],
                     [[f"{b['size']}x{b['size']}", b["phase"], fmt(b["cpp_img_s"]),
                       fmt(b["python_img_s"]), fmt(b["ratio_cpp_over_python"], ".2f")]
                      for b in r["model"]["best"]]))
    pack = r["model"].get("pack") or {}
    if pack.get("pack_mb_s"):
        out.append(f"\nPackModel {pack['pack_mb_s']:.0f} MB/s, UnpackModel "
                   f"{pack['unpack_mb_s']:.0f} MB/s of float state ({mb(pack['float_state_bytes'])}"
                   f" -> {mb(pack['packed_bytes'])} sign1).")

    # Codec / aggregation.
    out += ["", "#### Codecs and aggregation (bdn28 state, 18.3 MB as f32; single thread)", ""]
    out.append(table(["benchmark", "time ms", "GB/s of f32", "encoded bytes"],
                     [[n, f"{e['real_ms']:.2f}", f"{e.get('bytes_per_second', 0) / 1e9:.2f}",
                       f"{int(e['encoded_bytes']):,}" if "encoded_bytes" in e else ""]
                      for n, e in r["codec"].items()]))

    # SecAgg+.
    out += ["", "#### SecAgg+ (4.5M-word vectors, ~bdn28) and AES-256-CTR", ""]
    rows = []
    for n, e in r["secagg"].items():
        rate = f"{e['bytes_per_second'] / 1e9:.2f}" if "bytes_per_second" in e else ""
        rows.append([n.split("/iterations")[0], f"{e['real_ms']:.1f}", rate])
    ossl = r["openssl_aes256ctr_bytes_s"]
    if ossl:
        best = max(ossl.values())
        rows.append(["openssl speed -evp aes-256-ctr (best block size)", "", f"{best / 1e9:.2f}"])
        gen = find(r["secagg"], "BM_MaskGeneration")
        if gen:
            r["mask_generation_vs_openssl"] = gen["bytes_per_second"] / best
    out.append(table(["benchmark", "time ms", "GB/s"], rows))
    if "mask_generation_vs_openssl" in r:
        out.append(f"\nMask generation runs at {100 * r['mask_generation_vs_openssl']:.0f}% of "
                   "openssl's AES-256-CTR rate.")

    # Transport.
    if r["transport"]:
        out += ["", "#### One message through the endpoints on loopback (CurveZMQ vs plain TCP)",
                ""]
        out.append(table(["benchmark", "time ms", "MB/s"],
                         [[n.replace("/real_time", ""), f"{e['real_ms']:.2f}",
                           f"{e.get('bytes_per_second', 0) / 1e6:,.0f}"]
                          for n, e in r["transport"].items()]))

    # Loader.
    out += ["", "#### Image loader (64x64, training mode)", ""]
    out.append(table(["benchmark", "images/s", "data"],
                     [[n.split("/iterations")[0], f"{e.get('images/s', 0):,.0f}", e["label"]]
                      for n, e in r["loader"].items()]))

    # Memory.
    out += ["", "#### Coordinator peak memory (bdn28, f32 down / f32 up, one process per N)", ""]
    out.append(table(["sites", "after setup MiB", "peak VmHWM MiB", "peak ru_maxrss MiB",
                      "aggregation s"],
                     [[n, f"{e['after_setup']['vm_hwm_kb'] / 1024:.1f}",
                       f"{e['peak']['vm_hwm_kb'] / 1024:.1f}",
                       f"{e['peak']['ru_maxrss_kb'] / 1024:.1f}", f"{e['seconds']:.2f}"]
                      for n, e in r["memory"].items()]))

    # Rounds.
    out += ["", "#### Round overhead on loopback (10 sites, 3 rounds, bdn-tiny 32 px, synthetic "
            "rbc, 40 per class)", ""]
    rows = []
    for name, label in (("curve", "CurveZMQ"), ("insecure", "--insecure"),
                        ("secagg", "CurveZMQ + SecAgg+ (fedavg, f32)"),
                        ("secvotes", "CurveZMQ + SecAgg+ sign votes (fedvote, sign1+f16)")):
        if name not in r["rounds"]:
            continue
        s = r["rounds"][name]
        per_round = ", ".join(f"{x['overhead_s']:.3f}" for x in s["rounds"])
        rows.append([label, f"{s['mean_round_s']:.3f}", f"{s['mean_train_s']:.3f}",
                     f"{s['mean_overhead_s']:.3f}", per_round])
    out.append(table(["transport", "mean round_s", "mean train_s", "mean overhead s",
                      "overhead per round (s)"], rows))
    up = {k: statistics.mean(x["bytes_up"] or 0 for x in s["rounds"])
          for k, s in r["rounds"].items()}
    out.append(f"\nCurveZMQ adds {r['curve_extra_s'] * 1000:+.0f} ms per round "
               f"({100 * r['curve_share_of_round']:+.1f}% of round_s)"
               + (f"; SecAgg+ adds {r['secagg_extra_s'] * 1000:+.0f} ms more (four message stages)"
                  if "secagg_extra_s" in r else "") +
               ". Uplink bytes per round (all sites): " +
               ", ".join(f"{k} {mb(v)}" for k, v in up.items()) +
               ". One run each: differences include run-to-run noise (11 processes share the "
               "cores) and can come out negative.")

    out += infer_markdown(r.get("infer", []))

    if r.get("accuracy_md"):
        out += ["", "#### Real-data accuracy against bytes (scripts/accuracy-table)", "",
                r["accuracy_md"].strip()]

    steps = ", ".join(f"{k} {v:.0f} s" for k, v in r["steps_s"].items())
    out += ["", f"Step times: {steps}."]
    return "\n".join(out) + "\n"


def update_doc(path, block):
    generated = f"{BEGIN}\n{block}{END}"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    else:
        text = "# Benchmarks\n\n"
    if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        text = text[:text.index(BEGIN)] + generated + text[text.index(END) + len(END):]
    else:
        text = text.rstrip("\n") + "\n\n## Latest results\n\n" + generated + "\n"
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--md", required=True)
    ap.add_argument("--doc", required=True)
    a = ap.parse_args()
    r = collect(a.raw)
    judge(r)
    block = markdown(r)
    with open(a.json, "w") as f:
        json.dump(r, f, indent=2)
        f.write("\n")
    with open(a.md, "w") as f:
        f.write(block)
    update_doc(a.doc, block)
    print(block)
    print(f"wrote {a.json}, {a.md}, {a.doc}", file=sys.stderr)


if __name__ == "__main__":
    main()
