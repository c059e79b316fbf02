/**
 * The front-end build: the staff app (/app) and the analyst dashboard (/dashboard), TypeScript
 * under src/web, built into dist/web, which the service serves (src/features/web). No dev
 * server is needed at run time; `npm run build:web` (part of `npm run build`) writes the files.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { defineConfig, type Plugin } from 'vite';

const root = resolve(import.meta.dirname, 'src/web');

/**
 * Writes the app shell's file list and a version into the service worker (app/sw.js), so the
 * worker precaches exactly this build and a new build installs a new worker.
 */
function precacheManifest(): Plugin {
  return {
    name: 'lineal-precache-manifest',
    apply: 'build',
    generateBundle(_options, bundle) {
      const sw = Object.values(bundle).find(
        (file) => file.type === 'chunk' && file.fileName === 'app/sw.js',
      );
      if (sw?.type !== 'chunk') throw new Error('the service worker chunk is missing');
      const app = Object.values(bundle).find(
        (file) => file.type === 'chunk' && file.isEntry && file.name === 'app',
      );
      const files = new Set<string>(['app/', 'app/manifest.webmanifest', 'app/icon.svg']);
      const visit = (fileName: string) => {
        const file = bundle[fileName];
        if (!file || files.has(fileName)) return;
        files.add(fileName);
        if (file.type === 'chunk') {
          for (const name of [...file.imports, ...file.dynamicImports]) visit(name);
          for (const css of file.viteMetadata?.importedCss ?? []) files.add(css);
          for (const asset of file.viteMetadata?.importedAssets ?? []) files.add(asset);
        }
      };
      if (app && app.type === 'chunk') visit(app.fileName);
      const urls = [...files].filter((f) => f !== 'app/index.html').map((f) => `/${f}`);
      const version = createHash('sha256')
        .update(JSON.stringify(urls))
        .update(
          Object.values(bundle)
            .map((f) => (f.type === 'chunk' ? f.code : String(f.source)))
            .join('\n'),
        )
        .digest('hex')
        .slice(0, 16);
      sw.code = `self.__LINEAL_PRECACHE__ = ${JSON.stringify({ urls, version })};\n${sw.code}`;
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  publicDir: resolve(root, 'public'),
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: resolve(import.meta.dirname, 'dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Chart.js alone is ~200 kB; the dashboard loads it, the app never does.
    chunkSizeWarningLimit: 400,
    rolldownOptions: {
      input: {
        app: resolve(root, 'app/index.html'),
        dashboard: resolve(root, 'dashboard/index.html'),
        parents: resolve(root, 'parents/index.html'),
        sw: resolve(root, 'sw/sw.ts'),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'sw' ? 'app/sw.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  plugins: [precacheManifest()],
});
