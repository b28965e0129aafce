#!/usr/bin/env python3
"""Benchmark graph and publisher plan, the same as run.mjs makes them.

The propagation benchmark of issue 8 runs one workload on p2pd and on
js-libp2p gossipsub. Both sides must use the same graph and the same
publisher for each message: run.mjs (gossipsub) and a p2pd driver either read
the files this writes, or call generate_graph() / make_plan() from here
(Python 3, standard library only). README.md beside this file describes the
algorithm and the file formats.

    graph.py --nodes 50 --degree 8 --seed 1 --write-graph g.txt \
             --count 1020 --write-plan p.txt
"""

import argparse
import math
import sys

MASK64 = (1 << 64) - 1
# Seed of the publisher stream: the graph seed XOR this constant.
PLAN_SEED_XOR = 0xD1B54A32D192ED03


class SplitMix64:
    """splitmix64; below(n) is next() mod n."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def generate_graph(n, k, seed):
    """Return the sorted edge list [(a, b), ...] with a < b."""
    rng = SplitMix64(seed)
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        perm[i], perm[j] = perm[j], perm[i]
    edges = set()
    deg = [0] * n

    def add(a, b):
        edges.add((min(a, b), max(a, b)))
        deg[a] += 1
        deg[b] += 1

    for i in range(1, n):
        add(perm[i], perm[rng.below(i)])
    target = min(math.ceil(n * k / 2), n * (n - 1) // 2)
    attempt = 0
    while len(edges) < target and attempt < 100 * n * k:
        attempt += 1
        a = rng.below(n)
        b = rng.below(n)
        if a == b or (min(a, b), max(a, b)) in edges or deg[a] >= k or deg[b] >= k:
            continue
        add(a, b)
    return sorted(edges)


def make_plan(n, count, seed):
    """Publisher (node index) of each message, in publishing order."""
    rng = SplitMix64((seed & MASK64) ^ PLAN_SEED_XOR)
    return [rng.below(n) for _ in range(count)]


def format_graph(n, k, seed, edges):
    lines = [f"# p2pd-bench graph n={n} k={k} seed={seed}", f"# nodes {n} edges {len(edges)}"]
    lines += [f"{a} {b}" for a, b in edges]
    return "\n".join(lines) + "\n"


def read_graph(path):
    """Read an edge-list file: return (n, sorted unique edges with a < b)."""
    edges = set()
    n = 0
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2:
                raise ValueError(f"bad edge line: {raw!r}")
            a, b = int(parts[0]), int(parts[1])
            if a < 0 or b < 0 or a == b:
                raise ValueError(f"bad edge line: {raw!r}")
            edges.add((min(a, b), max(a, b)))
            n = max(n, a + 1, b + 1)
    return n, sorted(edges)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nodes", type=int, default=10)
    p.add_argument("--degree", type=int, default=8)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--count", type=int, default=1020, help="plan length (warm-up + messages)")
    p.add_argument("--write-graph")
    p.add_argument("--write-plan")
    a = p.parse_args()
    edges = generate_graph(a.nodes, a.degree, a.seed)
    text = format_graph(a.nodes, a.degree, a.seed, edges)
    if a.write_graph:
        with open(a.write_graph, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    if a.write_plan:
        plan = make_plan(a.nodes, a.count, a.seed)
        with open(a.write_plan, "w", encoding="utf-8") as f:
            f.write("\n".join(map(str, plan)) + "\n")


if __name__ == "__main__":
    main()
