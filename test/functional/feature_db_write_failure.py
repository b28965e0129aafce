#!/usr/bin/env python3
"""A failing database write stops the node cleanly and loses nothing it acknowledged (issue 9).

The node runs under a file size limit (RLIMIT_FSIZE, as `ulimit -f`; p2pd ignores SIGXFSZ, so
a write beyond the limit fails with EFBIG like a write to a full disk). Publishing 40 KB
messages soon makes LevelDB's log file reach the limit:

- the publish whose write fails gets an RPC error, never an id;
- the node logs the failure ("Fatal: database write failed ... shutting down"), says so on
  stderr, and exits by itself with status 1;
- restarted without the limit, the database opens, every message a publish acknowledged is
  there, and getstoreinfo agrees with listmessages.
"""

import resource

from test_framework.authproxy import JSONRPCException
from test_framework.test_framework import P2PDTestFramework
from test_framework.util import assert_equal, wait_until

LIMIT = 3 * 1024 * 1024
BODY = "x" * 40000


def limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


class DbWriteFailureTest(P2PDTestFramework):
    def set_test_params(self):
        self.num_nodes = 1

    def setup_nodes(self):
        self.add_nodes(self.num_nodes, self.extra_args)

    def run_test(self):
        node = self.nodes[0]
        self.log("start under a %d-byte file size limit and publish until a write fails" % LIMIT)
        node.start(preexec_fn=limit_file_size)
        acked, failure = [], None
        for i in range(2 * LIMIT // len(BODY)):
            try:
                acked.append(node.rpc.publish("full", "%d %s" % (i, BODY)))
            except JSONRPCException as e:
                failure = e.error
                break
        assert failure is not None, "no write failed under the limit"
        assert_equal(failure["code"], -20)  # RPC_DATABASE_ERROR
        self.log("... publish %d failed (%s) after %d acknowledged" % (len(acked), failure,
                                                                        len(acked)))
        assert len(acked) > 10, acked

        self.log("the node stops by itself with status 1 and says why")
        wait_until(lambda: node.process.poll() is not None, timeout=30)
        assert_equal(node.process.returncode, 1)
        node.running = False
        node.rpc = None
        err = node.read_stderr()
        assert "database write failed" in err, err
        log = node.read_debug_log()
        assert "Fatal: database write failed" in log, log[-2000:]
        assert "Shutdown: done" in log, log[-2000:]

        self.log("restarted without the limit: every acknowledged message is there")
        node.start()
        for msgid in acked:
            assert node.has_message(msgid), "acknowledged message %s lost" % msgid
        info = node.rpc.getstoreinfo()
        listed = node.rpc.listmessages({"topic": "full", "limit": 1000})
        assert_equal(info["count"], len(listed))
        assert info["count"] >= len(acked), (info["count"], len(acked))
        # The node is healthy again: a publish works.
        assert node.has_message(node.rpc.publish("full", "after the restart"))


if __name__ == "__main__":
    DbWriteFailureTest().main()
