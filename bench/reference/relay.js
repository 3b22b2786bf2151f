#!/usr/bin/env node
// relay.js — the reference the signaling benchmark measures
// vid-signaling-server against: a minimal Node.js `ws` relay of the same
// vid.v1 call routing (docs/protocol.md) over TLS.
//
// Same message shapes and the same validation depth as the real server's
// shared schema module (libvid/signaling/proto.c): JSON.parse, type and
// length checks, name/fingerprint/call-id character sets, a call id bound to
// its two devices. Deliberately left out, because they are not part of what
// the benchmark compares: Argon2id (passwords are compared in plain text
// against the users file), SQLite, presence, rate limits, login throttling,
// TURN credentials, metrics. See docs/performance.md.
//
// Usage: node relay.js --port N --cert FILE --key FILE --users FILE
//   users file: one "name password" per line (as `user import` reads).
// Prints "relay.js: listening on wss://127.0.0.1:PORT/" when ready.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const { WebSocketServer } = require('ws');

const MAX_FRAME = 65536;
const MAX_SDP = 60000;
const MAX_CANDIDATE = 1024;
const MAX_REASON = 64;
const MAX_PASSWORD = 1024;
const SAFE_MAX = 9007199254740992; // 2^53

function usage(code) {
  (code ? process.stderr : process.stdout).write(
    'usage: node relay.js --port N --cert FILE --key FILE --users FILE\n' +
      '       [--host 127.0.0.1]\n');
  process.exit(code);
}

function parseArgs(argv) {
  const o = { host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') usage(0);
    const v = argv[i + 1];
    if (v === undefined) usage(2);
    i++;
    if (a === '--port') o.port = Number(v);
    else if (a === '--cert') o.cert = v;
    else if (a === '--key') o.key = v;
    else if (a === '--users') o.users = v;
    else if (a === '--host') o.host = v;
    else usage(2);
  }
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) {
    process.stderr.write('relay.js: --port must be 1..65535\n');
    process.exit(2);
  }
  if (!o.cert || !o.key || !o.users) usage(2);
  return o;
}

const opts = parseArgs(process.argv.slice(2));

// ---- validation (mirrors libvid/signaling/proto.c) ----
const NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const FP_RE = /^sha-256 [0-9A-F]{2}(:[0-9A-F]{2}){31}$/;
const CALL_RE = /^[0-9a-f]{1,64}$/;

const isName = (v) => typeof v === 'string' && NAME_RE.test(v);
const isStr = (v, max, emptyOk) =>
  typeof v === 'string' && (emptyOk || v.length > 0) &&
  Buffer.byteLength(v) <= max;
const isId = (v) => Number.isInteger(v) && v > 0 && v <= SAFE_MAX;
const isCall = (v) => typeof v === 'string' && CALL_RE.test(v);

// ---- state ----
const users = new Map(); // name -> password
const online = new Map(); // user -> Map(device -> ws)
const calls = new Map(); // call id -> {caller, callee, ringing:Set}

function loadUsers(file) {
  const text = fs.readFileSync(file, 'utf8');
  let n = 0;
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const name = line.slice(0, sp);
    if (!isName(name)) continue;
    users.set(name, line.slice(sp + 1));
    n++;
  }
  return n;
}

function send(ws, obj) {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(obj));
}

function error(ws, re, code, message) {
  const m = { type: 'error', code, message };
  if (re) m.re = re;
  send(ws, m);
}

function endCall(id, call, from, reason) {
  calls.delete(id);
  for (const d of [call.caller, call.callee]) {
    if (d && d !== from) {
      const m = { type: 'call.hangup', call: id, reason };
      if (from) {
        m.from = from.s.user;
        m.from_device = from.s.device;
      }
      send(d, m);
    }
  }
  for (const d of call.ringing) {
    if (d !== from && d !== call.callee)
      send(d, { type: 'call.cancel', call: id, reason: 'caller_hangup' });
    if (d.s) d.s.calls.delete(id);
  }
  if (call.caller.s) call.caller.s.calls.delete(id);
  if (call.callee && call.callee.s) call.callee.s.calls.delete(id);
}

// ---- handlers ----
function onLogin(ws, m) {
  const s = ws.s;
  if (s.user) return error(ws, m.id, 'already_logged_in', 'already logged in');
  if (!isName(m.user) || !isStr(m.password, MAX_PASSWORD) ||
      !isName(m.device) || typeof m.fingerprint !== 'string' ||
      !FP_RE.test(m.fingerprint))
    return error(ws, m.id, 'bad_message', 'login: bad or missing field');
  const pw = users.get(m.user);
  if (pw === undefined || pw !== m.password)
    return error(ws, m.id, 'bad_credentials', 'wrong user or password');
  let devs = online.get(m.user);
  if (!devs) {
    devs = new Map();
    online.set(m.user, devs);
  }
  const old = devs.get(m.device);
  if (old && old !== ws) {
    error(old, 0, 'session_replaced', 'logged in elsewhere');
    old.s.user = null;
    old.close(1000);
  }
  devs.set(m.device, ws);
  s.user = m.user;
  s.device = m.device;
  s.fingerprint = m.fingerprint;
  send(ws, {
    type: 'welcome', re: m.id, user: s.user, device: s.device,
    server: 'relay.js (bench reference)',
    policy: {
      ice_servers: [], ice_transport_policy: 'all',
      media_port_min: 0, media_port_max: 0,
      limits: { max_frame: MAX_FRAME, rate: 0, burst: 0 },
    },
  });
}

function onInvite(ws, m) {
  const s = ws.s;
  if (!isName(m.to) || !isStr(m.sdp, MAX_SDP))
    return error(ws, m.id, 'bad_message', 'call.invite: bad field');
  if (m.to === s.user) return error(ws, m.id, 'self_call', 'calling yourself');
  if (!users.has(m.to)) return error(ws, m.id, 'unknown_user', 'no such user');
  const devs = online.get(m.to);
  if (!devs || devs.size === 0)
    return error(ws, m.id, 'callee_offline', m.to + ' has no device online');
  const id = crypto.randomBytes(16).toString('hex');
  const call = { caller: ws, callee: null, ringing: new Set(devs.values()) };
  calls.set(id, call);
  s.calls.add(id);
  send(ws, { type: 'ack', re: m.id, call: id });
  for (const d of call.ringing) {
    d.s.calls.add(id);
    send(d, {
      type: 'call.invite', call: id, from: s.user, from_device: s.device,
      fingerprint: s.fingerprint, sdp: m.sdp,
    });
  }
}

// Returns the call if ws may send on it, else answers with an error.
function boundCall(ws, m) {
  if (!isCall(m.call)) {
    error(ws, m.id, 'bad_message', m.type + ': bad call id');
    return null;
  }
  const call = calls.get(m.call);
  if (!call || (call.caller !== ws && call.callee !== ws &&
                !(call.callee === null && call.ringing.has(ws)))) {
    error(ws, m.id, 'not_in_call', 'no such call on this device');
    return null;
  }
  return call;
}

function onAccept(ws, m) {
  if (!isStr(m.sdp, MAX_SDP))
    return error(ws, m.id, 'bad_message', 'call.accept: bad sdp');
  const call = boundCall(ws, m);
  if (!call) return;
  if (call.callee !== null || call.caller === ws)
    return error(ws, m.id, 'bad_state', 'call already accepted');
  call.callee = ws;
  send(ws, { type: 'ack', re: m.id });
  send(call.caller, {
    type: 'call.accept', call: m.call, from: ws.s.user,
    from_device: ws.s.device, fingerprint: ws.s.fingerprint, sdp: m.sdp,
  });
  for (const d of call.ringing) {
    if (d !== ws) {
      send(d, { type: 'call.cancel', call: m.call,
                reason: 'answered_elsewhere' });
      d.s.calls.delete(m.call);
    }
  }
  call.ringing.clear();
}

function onRinging(ws, m) {
  const call = boundCall(ws, m);
  if (!call) return;
  if (call.caller === ws)
    return error(ws, m.id, 'bad_state', 'the caller cannot ring');
  send(ws, { type: 'ack', re: m.id });
  send(call.caller, { type: 'call.ringing', call: m.call, from: ws.s.user,
                      from_device: ws.s.device });
}

function onReject(ws, m) {
  if (!isStr(m.reason, MAX_REASON))
    return error(ws, m.id, 'bad_message', 'call.reject: bad reason');
  const call = boundCall(ws, m);
  if (!call) return;
  if (call.caller === ws || call.callee !== null)
    return error(ws, m.id, 'bad_state', 'cannot reject this call');
  send(ws, { type: 'ack', re: m.id });
  send(call.caller, { type: 'call.reject', call: m.call, from: ws.s.user,
                      from_device: ws.s.device, reason: m.reason });
  for (const d of call.ringing) {
    if (d !== ws)
      send(d, { type: 'call.cancel', call: m.call,
                reason: 'rejected_elsewhere' });
    d.s.calls.delete(m.call);
  }
  calls.delete(m.call);
  call.caller.s.calls.delete(m.call);
}

function onCandidate(ws, m) {
  if (!isStr(m.candidate, MAX_CANDIDATE, true) ||
      (m.mid !== undefined && !isStr(m.mid, 32)) ||
      (m.mline_index !== undefined &&
       !(Number.isInteger(m.mline_index) && m.mline_index >= 0 &&
         m.mline_index <= 255)))
    return error(ws, m.id, 'bad_message', 'call.candidate: bad field');
  const call = boundCall(ws, m);
  if (!call) return;
  if (call.caller !== ws && call.callee !== ws)
    return error(ws, m.id, 'bad_state', 'accept the call first');
  const out = { type: 'call.candidate', call: m.call, from: ws.s.user,
                from_device: ws.s.device, candidate: m.candidate };
  if (m.mid !== undefined) out.mid = m.mid;
  if (m.mline_index !== undefined) out.mline_index = m.mline_index;
  if (ACK_CANDIDATES) send(ws, { type: 'ack', re: m.id });
  if (call.caller === ws) {
    if (call.callee) send(call.callee, out);
    else for (const d of call.ringing) send(d, out);
  } else {
    send(call.caller, out);
  }
}

function onHangup(ws, m) {
  if (m.reason !== undefined && !isStr(m.reason, MAX_REASON))
    return error(ws, m.id, 'bad_message', 'call.hangup: bad reason');
  const call = boundCall(ws, m);
  if (!call) return;
  send(ws, { type: 'ack', re: m.id });
  endCall(m.call, call, ws, m.reason === undefined ? 'bye' : m.reason);
}

const handlers = {
  'call.invite': onInvite,
  'call.ringing': onRinging,
  'call.accept': onAccept,
  'call.reject': onReject,
  'call.candidate': onCandidate,
  'call.hangup': onHangup,
};

// Whether call.candidate gets an ack like every other request; set from
// the environment so it can follow what vid-signaling-server does.
const ACK_CANDIDATES = process.env.RELAY_ACK_CANDIDATES !== '0';

function onMessage(ws, data, isBinary) {
  if (isBinary) return error(ws, 0, 'bad_json', 'binary frames are refused');
  let m;
  try {
    m = JSON.parse(data.toString('utf8'));
  } catch (e) {
    return error(ws, 0, 'bad_json', 'not JSON');
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m))
    return error(ws, 0, 'bad_json', 'not a JSON object');
  if (!isId(m.id)) return error(ws, 0, 'bad_message', 'missing or bad "id"');
  if (typeof m.type !== 'string')
    return error(ws, m.id, 'bad_message', 'missing "type"');
  if (m.type === 'login') return onLogin(ws, m);
  const h = handlers[m.type];
  if (!h) return error(ws, m.id, 'unknown_type', 'unknown type ' + m.type);
  if (!ws.s.user) return error(ws, m.id, 'not_logged_in', 'log in first');
  h(ws, m);
}

function onClose(ws) {
  const s = ws.s;
  for (const id of s.calls) {
    const call = calls.get(id);
    if (!call) continue;
    if (call.caller === ws || call.callee === ws)
      endCall(id, call, ws, 'peer_disconnected');
    else call.ringing.delete(ws);
  }
  s.calls.clear();
  if (s.user) {
    const devs = online.get(s.user);
    if (devs && devs.get(s.device) === ws) {
      devs.delete(s.device);
      if (devs.size === 0) online.delete(s.user);
    }
  }
}

// ---- main ----
const nusers = loadUsers(opts.users);
const server = https.createServer({
  cert: fs.readFileSync(opts.cert),
  key: fs.readFileSync(opts.key),
});
const wss = new WebSocketServer({
  server,
  maxPayload: MAX_FRAME,
  perMessageDeflate: false,
  clientTracking: false,
  handleProtocols: (protocols) => (protocols.has('vid.v1') ? 'vid.v1' : false),
});
wss.on('connection', (ws) => {
  ws.s = { user: null, device: null, fingerprint: null, calls: new Set() };
  ws.on('message', (data, isBinary) => onMessage(ws, data, isBinary));
  ws.on('close', () => onClose(ws));
  ws.on('error', () => {});
});
server.on('tlsClientError', () => {});
server.listen(opts.port, opts.host, 1024, () => {
  process.stdout.write(`relay.js: listening on wss://${opts.host}:` +
                       `${opts.port}/ (${nusers} users)\n`);
});
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
