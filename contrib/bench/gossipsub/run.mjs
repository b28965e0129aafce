#!/usr/bin/env node
// Propagation benchmark driver for the js-libp2p gossipsub side of issue 8.
//
// Builds (or reads) a connected random graph, starts one node.mjs process per
// node, dials the graph's edges, waits until every node has a gossipsub mesh
// for the topic, publishes messages from random publishers at a fixed rate,
// waits until each has reached every node (or a timeout), and writes one
// JSON result file. With --max-rate it searches the highest rate at which
// every message still reaches every node. README.md gives the algorithms,
// the edge-list format and the result schema.

import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync, writeFileSync, mkdirSync, createWriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createHash } from 'node:crypto';
import os from 'node:os';

const HERE = dirname(fileURLToPath(import.meta.url));
const SCHEMA = 'p2pd-bench-propagation/1';
const TOPIC = 'bench';
/** gossipsub's D_lo: below it a node grafts more mesh peers at its heartbeat. */
const GOSSIPSUB_DLO = 4;
const POLL_MS = 250;
/** Extra node(1) options for every node process, e.g. "--cpu-prof". BENCH_LOGDIR: keep each node's stderr there. */
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);

const USAGE = `usage: node run.mjs [options]
  --nodes N            number of nodes (default 10)
  --degree K           target degree of the random graph (default 8)
  --seed S             seed of the graph and of the publisher choice (default 1)
  --graph FILE         read the edge list from FILE instead of generating it
  --write-graph FILE   write the edge list used to FILE
  --write-plan FILE    write the publisher of each message, one per line
  --plan FILE          read the publishers from FILE (one node index per line)
  --plan-only          write graph/plan and exit without starting nodes
  --messages M         measured messages (default 1000)
  --size B             body bytes (default 1024; at least 16)
  --rate R             publish rate, messages/s (default 20)
  --warmup W           unmeasured messages before the run (default 20)
  --drain-timeout S    seconds after the last publish to wait for delivery (default 60)
  --tail S             seconds of traffic still counted after delivery (default 5)
  --mesh-timeout S     seconds to wait for the mesh (default 120 + 2N)
  --max-rate           search the highest sustained rate instead of one run
  --trial-seconds S    length of one max-rate trial (default 10)
  --max-latency-ms L   max-rate pass criterion: p99 time-to-all (default 2000)
  --bisect N           bisection steps after the doubling phase (default 4)
  --no-ss-check        skip the kernel (ss) byte counter check
  --out FILE           result JSON (default results/gossipsub-n{N}-k{K}-s{B}.json)
  --quiet              less progress output on stderr`;

// ---------------------------------------------------------------------------
// Deterministic randomness: splitmix64 (state and output mod 2^64).

function splitmix64 (seed) {
  let state = BigInt.asUintN(64, BigInt(seed));
  return {
    next () {
      state = BigInt.asUintN(64, state + 0x9E3779B97F4A7C15n);
      let z = state;
      z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n);
      z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94D049BB133111EBn);
      return z ^ (z >> 31n);
    },
    /** Uniform-ish integer in [0, n): next() mod n. */
    below (n) {
      return Number(this.next() % BigInt(n));
    }
  };
}

/** Seed of the publisher stream: the graph seed XOR a fixed constant. */
const PLAN_SEED_XOR = 0xD1B54A32D192ED03n;

// ---------------------------------------------------------------------------
// Graph: random spanning tree, then random extra edges up to N*K/2 edges.

function generateGraph (n, k, seed) {
  const rng = splitmix64(seed);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i >= 1; i--) {
    const j = rng.below(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const edges = new Set();
  const deg = new Array(n).fill(0);
  const key = (a, b) => (a < b ? `${a} ${b}` : `${b} ${a}`);
  const add = (a, b) => { edges.add(key(a, b)); deg[a]++; deg[b]++; };
  for (let i = 1; i < n; i++) add(perm[i], perm[rng.below(i)]);
  const target = Math.min(Math.ceil(n * k / 2), n * (n - 1) / 2);
  const maxAttempts = 100 * n * k;
  for (let attempt = 0; edges.size < target && attempt < maxAttempts; attempt++) {
    const a = rng.below(n);
    const b = rng.below(n);
    if (a === b || edges.has(key(a, b)) || deg[a] >= k || deg[b] >= k) continue;
    add(a, b);
  }
  return normaliseEdges([...edges].map(s => s.split(' ').map(Number)));
}

function normaliseEdges (edges) {
  return edges
    .map(([a, b]) => (a < b ? [a, b] : [b, a]))
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

function formatGraph (n, edges, comment) {
  const lines = [`# ${comment}`, `# nodes ${n} edges ${edges.length}`];
  for (const [a, b] of edges) lines.push(`${a} ${b}`);
  return lines.join('\n') + '\n';
}

function parseGraph (text) {
  const edges = [];
  let n = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const parts = line.split(/\s+/);
    const a = Number(parts[0]);
    const b = Number(parts[1]);
    if (parts.length !== 2 || !Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a === b) {
      throw new Error(`bad edge line: ${raw}`);
    }
    edges.push([a, b]);
    n = Math.max(n, a + 1, b + 1);
  }
  const seen = new Set();
  const out = normaliseEdges(edges).filter(([a, b]) => {
    const k = `${a} ${b}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { n, edges: out };
}

function graphInfo (n, edges) {
  const adj = Array.from({ length: n }, () => []);
  for (const [a, b] of edges) { adj[a].push(b); adj[b].push(a); }
  const deg = adj.map(l => l.length);
  // BFS from every node: connectivity and diameter (N <= a few hundred).
  let diameter = 0;
  let connected = true;
  for (let s = 0; s < n; s++) {
    const dist = new Array(n).fill(-1);
    dist[s] = 0;
    const q = [s];
    for (let h = 0; h < q.length; h++) {
      for (const v of adj[q[h]]) if (dist[v] < 0) { dist[v] = dist[q[h]] + 1; q.push(v); }
    }
    if (q.length < n) connected = false;
    diameter = Math.max(diameter, ...dist);
  }
  return {
    nodes: n,
    edges: edges.length,
    degree_min: Math.min(...deg),
    degree_mean: round(deg.reduce((x, y) => x + y, 0) / n, 3),
    degree_max: Math.max(...deg),
    connected,
    diameter: connected ? diameter : null,
    adj
  };
}

function makePlan (n, count, seed) {
  const rng = splitmix64(BigInt.asUintN(64, BigInt(seed) ^ PLAN_SEED_XOR));
  return Array.from({ length: count }, () => rng.below(n));
}

// ---------------------------------------------------------------------------
// Statistics.

function round (x, d = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** Nearest-rank percentile of a sorted array: element ceil(p/100*n)-1. */
function pct (sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p / 100 * sorted.length) - 1)];
}

function dist (valuesUs) {
  const s = [...valuesUs].sort((a, b) => a - b);
  const ms = v => (v === null ? null : round(v / 1000, 3));
  return {
    count: s.length,
    p50: ms(pct(s, 50)),
    p90: ms(pct(s, 90)),
    p99: ms(pct(s, 99)),
    max: ms(s.length ? s[s.length - 1] : null),
    mean: ms(s.length ? s.reduce((a, b) => a + b, 0) / s.length : null)
  };
}

// ---------------------------------------------------------------------------
// Node processes.

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
let quiet = false;
const log = (...a) => { if (!quiet) console.error(`[${new Date().toISOString().slice(11, 23)}]`, ...a); };

class NodeProc {
  constructor (index) {
    this.index = index;
    this.seq = 0;
    this.pending = new Map();
    this.exited = false;
    this.proc = spawn(process.execPath, [...NODE_ARGS, join(HERE, 'node.mjs'), '--index', String(index), '--topic', TOPIC], {
      stdio: ['pipe', 'pipe', 'pipe']
    });
    this.stderr = '';
    if (process.env.BENCH_LOGDIR) {
      this.proc.stderr.pipe(createWriteStream(join(process.env.BENCH_LOGDIR, `node${index}.log`)));
    }
    this.proc.stderr.on('data', d => {
      // keep the last few KiB for error reports
      this.stderr = (this.stderr + d.toString()).slice(-4096);
    });
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.proc.once('exit', (code, sig) => {
        this.exited = true;
        reject(new Error(`node ${index} exited (${code ?? sig}): ${this.stderr}`));
        for (const p of this.pending.values()) p.reject(new Error(`node ${index} exited`));
        this.pending.clear();
      });
    });
    this.ready.catch(() => {});
    createInterface({ input: this.proc.stdout }).on('line', line => this.onLine(line));
  }

  onLine (line) {
    let m;
    try { m = JSON.parse(line); } catch { return; }
    if (m.ev === 'ready') {
      this.pid = m.pid;
      this.peerId = m.peer_id;
      this.addrs = m.addrs;
      this.readyResolve(m);
      return;
    }
    if (m.seq !== undefined && this.pending.has(m.seq)) {
      const p = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      p.resolve(m);
    }
  }

  request (cmd) {
    if (this.exited) return Promise.reject(new Error(`node ${this.index} has exited`));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.proc.stdin.write(JSON.stringify({ ...cmd, seq }) + '\n');
    });
  }

  async stop () {
    if (this.exited) return;
    const exited = new Promise(resolve => this.proc.once('exit', resolve));
    this.request({ cmd: 'quit' }).catch(() => {});
    const t = setTimeout(() => { if (!this.exited) this.proc.kill('SIGKILL'); }, 5000);
    await exited;
    clearTimeout(t);
  }
}

const allStats = nodes => Promise.all(nodes.map(n => n.request({ cmd: 'stats' })));

async function waitFor (what, timeoutS, check) {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const r = await check();
    if (r.done) return r;
    if (Date.now() > deadline) {
      throw new Error(`timeout after ${timeoutS} s waiting for ${what}: ${r.status ?? ''}`);
    }
    await sleep(POLL_MS);
  }
}

function meshStatus (stats, graph) {
  let bad = 0;
  let meshSum = 0;
  for (const [i, s] of stats.entries()) {
    const d = graph.adj[i].length;
    meshSum += s.mesh_peers;
    if (s.peers < d || s.topic_peers < d || s.mesh_peers < Math.min(GOSSIPSUB_DLO, d)) bad++;
  }
  return { done: bad === 0, status: `${bad} node(s) not ready, mean mesh ${round(meshSum / stats.length, 2)}` };
}

/** Nodes dialing at the same time while the graph is built. */
const DIAL_CONCURRENCY = 4;

/**
 * Dial the edges that are not connected yet (for a < b, node b dials node
 * a), DIAL_CONCURRENCY nodes at a time: all at once, a loaded 2-core machine
 * misses libp2p's 10 s dial timeout. Returns the failure messages.
 */
async function dialEdges (nodes, graph) {
  const peers = await Promise.all(nodes.map(x => x.request({ cmd: 'peers' }).then(r => new Set(r.peers))));
  const todo = [];
  nodes.forEach((x, i) => {
    const addrs = graph.adj[i]
      .filter(j => j < i && !peers[i].has(nodes[j].peerId) && !peers[j].has(x.peerId))
      .map(j => nodes[j].addrs[0]);
    if (addrs.length) todo.push([x, addrs]);
  });
  const failed = [];
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const [x, addrs] = todo[next++];
      const r = await x.request({ cmd: 'dial', addrs });
      failed.push(...r.failed);
    }
  };
  await Promise.all(Array.from({ length: DIAL_CONCURRENCY }, worker));
  return { dialed: todo.reduce((k, [, a]) => k + a.length, 0), failed };
}

/**
 * Wait until every node is connected to all its graph neighbours and has a
 * mesh (mesh peers >= min(D_lo, degree)); re-dial missing edges every
 * REDIAL_S seconds meanwhile.
 */
async function waitMesh (nodes, graph, timeoutS) {
  let lastDial = performance.now();
  let redials = 0;
  const start = performance.now();
  let lastRepair = start;
  let st = [];
  try {
    await waitFor('mesh', timeoutS, async () => {
      st = await allStats(nodes);
      const r = meshStatus(st, graph);
      if (r.done) return r;
      const now = performance.now();
      const missing = st.some((x, i) => x.peers < graph.adj[i].length);
      if (missing && now - lastDial > REDIAL_S * 1000) {
        const d = await dialEdges(nodes, graph);
        redials += d.dialed;
        log(`re-dialed ${d.dialed} edge(s), ${d.failed.length} failed`);
        lastDial = performance.now();
      } else if (!missing && now - lastRepair > REPAIR_S * 1000) {
        // Connected but not subscribed: gossipsub's stream on that connection
        // failed (it is opened once, when the connection is made). Close the
        // connection; the next round dials it again.
        lastRepair = now;
        redials += await hangupUnsubscribed(nodes, st);
      }
      return r;
    });
  } catch (err) {
    const bad = st.map((x, i) => ({ i, deg: graph.adj[i].length, peers: x.peers, topic_peers: x.topic_peers, mesh_peers: x.mesh_peers }))
      .filter(x => x.peers < x.deg || x.topic_peers < x.deg || x.mesh_peers < Math.min(GOSSIPSUB_DLO, x.deg));
    log(`nodes not ready: ${JSON.stringify(bad.slice(0, 10))}`);
    throw err;
  }
  return redials;
}

/** Close connections whose peer has not subscribed; returns how many. */
async function hangupUnsubscribed (nodes, st) {
  let n = 0;
  for (const [i, x] of st.entries()) {
    if (x.topic_peers >= x.peers) continue;
    const p = await nodes[i].request({ cmd: 'peers' });
    const subs = new Set(p.topic_peers);
    for (const peer of p.peers) {
      if (subs.has(peer)) continue;
      log(`node ${i}: peer ${peer.slice(-6)} connected but not subscribed: closing`);
      await nodes[i].request({ cmd: 'hangup', peer });
      n++;
    }
  }
  return n;
}
const REPAIR_S = 20;

/** --max-rate bounds (msgs/s): doubling stops above the cap, halving below the floor. */
const MAX_RATE_CAP = 100000;
const MIN_RATE = 0.05;
/** Two significant digits: 0.75, 1.5, 42, 350. */
const roundRate = x => Number(x.toPrecision(2));
const REDIAL_S = 5;

const minMeanMax = v => ({ min: Math.min(...v), mean: round(v.reduce((a, b) => a + b, 0) / v.length, 2), max: Math.max(...v) });

// ---------------------------------------------------------------------------
// One measured run: publish, wait for delivery, collect.

/** Snapshot sums of the per-node counters. */
function sums (stats) {
  const s = { read: 0, written: 0, bodies: 0, first: 0, dup: 0, invalid: 0, cpu_us: 0 };
  for (const x of stats) {
    s.read += x.wire.read;
    s.written += x.wire.written;
    s.bodies += x.counts.bodies_received;
    s.first += x.counts.first_deliveries;
    s.dup += x.counts.duplicates;
    s.invalid += x.counts.invalid;
    s.cpu_us += x.cpu_us;
  }
  return s;
}

const delta = (a, b) => Object.fromEntries(Object.keys(a).map(k => [k, b[k] - a[k]]));

async function measure (nodes, plan, o) {
  const n = nodes.length;
  const { firstId, count, size, rate, drainTimeout, tail, keepMessages } = o;
  await Promise.all(nodes.map(x => x.request({ cmd: 'dump', clear: true })));
  const before = await allStats(nodes);
  const s0 = sums(before);

  // Publish on an absolute schedule: message i at t0 + i/rate.
  const replies = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const due = t0 + i * 1000 / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const id = firstId + i;
    const pub = plan[i % plan.length];
    replies.push(nodes[pub].request({ cmd: 'publish', id, size }).then(r => ({ ...r, publisher: pub })));
  }
  const pubs = await Promise.all(replies);
  const publishS = (performance.now() - t0) / 1000;
  const lastPubUs = Math.max(...pubs.map(p => p.t_us));
  const expected = pubs.filter(p => !p.error).length * (n - 1);

  // Wait until every node has every message, or the drain timeout.
  let afterDelivery;
  let timedOut = false;
  try {
    afterDelivery = (await waitFor('delivery', drainTimeout, async () => {
      const st = await allStats(nodes);
      const got = sums(st).first - s0.first;
      return { done: got >= expected, status: `${got}/${expected} deliveries`, st };
    })).st;
  } catch (err) {
    log(err.message);
    timedOut = true;
    afterDelivery = await allStats(nodes);
  }
  const deliveredS = (Number(afterDelivery[0].t_us) - lastPubUs) / 1e6;
  // Traffic the messages still cause after delivery (gossip IHAVE/IWANT for
  // mcache_gossip heartbeats, late duplicates) counts too: a fixed tail.
  if (tail > 0) await sleep(tail * 1000);
  const after = await allStats(nodes);
  const dumps = await Promise.all(nodes.map(x => x.request({ cmd: 'dump', clear: true })));

  // Per message: who got it and when.
  const byId = new Map();
  pubs.forEach((p, i) => {
    byId.set(firstId + i, { id: firstId + i, publisher: p.publisher, pub_us: p.t_us, error: p.error ?? null, lat: [] });
  });
  const allLat = [];
  dumps.forEach((d, node) => {
    for (const [id, t] of d.deliveries) {
      const m = byId.get(id);
      if (!m || node === m.publisher) continue;
      m.lat.push(t - m.pub_us);
      allLat.push(t - m.pub_us);
    }
  });
  const tta = [];
  const rows = [];
  let toAll = 0;
  for (const m of byId.values()) {
    const full = m.lat.length >= n - 1;
    const sorted = m.lat.sort((a, b) => a - b);
    const t = full ? sorted[sorted.length - 1] : null;
    if (full) { toAll++; tta.push(t); }
    rows.push([m.id, m.publisher, m.pub_us, m.lat.length, t, pct(sorted, 50)]);
  }
  const dW = delta(s0, sums(afterDelivery));
  const dT = delta(s0, sums(after));
  const deliveries = allLat.length;
  const rss = after.map(x => x.rss_bytes);
  const result = {
    messages: count,
    body_bytes: size,
    rate_target: rate,
    publish_seconds: round(publishS, 3),
    rate_achieved: count > 1 ? round((count - 1) / Math.max(publishS, 1e-9), 2) : null,
    publish_errors: pubs.filter(p => p.error).length,
    expected_deliveries: count * (n - 1),
    deliveries,
    delivered_fraction: round(deliveries / (count * (n - 1)), 6),
    messages_to_all: toAll,
    timed_out: timedOut,
    drain_seconds_after_last_publish: round(deliveredS, 3),
    time_to_all_ms: dist(tta),
    delivery_latency_ms: dist(allLat),
    wire: {
      method: 'node socket counters (net.Socket bytesRead/bytesWritten of every TCP socket), summed over nodes',
      bytes_received: dT.read,
      bytes_sent: dT.written,
      bytes_per_delivery: round(dT.read / Math.max(deliveries, 1), 1),
      overhead_factor: round(dT.read / Math.max(deliveries, 1) / size, 3),
      tail_seconds: tail,
      window_bytes_received: dW.read,
      window_bytes_per_delivery: round(dW.read / Math.max(deliveries, 1), 1)
    },
    duplicates: {
      method: 'topic messages that gossipsub validateReceivedMessage() classed as duplicate, summed over nodes',
      bodies_received: dT.bodies,
      first_deliveries: dT.first,
      total: dT.dup,
      per_delivery: round(dT.dup / Math.max(deliveries, 1), 3),
      invalid: dT.invalid
    },
    cpu: {
      node_cpu_seconds: round(dT.cpu_us / 1e6, 3),
      node_cpu_us_per_delivery: round(dT.cpu_us / Math.max(deliveries, 1), 1)
    },
    rss_bytes: { mean: Math.round(rss.reduce((a, b) => a + b, 0) / n), max: Math.max(...rss) },
    end_state: {
      connections: minMeanMax(after.map(x => x.connections)),
      mesh_peers: minMeanMax(after.map(x => x.mesh_peers))
    }
  };
  if (keepMessages) {
    result.per_message = {
      columns: ['id', 'publisher', 'publish_us', 'receivers', 'time_to_all_us', 'median_latency_us'],
      rows
    };
  }
  return result;
}

// ---------------------------------------------------------------------------
// Kernel cross-check: ss's per-socket counters for each node's pid.

function ssSnapshot () {
  try {
    return execFileSync('ss', ['-tinpH', 'state', 'established'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (err) {
    return null;
  }
}

function ssCheck (nodes, out, statsBefore, stats) {
  if (out === null) return { ok: false, error: 'ss failed' };
  const byPid = new Map(nodes.map((x, i) => [x.pid, {
    acked: 0, sendq: 0, received: 0, recvq: 0, sockets: 0, i, port: x.addrs[0].match(/\/tcp\/(\d+)/)[1]
  }]));
  // Each socket: a header line with users:((...pid=P...)) and an info line.
  const lines = out.split('\n');
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li];
    const m = line.match(/pid=(\d+)/);
    if (!m || !byPid.has(Number(m[1]))) continue;
    const e = byPid.get(Number(m[1]));
    const head = line.trim().split(/\s+/);
    const info = (line + ' ' + (lines[li + 1] ?? ''));
    const num = re => { const x = info.match(re); return x ? Number(x[1]) : 0; };
    e.recvq += Number(head[0]) || 0;
    e.sendq += Number(head[1]) || 0;
    // bytes_acked counts the SYN of the side that opened the connection: a
    // socket whose local port is not the node's listening port.
    const local = head[2] ?? '';
    const active = !local.endsWith(`:${e.port}`);
    e.acked += num(/bytes_acked:(\d+)/) - (active ? 1 : 0);
    e.received += num(/bytes_received:(\d+)/);
    e.sockets++;
  }
  let kRead = 0; let kWritten = 0; let nRead = 0; let nWritten = 0; let closed = 0;
  let nRead0 = 0; let nWritten0 = 0;
  let sockets = 0; let nSockets = 0;
  let maxRel = 0;
  let between = 0;
  for (const e of byPid.values()) {
    const st = stats[e.i];
    const st0 = statsBefore[e.i];
    const kr = e.received - e.recvq;
    const kw = e.acked + e.sendq;
    kRead += kr; kWritten += kw;
    nRead += st.wire.open_read; nWritten += st.wire.open_written;
    nRead0 += st0.wire.open_read; nWritten0 += st0.wire.open_written;
    closed += st.wire.closed_sockets;
    sockets += e.sockets; nSockets += st.wire.open_sockets;
    if (kr >= st0.wire.open_read && kr <= st.wire.open_read &&
      kw >= st0.wire.open_written && kw <= st.wire.open_written) between++;
    maxRel = Math.max(maxRel, Math.abs(kr - st.wire.open_read) / Math.max(1, st.wire.open_read),
      Math.abs(kw - st.wire.open_written) / Math.max(1, st.wire.open_written));
  }
  return {
    ok: between === nodes.length,
    nodes_consistent: between,
    note: 'kernel = ss bytes_received - Recv-Q and bytes_acked (less 1 for the SYN on connecting sockets) + Send-Q over each node pid\'s established TCP sockets; node = bytesRead/bytesWritten of the sockets it still has open (lifetime of each socket), read just before and just after ss; ok when the kernel figure lies between the two for every node',
    kernel_sockets: sockets,
    node_open_sockets: nSockets,
    kernel_bytes_received: kRead,
    node_bytes_received_before: nRead0,
    node_bytes_received: nRead,
    kernel_bytes_sent: kWritten,
    node_bytes_sent_before: nWritten0,
    node_bytes_sent: nWritten,
    closed_sockets: closed,
    max_relative_difference_per_node: round(maxRel, 6)
  };
}

// ---------------------------------------------------------------------------
// Environment.

function versions () {
  const v = {};
  for (const p of ['libp2p', '@libp2p/gossipsub', '@libp2p/tcp', '@chainsafe/libp2p-noise',
    '@chainsafe/libp2p-yamux', '@libp2p/identify', '@libp2p/ping']) {
    try { v[p] = JSON.parse(readFileSync(join(HERE, 'node_modules', p, 'package.json'), 'utf8')).version; } catch { v[p] = null; }
  }
  return v;
}

function environment () {
  let osName = os.type();
  try { osName = readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="([^"]*)"/)[1]; } catch {}
  let debian = null;
  try { debian = readFileSync('/etc/debian_version', 'utf8').trim(); } catch {}
  return {
    implementation: 'js-libp2p gossipsub',
    versions: { node: process.version, ...versions() },
    stack: 'TCP 127.0.0.1, noise (XX, ChaCha20-Poly1305), yamux, identify, ping (libp2p connection monitor: every 10 s, abortConnectionOnPingFailure=false); gossipsub defaults (StrictSign, floodPublish, D=6/Dlo=4/Dhi=12, heartbeat 1 s) with IPColocationFactorWeight=0 and inboundConnectionThreshold raised',
    os: osName,
    debian_version: debian,
    kernel: os.release(),
    cpu: os.cpus()[0]?.model ?? null,
    cores: os.cpus().length,
    mem_bytes: os.totalmem(),
    loadavg_start: os.loadavg().map(x => round(x, 2))
  };
}

// ---------------------------------------------------------------------------
// Main.

async function main () {
  const { values: a } = parseArgs({
    options: {
      nodes: { type: 'string', default: '10' },
      degree: { type: 'string', default: '8' },
      seed: { type: 'string', default: '1' },
      graph: { type: 'string' },
      'write-graph': { type: 'string' },
      'write-plan': { type: 'string' },
      plan: { type: 'string' },
      'plan-only': { type: 'boolean', default: false },
      messages: { type: 'string', default: '1000' },
      size: { type: 'string', default: '1024' },
      rate: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '20' },
      'drain-timeout': { type: 'string', default: '60' },
      tail: { type: 'string', default: '5' },
      'mesh-timeout': { type: 'string' },
      'max-rate': { type: 'boolean', default: false },
      'trial-seconds': { type: 'string', default: '10' },
      'max-latency-ms': { type: 'string', default: '2000' },
      bisect: { type: 'string', default: '4' },
      'no-ss-check': { type: 'boolean', default: false },
      out: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    }
  });
  if (a.help) { console.log(USAGE); return 0; }
  quiet = a.quiet;
  const seed = BigInt(a.seed);
  const degree = Number(a.degree);
  const messages = Number(a.messages);
  const size = Number(a.size);
  const rate = Number(a.rate);
  const warmup = Number(a.warmup);
  const tail = Number(a.tail);
  if (size < 16) throw new Error('--size must be at least 16 (the body header)');

  let n; let edges; let graphSource;
  if (a.graph) {
    const text = readFileSync(a.graph, 'utf8');
    ({ n, edges } = parseGraph(text));
    graphSource = { file: a.graph, sha256: createHash('sha256').update(text).digest('hex') };
  } else {
    n = Number(a.nodes);
    edges = generateGraph(n, degree, seed);
    graphSource = { generated: 'splitmix64 spanning tree + extra edges (README.md)', seed: String(seed), degree };
  }
  const graph = graphInfo(n, edges);
  if (!graph.connected) throw new Error('graph is not connected');
  const graphText = formatGraph(n, edges, `p2pd-bench graph n=${n} k=${degree} seed=${seed}`);
  if (a['write-graph']) writeFileSync(a['write-graph'], graphText);

  const planLen = a['max-rate'] ? 1 << 16 : warmup + messages;
  let plan;
  if (a.plan) {
    plan = readFileSync(a.plan, 'utf8').split('\n').map(s => s.trim()).filter(s => s !== '').map(Number);
    if (plan.some(p => !Number.isInteger(p) || p < 0 || p >= n)) throw new Error('bad publisher in plan');
  } else {
    plan = makePlan(n, planLen, seed);
  }
  if (a['write-plan']) writeFileSync(a['write-plan'], plan.join('\n') + '\n');
  if (a['plan-only']) return 0;

  const out = a.out ?? join(HERE, 'results', `gossipsub-n${n}-k${degree}-s${size}${a['max-rate'] ? '-maxrate' : ''}.json`);
  const env = environment();
  const started = new Date().toISOString();
  const setup = {};
  let nodes = [];
  const cleanup = async () => { await Promise.all(nodes.map(x => x.stop().catch(() => {}))); };
  process.on('SIGINT', () => { cleanup().then(() => process.exit(130)); });

  try {
    // Start.
    let t = performance.now();
    log(`starting ${n} nodes`);
    nodes = Array.from({ length: n }, (_, i) => new NodeProc(i));
    await Promise.race([
      Promise.all(nodes.map(x => x.ready)),
      sleep((30 + 2 * n) * 1000).then(() => { throw new Error('nodes did not start in time'); })
    ]);
    setup.start_seconds = round((performance.now() - t) / 1000, 3);
    const stIdle = await allStats(nodes);
    setup.rss_bytes_started = { mean: Math.round(stIdle.reduce((s, x) => s + x.rss_bytes, 0) / n), max: Math.max(...stIdle.map(x => x.rss_bytes)) };

    // Connect: for each edge a<b, b dials a.
    t = performance.now();
    log(`dialing ${edges.length} edges`);
    const { failed } = await dialEdges(nodes, graph);
    if (failed.length) log(`dial failures: ${failed.length}: ${failed[0]}`);
    setup.dial_failures = failed.length;
    setup.connect_seconds = round((performance.now() - t) / 1000, 3);

    // Mesh.
    const meshTimeout = Number(a['mesh-timeout'] ?? 120 + 2 * n);
    setup.redialed_edges = await waitMesh(nodes, graph, meshTimeout);
    setup.mesh_seconds = round((performance.now() - t) / 1000, 3);
    const stMesh = await allStats(nodes);
    setup.mesh_peers = minMeanMax(stMesh.map(x => x.mesh_peers));
    setup.connections = minMeanMax(stMesh.map(x => x.connections));
    log(`mesh formed in ${setup.mesh_seconds} s: mesh peers ${JSON.stringify(setup.mesh_peers)}, connections ${JSON.stringify(setup.connections)}`);

    let nextId = 0;
    let planPos = 0;
    const planSlice = k => {
      const s = Array.from({ length: k }, (_, i) => plan[(planPos + i) % plan.length]);
      planPos += k;
      return s;
    };

    if (warmup > 0) {
      log(`warm-up: ${warmup} messages`);
      const w = await measure(nodes, planSlice(warmup), { firstId: nextId, count: warmup, size, rate, drainTimeout: 30, tail: 0, keepMessages: false });
      nextId += warmup;
      setup.warmup = { messages: warmup, delivered_fraction: w.delivered_fraction, time_to_all_ms: w.time_to_all_ms };
    }

    // The warm-up may have cost connections on a loaded machine.
    setup.redialed_edges += await waitMesh(nodes, graph, 120);

    const result = {
      schema: SCHEMA,
      implementation: 'gossipsub',
      started_at: started,
      command: ['node', 'run.mjs', ...process.argv.slice(2)].join(' '),
      params: {
        nodes: n, degree, seed: String(seed), messages, body_bytes: size, rate, warmup,
        drain_timeout_s: Number(a['drain-timeout']), tail_s: tail, topic: TOPIC
      },
      graph: { ...graphSource, nodes: graph.nodes, edges: graph.edges, degree_min: graph.degree_min, degree_mean: graph.degree_mean, degree_max: graph.degree_max, diameter: graph.diameter },
      environment: env,
      setup
    };

    if (!a['max-rate']) {
      log(`run: ${messages} messages of ${size} B at ${rate}/s from random publishers`);
      result.run = await measure(nodes, planSlice(messages), {
        firstId: nextId, count: messages, size, rate, drainTimeout: Number(a['drain-timeout']), tail, keepMessages: true
      });
      nextId += messages;
      const r = result.run;
      log(`delivered ${r.delivered_fraction}, time-to-all p50 ${r.time_to_all_ms.p50} ms p99 ${r.time_to_all_ms.p99} ms max ${r.time_to_all_ms.max} ms, ${r.wire.bytes_per_delivery} B/delivery, ${r.duplicates.per_delivery} dup/delivery`);
    } else {
      const trialS = Number(a['trial-seconds']);
      const maxLat = Number(a['max-latency-ms']);
      const trials = [];
      const trial = async (r) => {
        // Before each trial: the graph and the mesh must be whole again.
        const redialed = await waitMesh(nodes, graph, 120);
        const count = Math.max(50, Math.round(r * trialS));
        const m = await measure(nodes, planSlice(count), {
          firstId: nextId, count, size, rate: r, drainTimeout: Math.max(10, trialS), tail: 2, keepMessages: false
        });
        nextId += count;
        const pass = m.delivered_fraction === 1 && m.publish_errors === 0 &&
          m.time_to_all_ms.p99 !== null && m.time_to_all_ms.p99 <= maxLat && m.rate_achieved >= 0.9 * r;
        trials.push({ rate: r, pass, edges_redialed_before: redialed, ...m });
        log(`trial ${r}/s (${count} msgs): ${pass ? 'pass' : 'FAIL'}: delivered ${m.delivered_fraction}, p99 ${m.time_to_all_ms.p99} ms, achieved ${m.rate_achieved}/s`);
        if (!pass) {
          // Let a backlog drain before the next trial.
          let last = -1;
          await waitFor('backlog to drain', 120, async () => {
            const s = sums(await allStats(nodes));
            const done = s.bodies === last;
            last = s.bodies;
            if (!done) await sleep(1000);
            return { done };
          });
        }
        return pass;
      };
      let lo = null; let hi = null;
      let r = rate;
      if (await trial(r)) {
        lo = r;
        while (r < MAX_RATE_CAP) { r *= 2; if (await trial(r)) lo = r; else { hi = r; break; } }
      } else {
        hi = r;
        while (r / 2 >= MIN_RATE) { r /= 2; if (await trial(r)) { lo = r; break; } hi = r; }
      }
      for (let i = 0; i < Number(a.bisect) && lo !== null && hi !== null && hi - lo > lo * 0.05; i++) {
        const mid = roundRate((lo + hi) / 2);
        if (mid <= lo || mid >= hi) break;
        if (await trial(mid)) lo = mid; else hi = mid;
      }
      result.max_rate = {
        criterion: `every message reaches every node, p99 time-to-all <= ${maxLat} ms, no publish error, achieved rate >= 90% of target; trials of ${trialS} s (at least 50 messages); doubling (or halving) from --rate, then up to ${a.bisect} bisection steps (2 significant digits)`,
        max_rate_msgs_per_s: lo,
        first_failing_rate: hi,
        trials
      };
      log(`max sustained rate: ${lo} msgs/s (first failing ${hi})`);
    }

    if (!a['no-ss-check']) {
      // Node counters just before and just after ss: the kernel's figure
      // must lie between them (pings keep a little traffic going).
      const stA = await allStats(nodes);
      const snap = ssSnapshot();
      const stB = await allStats(nodes);
      result.wire_check = ssCheck(nodes, snap, stA, stB);
      log(`ss check: ${JSON.stringify(result.wire_check)}`);
    }
    env.loadavg_end = os.loadavg().map(x => round(x, 2));
    result.finished_at = new Date().toISOString();
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
    log(`wrote ${out}`);
    return 0;
  } finally {
    await cleanup();
  }
}

main().then(code => process.exit(code), err => {
  console.error(`run.mjs: ${err.stack ?? err}`);
  process.exit(1);
});
