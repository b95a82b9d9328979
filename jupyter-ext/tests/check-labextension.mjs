// Builds the prebuilt (federated) labextension and the Python wheel that
// sites with a normal JupyterLab install, and checks what they hold:
// the plugin exposed through a webpack remote entry, JupyterLab's own
// packages shared (taken from the host, not bundled), the settings
// schema, and the wheel placing the front end and the server extension's
// enabling config where JupyterLab and jupyter_server look.
// Run from jupyter-ext/ after `npm run build:lib`. Last line: N passed, N failed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const top = process.cwd();
const out = path.join(top, 'shelf_jupyter', 'labextension');
let passed = 0, failed = 0;
const check = (name, fn) => {
  try { fn(); passed++; console.log('ok  ', name); }
  catch (e) { failed++; console.log('FAIL', name, '\n   ', e.message); }
};

fs.rmSync(out, { recursive: true, force: true });
const b = spawnSync(process.execPath, ['dev/build-labextension.js'], { cwd: top, encoding: 'utf8' });
process.stderr.write(b.stdout + b.stderr);
check('build-labextension succeeds', () => assert.equal(b.status, 0));

const pkgFile = path.join(out, 'package.json');
check('package.json records the build', () => {
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  assert.equal(pkg.name, 'shelf-jupyterlab');
  assert.match(pkg.jupyterlab._build.load, /^static\/remoteEntry\.[0-9a-f]+\.js$/);
  assert.equal(pkg.jupyterlab._build.extension, './extension');
  assert.equal(pkg.jupyterlab._build.style, './style');
  assert.ok(fs.existsSync(path.join(out, pkg.jupyterlab._build.load)), 'remote entry missing');
});

check('JupyterLab packages are shared singletons, not bundled', () => {
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  const entry = fs.readFileSync(path.join(out, pkg.jupyterlab._build.load), 'utf8');
  for (const name of ['@jupyterlab/application', '@jupyterlab/services', '@lumino/widgets']) {
    assert.ok(entry.includes(`"${name}"`) || entry.includes(`'${name}'`), `${name} not in the share scope`);
  }
  const statics = fs.readdirSync(path.join(out, 'static')).map(f => fs.readFileSync(path.join(out, 'static', f), 'utf8')).join('\n');
  assert.ok(!statics.includes('class JupyterFrontEnd'), 'JupyterLab application code bundled');
  assert.ok(statics.includes('shelf-jupyterlab:plugin'), 'the plugin id is not in the bundle');
});

check('settings schema shipped', () => {
  const want = JSON.parse(fs.readFileSync(path.join(top, 'schema', 'plugin.json'), 'utf8'));
  const got = JSON.parse(fs.readFileSync(path.join(out, 'schemas', 'shelf-jupyterlab', 'plugin.json'), 'utf8'));
  assert.deepEqual(got, want);
});

const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'shelf-wheel-'));
try {
  const w = spawnSync('/usr/bin/python3', ['-m', 'hatchling', 'build', '-t', 'wheel', '-d', dist],
    { cwd: top, encoding: 'utf8' });
  process.stderr.write(w.stdout + w.stderr);
  check('the wheel builds with Debian\'s hatchling', () => assert.equal(w.status, 0));
  check('the wheel installs the front end, the server extension and its config', () => {
    const wheel = fs.readdirSync(dist).find(f => f.endsWith('.whl'));
    assert.ok(wheel, 'no wheel');
    const z = spawnSync('/usr/bin/python3', ['-c',
      'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))',
      path.join(dist, wheel)], { encoding: 'utf8' });
    const names = z.stdout.split('\n');
    const data = 'shelf_jupyter-0.1.0.data/data/';
    for (const want of ['shelf_jupyter/__init__.py',
                        `${data}share/jupyter/labextensions/shelf-jupyterlab/package.json`,
                        `${data}share/jupyter/labextensions/shelf-jupyterlab/install.json`,
                        `${data}share/jupyter/labextensions/shelf-jupyterlab/schemas/shelf-jupyterlab/plugin.json`,
                        `${data}etc/jupyter/jupyter_server_config.d/shelf_jupyter.json`]) {
      assert.ok(names.includes(want), `${want} not in ${wheel}`);
    }
    assert.ok(names.some(n => /labextensions\/shelf-jupyterlab\/static\/remoteEntry\.[0-9a-f]+\.js$/.test(n)));
    assert.ok(!names.some(n => n.startsWith('shelf_jupyter/labextension/')), 'front end shipped twice');
  });
} finally {
  fs.rmSync(dist, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
