/**
 * The answer to an assessment just saved, handed from the form to the child's page so the
 * result shows at once (without another request), or 'queued' when it waits in the outbox.
 */
const results = new Map<string, unknown>();

export function rememberResult(childId: string, result: unknown): void {
  results.set(childId, result);
}

export function takeResult(childId: string): unknown {
  const result = results.get(childId);
  results.delete(childId);
  return result;
}
