#!/usr/bin/env node
// One js-libp2p gossipsub node, one OS process: the gossipsub side of the
// propagation benchmark of issue 8 (see README.md beside this file).
//
// Stack: TCP on 127.0.0.1, noise, yamux, identify, ping, @libp2p/gossipsub with its
// defaults (StrictSign, floodPublish, D=6) except what many nodes on one
// loaded host need: the per-host inbound connection rate limit is raised, the
// IP-colocation score penalty is off, and a late ping does not close the
// connection.
//
// Control channel: one JSON object per line on stdin (commands) and stdout
// (replies and events); logs go to stderr. Commands:
//   {"cmd":"dial","addrs":["/ip4/127.0.0.1/tcp/P/p2p/ID",...]}
//   {"cmd":"publish","id":17,"size":1024}
//   {"cmd":"stats"}            counters, mesh and connection counts
//   {"cmd":"peers"}            peer ids of the connected peers and of the topic's
//   {"cmd":"hangup","peer":ID} close the connections to that peer
//   {"cmd":"dump","clear":true} first deliveries recorded so far (and forget them)
//   {"cmd":"quit"}
// Every reply carries the command's "seq" if the command had one.
//
// Times are CLOCK_MONOTONIC in microseconds (process.hrtime.bigint() on
// Linux): one clock for every process on the machine.

import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { randomFillSync } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';

// Node 20 has no Promise.withResolvers (Node 22 has); libp2p 3 uses it.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers () {
    let resolve, reject;
    const promise = new this((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

const { createLibp2p } = await import('libp2p');
const { tcp } = await import('@libp2p/tcp');
const { noise } = await import('@chainsafe/libp2p-noise');
const { yamux } = await import('@chainsafe/libp2p-yamux');
const { identify } = await import('@libp2p/identify');
const { ping } = await import('@libp2p/ping');
const { gossipsub } = await import('@libp2p/gossipsub');
const { multiaddr } = await import('@multiformats/multiaddr');
const { peerIdFromString } = await import('@libp2p/peer-id');

/** Body header: u64 BE message id, u64 BE publish time (µs, CLOCK_MONOTONIC). */
const BODY_HEADER = 16;

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

const { values: opt } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    topic: { type: 'string', default: 'bench' },
    dial: { type: 'string', multiple: true, default: [] },
    index: { type: 'string', default: '0' }
  }
});

// Wire bytes: every TCP socket this process opens or accepts, counted by the
// socket itself (bytesRead/bytesWritten: payload bytes handed to and taken from
// the kernel; TCP/IP headers not included). Closed sockets are folded into
// the totals when they close.
const sockets = new Set();
const closed = { read: 0, written: 0, count: 0 };
function trackSocket ({ socket }) {
  sockets.add(socket);
  socket.once('close', () => {
    closed.read += socket.bytesRead;
    closed.written += socket.bytesWritten;
    closed.count++;
    if (process.env.BENCH_DEBUG) console.error(`closed socket ${socket.localPort}->${socket.remoteAddress}:${socket.remotePort} read ${socket.bytesRead} written ${socket.bytesWritten}`);
    sockets.delete(socket);
  });
}
diagnostics.subscribe('net.client.socket', trackSocket);
diagnostics.subscribe('net.server.socket', trackSocket);

function wireBytes () {
  let openRead = 0;
  let openWritten = 0;
  for (const s of sockets) {
    openRead += s.bytesRead;
    openWritten += s.bytesWritten;
  }
  return {
    read: closed.read + openRead,
    written: closed.written + openWritten,
    open_sockets: sockets.size,
    open_read: openRead,
    open_written: openWritten,
    closed_sockets: closed.count
  };
}

const node = await createLibp2p({
  addresses: { listen: [`/ip4/127.0.0.1/tcp/${opt.port}`] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  // libp2p pings every connection every 10 s and by default aborts it when a
  // ping misses an adaptive timeout; with 50-100 Node.js processes on 2
  // cores the event loops lag seconds and the graph fell apart. Pings stay
  // (their bytes count); a missed one no longer ends the connection (p2pd
  // waits 20 minutes for a pong).
  connectionMonitor: { abortConnectionOnPingFailure: false },
  connectionManager: {
    // Every node is 127.0.0.1: the default of 5 inbound connections per
    // second per host refuses most of a 100-node network's dials.
    inboundConnectionThreshold: 100000,
    maxIncomingPendingConnections: 1000
  },
  services: {
    identify: identify(),
    // libp2p's connection monitor pings every connection every 10 s and
    // aborts the connection when the ping fails; without the ping protocol
    // the remote ends the stream (EOF, not "unsupported protocol") and the
    // connection is dropped.
    ping: ping(),
    pubsub: gossipsub({
      // Every peer shares one IP here; the colocation penalty would score all
      // of them below the graylist threshold.
      scoreParams: { IPColocationFactorWeight: 0 }
    })
  }
});
const gs = node.services.pubsub;
const topic = opt.topic;

// Counters. Gossipsub drops a duplicate inside validateReceivedMessage(),
// before any event: wrap it on this instance to see every message body that
// arrives (first deliveries, duplicates, invalid ones).
const counts = {
  bodies_received: 0,
  first_deliveries: 0,
  duplicates: 0,
  invalid: 0,
  published: 0,
  publish_errors: 0
};
const validate = gs.validateReceivedMessage.bind(gs);
gs.validateReceivedMessage = async (from, rpcMsg) => {
  const res = await validate(from, rpcMsg);
  if (rpcMsg.topic === topic) {
    counts.bodies_received++;
    if (res.code === 'duplicate') counts.duplicates++;
    else if (res.code === 'invalid') counts.invalid++;
  }
  return res;
};

// First deliveries: [id, receive µs, publish µs from the body].
const deliveries = [];
gs.addEventListener('message', (evt) => {
  const msg = evt.detail;
  if (msg.topic !== topic || msg.data.length < BODY_HEADER) return;
  const t = nowUs();
  const dv = new DataView(msg.data.buffer, msg.data.byteOffset, BODY_HEADER);
  const id = Number(dv.getBigUint64(0));
  const pub = Number(dv.getBigUint64(8));
  counts.first_deliveries++;
  deliveries.push([id, t, pub]);
});
gs.subscribe(topic);

function send (obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function publish (id, size) {
  const body = new Uint8Array(Math.max(size, BODY_HEADER));
  randomFillSync(body, BODY_HEADER); // incompressible, like a p2pd body would be
  const dv = new DataView(body.buffer);
  dv.setBigUint64(0, BigInt(id));
  const t = nowUs();
  dv.setBigUint64(8, BigInt(t));
  try {
    const res = await gs.publish(topic, body);
    counts.published++;
    return { t_us: t, recipients: res.recipients.length };
  } catch (err) {
    counts.publish_errors++;
    return { t_us: t, error: String(err.message ?? err) };
  }
}

function stats () {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    t_us: nowUs(),
    peer_id: node.peerId.toString(),
    connections: node.getConnections().length,
    peers: node.getPeers().length,
    topic_peers: gs.getSubscribers(topic).length,
    mesh_peers: gs.getMeshPeers(topic).length,
    wire: wireBytes(),
    counts: { ...counts },
    cpu_us: cpu.user + cpu.system,
    rss_bytes: mem.rss
  };
}

async function handle (cmd) {
  switch (cmd.cmd) {
    case 'dial': {
      const results = await Promise.allSettled(cmd.addrs.map(a => node.dial(multiaddr(a))));
      const failed = results.filter(r => r.status === 'rejected').map(r => String(r.reason?.message ?? r.reason));
      return { ok: failed.length === 0, dialed: cmd.addrs.length, failed };
    }
    case 'publish':
      return { ok: true, id: cmd.id, ...(await publish(cmd.id, cmd.size)) };
    case 'peers':
      return {
        ok: true,
        peers: node.getPeers().map(p => p.toString()),
        topic_peers: gs.getSubscribers(topic).map(p => p.toString())
      };
    case 'hangup':
      await node.hangUp(peerIdFromString(cmd.peer));
      return { ok: true };
    case 'stats':
      return { ok: true, ...stats() };
    case 'dump': {
      const out = deliveries.slice();
      if (cmd.clear) deliveries.length = 0;
      return { ok: true, deliveries: out };
    }
    case 'quit':
      await node.stop();
      return { ok: true, quit: true };
    default:
      return { ok: false, error: `unknown command ${cmd.cmd}` };
  }
}

const addrs = node.getMultiaddrs().map(a => a.toString());
send({ ev: 'ready', index: Number(opt.index), pid: process.pid, peer_id: node.peerId.toString(), addrs });

if (opt.dial.length > 0) {
  send({ ev: 'dialed', ...(await handle({ cmd: 'dial', addrs: opt.dial })) });
}

const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  if (line.trim() === '') return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch {
    send({ ok: false, error: 'bad json' });
    return;
  }
  let reply;
  try {
    reply = await handle(cmd);
  } catch (err) {
    reply = { ok: false, error: String(err.message ?? err) };
  }
  if (cmd.seq !== undefined) reply.seq = cmd.seq;
  send(reply);
  if (reply.quit) process.exit(0);
});
rl.on('close', async () => {
  await node.stop().catch(() => {});
  process.exit(0);
});
