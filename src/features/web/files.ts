import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built front end, dist/web of this package: beside the compiled service when it runs from
 * dist/ (`npm start`), or under the package root when it runs from source (tsx, tests).
 */
export function defaultWebRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (basename(dir) === 'dist') return join(dir, 'web');
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'web');
    const parent = dirname(dir);
    if (parent === dir) return join(process.cwd(), 'dist', 'web');
    dir = parent;
  }
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
  '.json': 'application/json',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

export interface WebFile {
  type: string;
  body: Buffer;
}

/**
 * Every file of the build, read once into memory (a few hundred kB), by URL path (`/app/sw.js`,
 * `/assets/app-1a2b.js`). Empty when the front end has not been built.
 */
export async function readWebFiles(root: string): Promise<Map<string, WebFile>> {
  const files = new Map<string, WebFile>();
  if (!existsSync(root)) return files;
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    const type = TYPES[extname(entry.name)];
    if (!type) continue;
    const url = `/${relative(root, full).split(sep).join('/')}`;
    files.set(url, { type, body: await readFile(full) });
  }
  return files;
}
