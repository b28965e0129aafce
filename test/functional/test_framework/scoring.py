"""The numbers of doc/scoring.md, read from the document itself, so that the scoring tests check
the node against the contract (and fail when the two drift apart).

    from test_framework.scoring import scoring_doc
    doc = scoring_doc()
    doc.threshold                 # 100 ("At **100 points** ...")
    doc.points["bad-checksum"]    # 10 (the misbehaviour table)
    doc.needed("bad-checksum")    # 10: how many of that offence reach the threshold
    doc.inv_burst, doc.inv_rate   # the `inv` token bucket (announced message ids)
    doc.addr_burst, doc.addr_rate # the addrv2 bucket
    doc.flood_items               # dropped items per `flood` offence (1,000)
"""

import math
import os
import re

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# P2PD_SCORING_MD: another copy of the document (e.g. an older revision, to bisect).
SCORING_MD = os.environ.get("P2PD_SCORING_MD", os.path.join(REPO_ROOT, "doc", "scoring.md"))


def _number(text):
    """The first number in text: "1,000/s" -> 1000.0, "0.1/s" -> 0.1, "4 MiB/s" -> 4 MiB."""
    m = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*(KiB|MiB|GiB)?", text)
    if not m:
        raise ValueError("no number in %r" % text)
    value = float(m.group(1).replace(",", ""))
    unit = {"KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}.get(m.group(2), 1)
    return value * unit


def _table_rows(lines, first_header):
    """The rows (lists of stripped cells) of the markdown table whose header row starts with
    the cell first_header."""
    rows = []
    in_table = False
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|"):
            if in_table:
                break
            continue
        if not in_table:
            if cells[0] == first_header:
                in_table = True
            continue
        if set(cells[0]) <= set("-: "):
            continue  # the |---| line
        rows.append(cells)
    if not rows:
        raise ValueError("doc/scoring.md: no table starting with %r" % first_header)
    return rows


class ScoringDoc:
    def __init__(self, path=SCORING_MD):
        with open(path, encoding="utf8") as f:
            text = f.read()
        lines = text.splitlines()
        m = re.search(r"At \*\*(\d+) points\*\*", text)
        if not m:
            raise ValueError("doc/scoring.md: no 'At **N points**' threshold")
        self.threshold = int(m.group(1))
        self.points = {}
        self.reaction = {}
        for cells in _table_rows(lines, "offence"):
            name = cells[0].strip("`")
            self.points[name] = int(_number(cells[1]))
            self.reaction[name] = cells[3] if len(cells) > 3 else ""
        limits = {}
        for cells in _table_rows(lines, "what"):
            limits[cells[0]] = (_number(cells[1]), _number(cells[2]))

        def limit(prefix):
            for k, v in limits.items():
                if k.startswith(prefix):
                    return v
            raise ValueError("doc/scoring.md: no rate limit row %r" % prefix)
        self.inv_rate, self.inv_burst = limit("announced message ids")
        self.getdata_rate, self.getdata_burst = limit("requested message ids")
        self.bytes_rate, self.bytes_burst = limit("message bytes")
        self.addr_rate, self.addr_burst = limit("addresses")
        m = re.search(r"Every ([\d,]+) dropped items cost one `flood` offence", text)
        if not m:
            raise ValueError("doc/scoring.md: no 'Every N dropped items cost one `flood`'")
        self.flood_items = int(_number(m.group(1)))

    def needed(self, offence):
        """How many of this offence take a clean peer to the threshold."""
        return math.ceil(self.threshold / self.points[offence])


_cached = None


def scoring_doc():
    global _cached
    if _cached is None:
        _cached = ScoringDoc()
    return _cached
