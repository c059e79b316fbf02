import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Webhook secrets at rest. A receiver verifies an HMAC, so the service must keep the secret
 * itself, not a hash: it is stored sealed with AES-256-GCM under a key derived (HKDF-SHA256)
 * from the deployment secret (LINEAL_CPR_SECRET), so a copy of the database (a backup, a
 * replica) alone cannot sign webhooks.
 */
const VERSION = 'v1';

function keyOf(deploymentSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', deploymentSecret, 'lineal', 'webhook-secret', 32));
}

export function sealSecret(secret: string, deploymentSecret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(deploymentSecret), iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`;
}

/** The secret; throws when `sealed` was not sealed with this deployment secret. */
export function openSecret(sealed: string, deploymentSecret: string): string {
  const [version, data] = sealed.split('.');
  if (version !== VERSION || !data) throw new Error('not a sealed webhook secret');
  const bytes = Buffer.from(data, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', keyOf(deploymentSecret), bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
}
