#!/usr/bin/env python3
"""Check the framework's catch-up sync reference (test_framework/recon.py) on its own.

- The vector file test/vectors/recon-vectors.json (which the C unit tests reproduce byte for
  byte) is what the reference gives today: limits, fingerprints, bounds, codec and invalid
  payloads, and every session small enough to run here in a second (the three large ones are
  checked by the C tests; contrib/devtools/gen-recon-vectors.py rewrites them all), and the
  example of doc/protocol.md is one of them.
- Random sets reconcile: have and need are exactly the two differences over the window, for
  random sizes, differences, windows and many equal times.
- Codec round trips of the messages sessions produce; invalid payloads are refused.
- A responder that never lets a session converge: it is abandoned at MAX_ROUNDS.
No node is started.
"""

import json
import os
import random
import re

from test_framework import recon as R
from test_framework.test_framework import REPO_ROOT, P2PDTestFramework
from test_framework.util import assert_equal

# Random reconciliations.
RANDOM_SESSIONS = 60


def item(rng, t0, span):
    return (t0 + rng.randrange(span), rng.randbytes(32))


def window_ids(s, since, until):
    return {i for ts, i in s.items if since <= ts < until}


class FrameworkReconTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 0

    def needs_binaries(self):
        return False

    def run_test(self):
        self.test_vectors()
        self.test_fingerprint()
        self.test_random_sessions()
        self.test_codec()
        self.test_rounds_limit()

    def test_vectors(self):
        path = os.path.join(REPO_ROOT, "test", "vectors", "recon-vectors.json")
        self.log("the reference still gives %s" % path)
        with open(path, encoding="utf8") as f:
            stored = json.load(f)
        fresh = json.loads(json.dumps(R.build_vectors(large=False)))
        for key in ("limits", "fingerprints", "bounds", "codec", "invalid"):
            assert_equal(fresh[key], stored[key])
        by_name = {s["name"]: s for s in stored["sessions"]}
        assert_equal(len(by_name), len(R.SESSION_CASES))
        for s in fresh["sessions"]:
            assert_equal(s, by_name[s["name"]])
        assert len(fresh["sessions"]) >= 12, len(fresh["sessions"])

        self.log("the example of doc/protocol.md is the vector session 'identical'")
        with open(os.path.join(REPO_ROOT, "doc", "protocol.md"), encoding="utf8") as f:
            shown = [m.group(1).replace(" ", "") for m in
                     re.finditer(r"^syncres?[pq] +([0-9a-f ]+)$", f.read(), flags=re.M)]
        assert_equal(shown, by_name["identical"]["messages"])

    def test_fingerprint(self):
        self.log("fingerprint arithmetic: carries and wrap-around mod 2^256")
        ones = b"\xff" * 32
        one = b"\x01" + bytes(31)
        assert_equal(R.fingerprint([ones, one]), R.fingerprint_of_sum(0, 2))
        assert_equal(R.fingerprint([one, ones]), R.fingerprint([ones, one]))
        assert R.fingerprint([ones, one]) != R.fingerprint([])
        low = b"\xff" * 8 + bytes(24)
        assert_equal(R.fingerprint([low, one]), R.fingerprint_of_sum(1 << 64, 2))
        # The count is part of it: {x} and {x, 0} differ.
        assert R.fingerprint([one]) != R.fingerprint([one, bytes(32)])

    def test_random_sessions(self):
        self.log("%d random sessions: have and need are the two differences" % RANDOM_SESSIONS)
        rng = random.Random(20261122)
        for k in range(RANDOM_SESSIONS):
            t0 = 1700000000
            span = rng.choice([3, 100, 1209600])
            common = [item(rng, t0, span) for _ in range(rng.choice([0, 5, 300, 3000]))]
            a = R.ItemSet(common + [item(rng, t0, span) for _ in range(rng.choice([0, 1, 40]))])
            b = R.ItemSet(common + [item(rng, t0, span) for _ in range(rng.choice([0, 1, 40]))])
            since = t0 + rng.choice([0, 0, span // 3])
            until = since + rng.choice([span, span // 2 + 1, 1 << 40])
            log = []
            init = R.reconcile(a, b, since, until, log)
            wa, wb = window_ids(a, since, until), window_ids(b, since, until)
            assert_equal(sorted(init.have), sorted(wa - wb))
            assert_equal(sorted(init.need), sorted(wb - wa))
            assert init.rounds <= 8, (k, init.rounds)
            for i, payload in enumerate(log):
                assert len(payload) <= R.MAX_PAYLOAD
                if i % 2 == 0:
                    s, u, ranges = R.decode_syncreq(payload)
                    assert_equal(R.encode_syncreq(s, u, ranges), payload)
                else:
                    assert_equal(R.encode_syncresp(R.decode_syncresp(payload)), payload)
            if wa == wb:
                assert_equal(init.rounds, 1)

    def test_codec(self):
        self.log("bounds: the shortest separating prefix")
        a = (7, bytes.fromhex("aa" * 32))
        assert_equal(R.bound_between(a, (8, bytes(32))), (8, b""))
        assert_equal(R.bound_between(a, (7, bytes.fromhex("ab" + "00" * 31))), (7, b"\xab"))
        nxt = (7, bytes.fromhex("aa" * 31 + "ab"))
        assert_equal(R.bound_between(a, nxt), (7, nxt[1]))
        self.log("invalid payloads are refused")
        for v in R._invalid_vectors():
            decode = R.decode_syncreq if v["kind"] == "syncreq" else R.decode_syncresp
            try:
                decode(bytes.fromhex(v["hex"]))
            except R.ReconError:
                continue
            raise AssertionError("decoded: %s" % v["why"])
        too_big = R.encode_syncresp([R.Range(R.END, R.SKIP)]) + bytes(R.MAX_PAYLOAD)
        try:
            R.decode_syncresp(too_big)
            raise AssertionError("decoded a payload above MAX_PAYLOAD")
        except R.ReconError:
            pass

    def test_rounds_limit(self):
        self.log("a responder that answers every range with a new fingerprint: abandoned")
        rng = random.Random(5)
        s = R.ItemSet([item(rng, 1000, 1000) for _ in range(500)])

        def stubborn(payload):
            _, _, ranges = R.decode_syncreq(payload)
            for r in ranges:
                r.mode, r.fp, r.ids = R.FINGERPRINT, rng.randbytes(16), []
            return R.encode_syncresp(ranges)

        init = R.Initiator(s, 1000, 2000)
        req = init.initiate()
        try:
            while req is not None:
                req = init.step(stubborn(req))
            raise AssertionError("the session converged")
        except R.ReconError as e:
            assert "rounds" in str(e), e
        assert_equal(init.rounds, R.MAX_ROUNDS)


if __name__ == "__main__":
    FrameworkReconTest().main()
