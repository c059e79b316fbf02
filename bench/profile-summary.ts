/**
 * Summarises a V8 CPU profile (node --cpu-prof, e.g. from `npm run bench -- --profile`): self
 * time by package / area and the top functions.
 *   npx tsx bench/profile-summary.ts bench/results/profiles/CPU.….cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function area(url: string, name: string): string {
  if (name.startsWith('(')) return name; // (garbage collector), (idle), (program)
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return 'node (built-in)';
  if (/\/(dist\/)?src\//.test(url)) return 'lineal';
  return url === '' ? '(native)' : url;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: npx tsx bench/profile-summary.ts FILE.cpuprofile [top]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);
const areas = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, micros] of self) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const a = area(url, functionName);
  areas.set(a, (areas.get(a) ?? 0) + micros);
  const short = url.replace(/^.*node_modules\//, '').replace(/^.*\/(dist\/)?src\//, 'src/');
  const key = `${functionName || '(anonymous)'} ${short}${short ? `:${lineNumber + 1}` : ''}`;
  functions.set(key, (functions.get(key) ?? 0) + micros);
}
const pct = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)} %`;
const busy = total - (areas.get('(idle)') ?? 0);
process.stdout.write(
  `${file}\n${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (not idle)\n\nSelf time by area:\n`,
);
for (const [a, micros] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, 15)) {
  process.stdout.write(`  ${pct(micros)}  ${a}\n`);
}
process.stdout.write('\nTop functions (self time):\n');
for (const [f, micros] of [...functions]
  .sort((x, y) => y[1] - x[1])
  .slice(0, Number(topArg ?? 25))) {
  process.stdout.write(`  ${pct(micros)}  ${f}\n`);
}
