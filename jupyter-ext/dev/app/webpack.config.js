// Builds the development JupyterLab app into dev/app/build/ (modelled on
// jupyterlab/jupyterlab's examples/app/webpack.config.js).
const fs = require('fs');
const path = require('path');
const webpack = require('webpack');
const Build = require('@jupyterlab/builder').Build;
const miniSVGDataURI = require('mini-svg-data-uri');

const top = path.resolve(__dirname, '..', '..');
const data = require(path.join(top, 'package.json'));
const build = path.join(__dirname, 'build');

// JupyterLab's plugin packages: their schemas and themes go to build/, and
// build/style.js imports their CSS.
const extensions = Object.keys(data.devDependencies).filter(n => n.endsWith('-extension'));
const assets = Build.ensureAssets({ packageNames: extensions, output: build });

// Shelf's own settings schema, where LabServerApp looks for it.
const schemaDir = path.join(build, 'schemas', data.name);
fs.mkdirSync(schemaDir, { recursive: true });
for (const f of fs.readdirSync(path.join(top, 'schema'))) {
  fs.copyFileSync(path.join(top, 'schema', f), path.join(schemaDir, f));
}
fs.writeFileSync(path.join(schemaDir, 'package.json.orig'), JSON.stringify(data, null, 2));

module.exports = [
  {
    entry: [path.join(__dirname, 'index.js')],
    output: { path: build, filename: 'bundle.js' },
    context: __dirname,
    bail: true,
    devtool: false,
    mode: process.env.SHELF_LAB_MODE || 'development',
    resolve: { modules: [path.join(top, 'node_modules'), 'node_modules'] },
    module: {
      rules: [
        { test: /\.css$/, use: ['style-loader', 'css-loader'] },
        { test: /\.html$/, type: 'asset/resource' },
        { test: /\.md$/, type: 'asset/source' },
        { test: /\.(jpg|png|gif)$/, type: 'asset/resource' },
        { test: /\.js.map$/, type: 'asset/resource' },
        { test: /\.woff2?(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
        { test: /\.ttf(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
        { test: /\.eot(\?v=\d+\.\d+\.\d+)?$/, type: 'asset/resource' },
        {
          test: /\.svg(\?v=\d+\.\d+\.\d+)?$/,
          issuer: /\.css$/,
          type: 'asset/inline',
          generator: { dataUrl: content => miniSVGDataURI(content.toString()) }
        },
        { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.js$/, type: 'asset/source' }
      ]
    },
    plugins: [new webpack.DefinePlugin({ process: { cwd: () => '/', env: {} } })]
  }
].concat(assets);
