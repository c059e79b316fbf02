import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectUnsafeStrings } from '../../src/http/input-strings.js';
import type { FieldError } from '../../src/http/problem.js';

const unsafe = (value: unknown) => {
  const errors: FieldError[] = [];
  collectUnsafeStrings(value, 'body', errors);
  return errors;
};

describe('collectUnsafeStrings', () => {
  it('accepts any well-formed text without NUL, however nested, keys included', () => {
    // Graphemes are whole code points: surrogates only ever come in pairs.
    const text = fc.string({ unit: 'grapheme' }).map((s) => s.replaceAll('\0', ''));
    const json = fc.jsonValue({ maxDepth: 2, stringUnit: 'grapheme' });
    fc.assert(
      fc.property(json, text, (v, s) => {
        expect(unsafe({ v, [s]: s, list: [s] })).toEqual([]);
      }),
    );
  });

  it('finds a NUL or lone surrogate at either end or inside, but not a pair', () => {
    for (const bad of ['\0', '\ud800', '\udbff', '\udc00', '\udfff', '\udc00\ud800']) {
      for (const s of [bad, `a${bad}`, `${bad}b`, `a${bad}b`, `😀${bad}😀`]) {
        expect(unsafe(s), JSON.stringify(s)).toHaveLength(1);
      }
    }
    expect(unsafe('\ud83d\ude00')).toEqual([]);
  });

  it('names the path of each bad value and the object of each bad property name', () => {
    const errors = unsafe({ a: [{ b: 'x\0' }], 'c\ud800': 1, d: { e: ['ok', '\udfff'] } });
    expect(errors.sort((x, y) => x.path.localeCompare(y.path))).toEqual([
      { path: 'body', message: expect.stringMatching(/property name/), code: 'invalid_characters' },
      { path: 'body.a.0.b', message: expect.stringMatching(/NUL/), code: 'invalid_characters' },
      {
        path: 'body.d.e.1',
        message: expect.stringMatching(/surrogate/),
        code: 'invalid_characters',
      },
    ]);
  });

  it('lists at most 20 and survives deep nesting', () => {
    expect(unsafe(Array.from({ length: 100 }, () => '\0'))).toHaveLength(20);
    let deep: unknown = '\0';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(unsafe(deep)).toHaveLength(1);
  });
});
