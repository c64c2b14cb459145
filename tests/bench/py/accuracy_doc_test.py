#!/usr/bin/env python3
"""Tests of bench/py/accuracy_doc.py and accuracy_seeds.py on small synthetic runs: the seed
folders (NAME, NAME-sS, conc-NAME), the means of the last rounds, the spread across seeds, the
per-class table against centralized, and that single-seed runs still make the old table."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "bench", "py"))
import accuracy_doc  # noqa: E402
import accuracy_seeds  # noqa: E402

CLASSES = ["monocyte", "neutrophil"]


def block(acc, recalls):
    return {"accuracy": acc, "macro_f1": acc - 0.01,
            "per_class": [{"class": k, "recall": r, "support": 10}
                          for k, r in zip(CLASSES, recalls)]}


def write_federated(folder, name, accs, mono):
    """A run of len(accs) rounds: accuracy accs[i], monocyte recall mono[i], neutrophil 0.9."""
    os.makedirs(os.path.join(folder, name))
    with open(os.path.join(folder, name, "metrics.jsonl"), "w") as f:
        for i, (a, m) in enumerate(zip(accs, mono)):
            f.write(json.dumps({"round": i + 1, "accuracy": a, "macro_f1": a - 0.01,
                                "sites_selected": ["site-1", "site-2"], "bytes_down": 100,
                                "bytes_up": 100, "round_s": 1, "eval_s": 1,
                                "central": {"holdout": block(a, [m, 0.9])}}) + "\n")


def write_central(folder, name, acc, mono):
    with open(os.path.join(folder, f"{name}.log"), "w") as f:
        f.write(f"epoch  1  loss 0.5  train acc 0.8  holdout acc 0.5000  macro-F1 0.4000  (3 s)\n")
        f.write(f"epoch  2  loss 0.2  train acc 0.9  holdout acc {acc:.4f}  macro-F1 "
                f"{acc - 0.01:.4f}  (3 s)\n")
    with open(os.path.join(folder, f"{name}.eval.json"), "w") as f:
        json.dump(block(acc, [mono, 0.95]), f)


class SeedTest(unittest.TestCase):
    def test_names(self):
        self.assertEqual(accuracy_seeds.split_name("default"), ("default", 1))
        self.assertEqual(accuracy_seeds.split_name("default-s3"), ("default", 3))
        self.assertEqual(accuracy_seeds.split_name("conc-f32-s2"), ("conc-f32", 2))
        self.assertEqual(accuracy_seeds.split_name("default-s1"), ("default-s1", 1))
        self.assertEqual(accuracy_seeds.seed_folder("default", 1), "default")
        self.assertEqual(accuracy_seeds.seed_folder("default", 2), "default-s2")

    def test_tail_mean_of_one_seed(self):
        with tempfile.TemporaryDirectory() as d:
            # 8 rounds: the last 6 have accuracy 0.8 and 0.9 alternating, monocyte 0.5 or 0.7.
            write_federated(d, "default", [0.1, 0.2] + [0.8, 0.9] * 3, [0, 0] + [0.5, 0.7] * 3)
            r = accuracy_seeds.federated_seed(os.path.join(d, "default", "metrics.jsonl"), 6)
            self.assertAlmostEqual(r["accuracy"], 0.85)
            self.assertAlmostEqual(r["macro_f1"], 0.84)
            self.assertAlmostEqual(r["recall"]["monocyte"], 0.6)
            self.assertFalse(r["partial"])
            short = accuracy_seeds.federated_seed(os.path.join(d, "default", "metrics.jsonl"), 10)
            self.assertTrue(short["partial"])

    def test_spread_across_seeds(self):
        mean, std, lo, hi = accuracy_seeds.spread([0.90, 0.92, 0.94])
        self.assertAlmostEqual(mean, 0.92)
        self.assertAlmostEqual(std, 0.02)  # sample std (n - 1)
        self.assertEqual((lo, hi), (0.90, 0.94))
        self.assertIsNone(accuracy_seeds.spread([0.9])[1])

    def test_seeds_found_live_before_records(self):
        with tempfile.TemporaryDirectory() as d:
            live, records = os.path.join(d, "runs"), os.path.join(d, "records")
            os.makedirs(live)
            os.makedirs(records)
            write_federated(live, "default", [0.9] * 6, [0.6] * 6)
            write_federated(records, "default", [0.5] * 6, [0.1] * 6)
            write_federated(records, "default-s2", [0.7] * 6, [0.4] * 6)
            write_federated(records, "defaultish-s2", [0.1] * 6, [0.1] * 6)
            found = accuracy_seeds.seeds_of([live, records], "default", 6)
            self.assertEqual(list(found), [1, 2])
            self.assertAlmostEqual(found[1]["accuracy"], 0.9)
            self.assertAlmostEqual(found[2]["accuracy"], 0.7)


class DocTest(unittest.TestCase):
    def make(self, d, seeds, conc=True):
        task = os.path.join(d, "runs", "wbc-pbc")
        os.makedirs(task)
        write_central(task, "central", 0.96, 0.95)
        for s, (acc, mono) in enumerate(seeds, start=1):
            name = accuracy_seeds.seed_folder("default", s)
            write_federated(task, name, [0.5] * 24 + [acc] * 6, [0.1] * 24 + [mono] * 6)
            if s > 1:
                write_central(task, f"central-s{s}", 0.98, 0.97)
        write_federated(task, "f32", [0.6] * 30, [0.5] * 30)  # an old single-seed run
        if conc:
            write_federated(task, "conc-default", [0.5] * 30, [0.2] * 30)
        out = os.path.join(d, "docs", "accuracy.md")
        os.makedirs(os.path.dirname(out))
        with open(os.path.join(d, "docs", "accuracy.head.md"), "w") as f:
            f.write("# Head\n")
        with open(os.path.join(d, "docs", "accuracy.tail.md"), "w") as f:
            f.write("## What the default does\n")
        return self.generate(d, "runs")

    @staticmethod
    def generate(d, runs):
        """Runs accuracy_doc.main() on d/<runs> into d/docs/accuracy.md; returns the page."""
        out = os.path.join(d, "docs", "accuracy.md")
        argv = sys.argv
        sys.argv = ["accuracy_doc.py", "--runs", os.path.join(d, runs), "--records",
                    os.path.join(d, "none"), "--out", out]
        try:
            accuracy_doc.main()
        finally:
            sys.argv = argv
        with open(out) as f:
            return f.read()

    def test_three_seeds(self):
        with tempfile.TemporaryDirectory() as d:
            text = self.make(d, [(0.90, 0.80), (0.92, 0.90), (0.94, 0.97)])
        self.assertIn("### Over seeds", text)
        # The page reads head, results, then the tail (the notes are elsewhere).
        self.assertTrue(text.startswith("# Head\n"))
        self.assertLess(text.index("### Over seeds"), text.index("## What the default does"))
        self.assertTrue(text.rstrip().endswith("## What the default does"))
        self.assertEqual(text.count("## What the default does"), 1)
        # default over seeds 1-3: 0.920 +- 0.020 (0.900-0.940); central over seeds 1-3: 0.973.
        self.assertIn("| default | 1,2,3 | 0.920 ± 0.020 (0.900-0.940) |", text)
        self.assertIn("| central | 1,2,3 | 0.973 ± 0.012 (0.960-0.980) |", text)
        self.assertIn("| conc-default | 1 | 0.500 |", text)
        # Monocyte: default mean 0.890 against central 0.963: -7.3 points, in bold.
        mono = next(l for l in text.split("\n") if l.startswith("| monocyte | 0.963"))
        self.assertIn("0.890 ± 0.085 (**-7.3**)", mono)
        self.assertIn("**Goal check over seeds (default, seeds 1,2,3, vs centralized, seeds "
                      "1,2,3)**: accuracy -5.3, macro-F1 -5.3 points", text)
        self.assertIn("worst class recall -7.3 (monocyte", text)
        self.assertIn("Goal check over seeds (conc-default", text)
        # The old table still shows seed 1 and the single-seed float run.
        self.assertIn("| float FedAvg (f32 both ways), same schedule | 30 |", text)

    def test_a_page_regenerated_without_runs_keeps_its_sections_and_one_tail(self):
        with tempfile.TemporaryDirectory() as d:
            first = self.make(d, [(0.90, 0.80)])
            again = self.generate(d, "nothing")
        self.assertEqual(again.count("## What the default does"), 1)
        self.assertEqual(again, first)

    def test_single_seed_runs_keep_the_old_page(self):
        with tempfile.TemporaryDirectory() as d:
            text = self.make(d, [(0.90, 0.80)], conc=False)
        self.assertNotIn("### Over seeds", text)
        self.assertIn("**Goal check (default vs centralized)**", text)
        self.assertIn("| float FedAvg (f32 both ways), same schedule | 30 |", text)


    def test_one_seed_of_the_concentrated_scenario_is_shown(self):
        with tempfile.TemporaryDirectory() as d:
            text = self.make(d, [(0.90, 0.80)])
        self.assertIn("| conc-default | 1 | 0.500 | 0.490 | -46.0 / -46.0 |", text)


if __name__ == "__main__":
    unittest.main()
