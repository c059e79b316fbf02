import { existsSync } from 'node:fs';
import path from 'node:path';
import { type ServiceProcess, startService as startProcess } from '../lib/service.js';

export { tail } from '../lib/service.js';

/** A service process as production runs it: the built server (dist/src/server.js). */
export interface Service extends ServiceProcess {
  name: string;
}

export const SERVER_SCRIPT = path.join('dist', 'src', 'server.js');

export function built(): boolean {
  return existsSync(SERVER_SCRIPT);
}

/** Starts the server on a free loopback port with `env` and waits until /readyz answers 200. */
export async function startService(
  name: string,
  env: Record<string, string>,
  logFile: string,
): Promise<Service> {
  return { name, ...(await startProcess(env, { logFile, probe: '/readyz' })) };
}
