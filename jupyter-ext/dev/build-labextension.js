// Builds the prebuilt ("federated") form of the extension into
// shelf_jupyter/labextension/, the form sites with `pip install jupyterlab`
// load (see jupyter-ext/README.md). @jupyterlab/builder's
// build-labextension wants the core application's package.json: the
// `jupyterlab` Python package ships it (staging/), Debian and npm do not,
// so it is written here from the installed @jupyterlab, @lumino and
// @jupyter packages, every one of them a shared singleton that the
// extension takes from JupyterLab instead of bundling.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const top = path.resolve(__dirname, '..');
const modules = path.join(top, 'node_modules');

const deps = {};
for (const scope of ['@jupyterlab', '@lumino', '@jupyter', '@codemirror']) {
  const dir = path.join(modules, scope);
  if (!fs.existsSync(dir)) continue;
  for (const name of fs.readdirSync(dir)) {
    const pkg = path.join(dir, name, 'package.json');
    if (!fs.existsSync(pkg)) continue;
    const full = `${scope}/${name}`;
    if (full === '@jupyterlab/builder') continue;
    deps[full] = '^' + JSON.parse(fs.readFileSync(pkg, 'utf8')).version;
  }
}
for (const name of ['react', 'react-dom', 'yjs']) {
  const pkg = path.join(modules, name, 'package.json');
  if (fs.existsSync(pkg)) deps[name] = '^' + JSON.parse(fs.readFileSync(pkg, 'utf8')).version;
}

const core = fs.mkdtempSync(path.join(os.tmpdir(), 'shelf-labcore-'));
try {
  fs.writeFileSync(path.join(core, 'package.json'), JSON.stringify({
    name: '@jupyterlab/application-top',
    version: deps['@jupyterlab/application'].slice(1),
    private: true,
    dependencies: deps,
    resolutions: {},
    jupyterlab: { singletonPackages: Object.keys(deps) }
  }, null, 2));
  const mode = process.argv.includes('--development') ? ['--development'] : [];
  const r = spawnSync(process.execPath,
    [path.join(modules, '@jupyterlab', 'builder', 'lib', 'build-labextension.js'),
     '--core-path', core, ...mode, top],
    { stdio: 'inherit', cwd: top });
  process.exitCode = r.status === null ? 1 : r.status;
} finally {
  fs.rmSync(core, { recursive: true, force: true });
}
