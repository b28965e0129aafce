#!/usr/bin/env python3
"""Write test/vectors/recon-vectors.json: catch-up sync vectors from the Python reference
(test/functional/test_framework/recon.py). Deterministic: the same reference gives the same
file. The C unit tests (test/unit/test_wire_recon.c, test_reconset.c, test_recon.c) must
reproduce every vector byte for byte; test/functional/framework_recon.py checks that the
reference still gives the small ones.

Usage: contrib/devtools/gen-recon-vectors.py [output]   (default: the file in the tree)
"""

import json
import os
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "test", "functional"))

from test_framework import recon  # noqa: E402


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "test", "vectors",
                                                             "recon-vectors.json")
    vectors = recon.build_vectors(large=True)
    with open(out, "w", encoding="utf8") as f:
        json.dump(vectors, f, indent=1)
        f.write("\n")
    print("wrote %s: %d sessions" % (out, len(vectors["sessions"])))


if __name__ == "__main__":
    main()
