// A real voices-server for the end-to-end tests: started on a free loopback port with a fresh
// data directory, set up with its own admin commands, and filled over HTTP the way the app
// fills it (devices provisioned with one-time codes, revisions uploaded as NDJSON).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { conflictingEdit, makeResponses, revisionOf } from './data.mjs';

export const PROJECT = 'demo';
export const ADMIN = { user: 'admin', password: 'e2e-admin-password-1' };
export const COORDINATOR = { user: 'cora', password: 'e2e-coordinator-pw-2' };

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The inner one-time code of a `voices1:` provisioning text. */
export function innerCode(text) {
  const json = Buffer.from(text.slice('voices1:'.length), 'base64url').toString('utf8');
  return JSON.parse(json);
}

export async function startServer({ bin, formFile, artifacts, responses: count }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'voices-console-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cli = (args, env = {}) =>
    execFileSync(bin, ['--data-dir', dataDir, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });

  cli(['project', 'add', PROJECT, '--title', 'Demo project']);
  cli(['user', 'add', ADMIN.user, '--role', 'admin'], { VOICES_PASSWORD: ADMIN.password });
  cli(['user', 'add', COORDINATOR.user, '--role', 'coordinator', '--project', PROJECT], {
    VOICES_PASSWORD: COORDINATOR.password,
  });
  // Reading pii is a grant of its own; the scenarios show pii when asked.
  cli(['user', 'grant-pii', COORDINATOR.user, '--project', PROJECT]);
  cli(['form', 'publish', formFile, '--project', PROJECT]);
  const codes = {};
  for (const [name, id, enumerator] of [
    ['A', 'tab-a', 'Achieng'],
    ['B', 'tab-b', 'Baraka'],
  ]) {
    const out = cli(['device', 'add', '--project', PROJECT, '--enumerator', enumerator, '--id', id, '--server', base]);
    const text = out.match(/^voices1:[A-Za-z0-9_-]+$/m)?.[0];
    if (!text) throw new Error(`no provisioning code in the output of device add:\n${out}`);
    codes[name] = { id, text };
  }

  const log = openSync(join(artifacts, 'server.log'), 'w');
  const child = spawn(bin, ['--data-dir', dataDir, 'serve', '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', log, log],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || i > 200) throw new Error(`voices-server did not start; see ${artifacts}/server.log`);
    await new Promise((r) => setTimeout(r, 50));
  }

  const devices = {};
  for (const [name, { id, text }] of Object.entries(codes)) {
    const res = await fetch(`${base}/api/v1/provision`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: innerCode(text).code }),
    });
    if (!res.ok) throw new Error(`provisioning ${id}: ${res.status} ${await res.text()}`);
    devices[name] = { id, ...(await res.json()) };
  }

  /** Uploads as a device (`A`, `B`) or with a bearer token given as `{ token }`. */
  async function upload(who, revisions) {
    const bearer = typeof who === 'string' ? devices[who].token : who.token;
    for (let i = 0; i < revisions.length; i += 1000) {
      const body = revisions.slice(i, i + 1000).map((r) => JSON.stringify(r)).join('\n') + '\n';
      const res = await fetch(`${base}/api/v1/projects/${PROJECT}/revisions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-ndjson', Authorization: `Bearer ${bearer}` },
        body,
      });
      if (!res.ok) throw new Error(`upload: ${res.status} ${await res.text()}`);
      const ack = await res.json();
      if (ack.rejected > 0) throw new Error(`upload: rejected ${JSON.stringify(ack.records.filter((r) => r.status === 'rejected').slice(0, 3))}`);
    }
  }

  const responses = makeResponses(count);
  for (const name of ['A', 'B']) {
    await upload(
      name,
      responses.filter((r) => r.device === name).map((r) => revisionOf(r, devices[name].id)),
    );
  }
  // The coordinator corrects response 1 (device A's) through the API without having seen
  // A's edit: a concurrent edit of one field, so a conflict. (A device may only write the
  // responses it started; a coordinator writes any response of the project as `user:NAME`.)
  const conflicted = responses[1];
  const coordinatorLogin = await fetch(`${base}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(COORDINATOR),
  });
  if (!coordinatorLogin.ok) throw new Error(`coordinator login: ${coordinatorLogin.status} ${await coordinatorLogin.text()}`);
  const coordinator = { token: (await coordinatorLogin.json()).token };
  await upload(coordinator, [
    conflictingEdit(conflicted, `user:${COORDINATOR.user}`, '0c0ffee0-0000-4000-a000-000000000001'),
  ]);

  /** A bearer session for checks behind the browser's back. */
  const login = await fetch(`${base}/api/v1/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(ADMIN),
  });
  if (!login.ok) throw new Error(`login: ${login.status} ${await login.text()}`);
  const token = (await login.json()).token;
  const apiGet = async (path) => {
    const res = await fetch(`${base}/api/v1${path}`, { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const apiPost = async (path, body) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  const apiPut = async (path, text) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: text,
    });
    if (!res.ok) throw new Error(`PUT ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  /** A device's GET (its own feed). */
  const deviceGet = async (device, path) => {
    const res = await fetch(`${base}/api/v1${path}`, { headers: { Authorization: `Bearer ${devices[device].token}` } });
    if (!res.ok) throw new Error(`GET ${path} as ${device}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  return {
    base,
    dataDir,
    responses,
    conflicted,
    devices,
    apiGet,
    apiPost,
    apiPut,
    deviceGet,
    upload,
    cli,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
