#!/usr/bin/env python3
"""Run the functional tests, in parallel.

    test/functional/test_runner.py [--builddir=DIR] [-j N] [--timeout=SECS] [TEST ...]

Without TEST arguments every script in BASE_SCRIPTS runs. Prints one line per
test and ends with "N passed, N failed"; exits 1 if any test failed.
A skipped test (exit 77) counts as passed and is marked "skipped".
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

TEST_EXIT_PASSED = 0
TEST_EXIT_SKIPPED = 77

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))

# Every test script, slowest first so a parallel run finishes sooner.
BASE_SCRIPTS = [
    "feature_addrman.py",
    "p2p_seednode.py",
    "p2p_reputation.py",
    "p2p_relay.py",
    "p2p_addr_relay.py",
    "feature_messages.py",
    "tool_testnet.py",
    "tool_propagation.py",
    "tool_attack.py",
    "p2p_invalid_messages.py",
    "p2p_misbehaviour.py",
    "p2p_compression.py",
    "feature_prune.py",
    "p2p_request.py",
    "p2p_sync.py",
    "p2p_sync_limits.py",
    "rpc_waitformessage.py",
    "p2p_invalid_msgs.py",
    "p2p_ping.py",
    "p2p_connect.py",
    "p2p_slow_reader.py",
    "rpc_net.py",
    "p2p_permissions.py",
    "rpc_setban.py",
    "p2p_handshake.py",
    "p2p_timeouts.py",
    "p2p_dns_seed.py",
    "p2p_anchors.py",
    "p2p_eviction.py",
    "p2p_maxconnections.py",
    "interface_cli.py",
    "feature_config.py",
    "rpc_misc.py",
    "rpc_auth.py",
    "rpc_bind.py",
    "rpc_limits.py",
    "feature_startstop.py",
    "feature_daemon.py",
    "feature_nodekey.py",
    "feature_datadir_lock.py",
    "feature_db.py",
    "feature_durability.py",
    "feature_crash_consistency.py",
    "feature_soak.py",
    "feature_db_write_failure.py",
    "framework_bip340.py",
    "framework_sigmsg.py",
    "framework_addrv2.py",
    "framework_recon.py",
]

# Scripts in this directory that are not tests.
NON_SCRIPTS = [
    "test_runner.py",
]


def check_script_list():
    """Fail if a test script in the directory is not listed (so none is forgotten)."""
    on_disk = {f for f in os.listdir(HERE) if f.endswith(".py")}
    unlisted = sorted(on_disk - set(BASE_SCRIPTS) - set(NON_SCRIPTS))
    missing = sorted(set(BASE_SCRIPTS) - on_disk)
    if unlisted:
        print("error: test scripts not listed in test_runner.py BASE_SCRIPTS: %s" %
              ", ".join(unlisted))
    if missing:
        print("error: BASE_SCRIPTS lists scripts that do not exist: %s" % ", ".join(missing))
    return not unlisted and not missing


def run_one(script, args, tmproot, timeout, extra):
    """Run one test script; return (script, status, duration, output)."""
    name = script[:-3]
    tmpdir = os.path.join(tmproot, name)  # unique per test: parallel runs never share a dir
    cmd = [sys.executable, os.path.join(HERE, script), "--builddir=" + args.builddir,
           "--tmpdir=" + tmpdir] + extra
    if args.nocleanup:
        cmd.append("--nocleanup")
    start = time.monotonic()
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    # Own process group: on timeout the test and every p2pd it started are killed together.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        output = out.decode(errors="replace")
        if proc.returncode == TEST_EXIT_PASSED:
            status = "passed"
        elif proc.returncode == TEST_EXIT_SKIPPED:
            status = "skipped"
        else:
            status = "failed"
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        output = out.decode(errors="replace") + "\n(timed out after %ds)\n" % timeout
        status = "failed"
    return script, status, time.monotonic() - start, output


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tests", nargs="*", help="tests to run (default: all); "
                        "a name with or without .py")
    parser.add_argument("--builddir", default=os.environ.get("BUILDDIR", REPO_ROOT),
                        help="build directory with src/p2pd (default: env BUILDDIR or repo root)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="tests run at once (default 2)")
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds before a single test is killed (default 120)")
    parser.add_argument("--timeout-factor", type=float, default=None,
                        help="passed to each test: multiply its timeouts (sanitizer builds)")
    parser.add_argument("--tmpdirprefix", default=tempfile.gettempdir(),
                        help="where the run's temporary directory is made")
    parser.add_argument("--nocleanup", action="store_true", help="keep test directories")
    args = parser.parse_args()
    args.builddir = os.path.abspath(args.builddir)

    if not check_script_list():
        print("0 passed, 1 failed")
        return 1

    if args.tests:
        scripts = []
        for t in args.tests:
            t = os.path.basename(t)
            if not t.endswith(".py"):
                t += ".py"
            if t not in BASE_SCRIPTS:
                print("error: unknown test %s" % t)
                print("0 passed, 1 failed")
                return 1
            scripts.append(t)
    else:
        scripts = list(BASE_SCRIPTS)

    extra = []
    timeout = args.timeout
    if args.timeout_factor:
        extra.append("--timeout-factor=%g" % args.timeout_factor)
        timeout = int(timeout * args.timeout_factor)

    os.makedirs(args.tmpdirprefix, exist_ok=True)
    tmproot = tempfile.mkdtemp(prefix="p2pd_test_runner_", dir=args.tmpdirprefix)
    print("Running %d tests with -j%d, builddir %s, tmpdir %s" %
          (len(scripts), args.jobs, args.builddir, tmproot), flush=True)

    passed = failed = 0
    failures = []
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_one, s, args, tmproot, timeout, extra) for s in scripts]
        for fut in as_completed(futures):
            script, status, duration, output = fut.result()
            print("%-32s %-8s %6.1fs" % (script, status, duration), flush=True)
            if status == "failed":
                failed += 1
                failures.append((script, output))
                print("---- output of %s ----\n%s---- end of %s ----" % (script, output, script),
                      flush=True)
            else:
                passed += 1

    if not failures and not args.nocleanup:
        try:
            os.rmdir(tmproot)
        except OSError:
            pass
    print("Total time %.1fs" % (time.monotonic() - start))
    if failures:
        print("Failed: %s" % ", ".join(s for s, _ in failures))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
