// Starting and stopping the development JupyterLab (jupyter-ext/dev/lab)
// for the browser tests: a fresh server per run on a free loopback port,
// its whole process group stopped at the end, shelfd included.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ext = path.resolve(here, '..', '..');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = ms => new Promise(r => setTimeout(r, ms));

function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

// Starts the lab with `env` (HOME, XDG dirs, MODULEPATH...) and resolves
// once /api/status answers. `log` is the file the server writes to.
export async function startLab({ env, root, log, token, extra = [] }) {
  const port = await freePort();
  const out = fs.openSync(log, 'a');
  const child = spawn(path.join(ext, 'dev', 'lab'),
    ['--no-build', '--port', String(port), '--token', token, '--root', root,
     '--shelf', process.env.SHELF, '--shelfd', process.env.SHELFD,
     '--python-path', path.join(process.env.SHELF_SRCDIR, 'python'), '--', ...extra],
    { env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  let exited = null;
  child.on('exit', (code, sig) => { exited = sig || code; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (exited !== null) throw new Error(`the lab exited (${exited}); see ${log}`);
    try {
      const r = await fetch(`${base}/api/status`, { headers: { Authorization: `token ${token}` } });
      if (r.ok) break;
    } catch { /* not listening yet */ }
    await sleep(100);
  }
  const lab = {
    base, token, child, log,
    url: `${base}/lab?token=${token}&reset`,
    async api(method, p, body) {
      const r = await fetch(`${base}/${p}`, {
        method, headers: { Authorization: `token ${token}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body)
      });
      const text = await r.text();
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: r.status, json, text };
    },
    async daemonPid() {
      const s = await this.api('GET', 'shelf/status');
      return s.json?.daemon?.pid ?? null;
    },
    // Stops the server's process group and checks that shelfd went with it.
    async stop() {
      const daemon = await this.daemonPid().catch(() => null);
      if (exited === null) {
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
        for (let i = 0; i < 100 && exited === null; i++) await sleep(100);
        if (exited === null) {
          try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
        }
      }
      for (let i = 0; i < 50 && daemon && alive(daemon); i++) await sleep(100);
      return { daemon, daemonAlive: daemon ? alive(daemon) : false };
    }
  };
  return lab;
}
