import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/errors.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable: a 503 to retry, not a 500', () => {
  it.each([
    ['admin shutdown', withCode('57P01')],
    ['crash shutdown', withCode('57P02')],
    ['starting up', withCode('57P03')],
    ['too many connections', withCode('53300')],
    ['read-only (a standby after failover)', withCode('25006')],
    ['connection failure (class 08)', withCode('08006')],
    ['refused', withCode('ECONNREFUSED')],
    ['reset', withCode('ECONNRESET')],
    ['every address refused', new AggregateError([withCode('ECONNREFUSED')])],
    ['pg: terminated', new Error('Connection terminated unexpectedly')],
    ['pg: pool timeout', new Error('timeout exceeded when trying to connect')],
  ])('%s', (_, error) => expect(isDatabaseUnavailable(error)).toBe(true));

  it.each([
    ['unique violation', withCode('23505')],
    ['syntax error', withCode('42601')],
    ['RLS violation', withCode('42501')],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
    ['null', null],
  ])('not %s', (_, error) => expect(isDatabaseUnavailable(error)).toBe(false));
});
