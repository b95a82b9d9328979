// The JupyterLab front end of the development app (jupyter-ext/dev/lab):
// JupyterLab's own plugins from npm plus Shelf's Software panel, compiled
// into one bundle (there is no `jupyter labextension` here). Modelled on
// jupyterlab/jupyterlab's examples/app.
import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

// The public path must be set before any CSS asset loads.
// eslint-disable-next-line no-undef
__webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';

const styles = import('./build/style.js');

const noLsp = m => m.default.filter(({ id }) => !id.includes(':language-server'));
// Every *-extension in package.json's devDependencies (webpack.config.js
// copies their schemas and themes from the same list).
const extensions = [
  import('@jupyterlab/application-extension'),
  import('@jupyterlab/apputils-extension'),
  import('@jupyterlab/codemirror-extension'),
  import('@jupyterlab/completer-extension'),
  import('@jupyterlab/console-extension'),
  import('@jupyterlab/docmanager-extension'),
  import('@jupyterlab/documentsearch-extension'),
  import('@jupyterlab/filebrowser-extension'),
  import('@jupyterlab/fileeditor-extension').then(noLsp),
  import('@jupyterlab/help-extension'),
  import('@jupyterlab/launcher-extension'),
  import('@jupyterlab/mainmenu-extension'),
  import('@jupyterlab/markedparser-extension'),
  import('@jupyterlab/metadataform-extension'),
  import('@jupyterlab/notebook-extension').then(noLsp),
  import('@jupyterlab/rendermime-extension'),
  import('@jupyterlab/running-extension'),
  import('@jupyterlab/shortcuts-extension'),
  import('@jupyterlab/statusbar-extension'),
  import('@jupyterlab/terminal-extension'),
  import('@jupyterlab/theme-dark-extension'),
  import('@jupyterlab/theme-light-extension'),
  import('@jupyterlab/toc-extension'),
  import('@jupyterlab/translation-extension'),
  import('@jupyterlab/ui-components-extension'),
  import('../../lib/index.js') // Shelf's Software panel
];

window.addEventListener('load', async () => {
  await styles;
  await import('../../style/index.css');
  const lab = new JupyterLab();
  lab.registerPluginModules(await Promise.all(extensions));
  await lab.start();
  await lab.restored;
  window.jupyterapp = lab; // the browser tests switch themes through its commands
  document.body.dataset.labRestored = 'true';
});
