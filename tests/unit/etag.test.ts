import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PreconditionFailedError } from '../../src/errors.js';
import {
  canonicalJson,
  type EntityTag,
  entityTagOf,
  etagOf,
  formatEntityTag,
  ifMatchHolds,
  ifNoneMatchHolds,
  parseEntityTags,
  requireIfMatch,
} from '../../src/http/etag.js';

/** etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3). */
const etagc = fc.oneof(
  fc.constant('!'),
  fc.integer({ min: 0x23, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
);
const opaque = fc.array(etagc, { maxLength: 12 }).map((cs) => cs.join(''));
const tag: fc.Arbitrary<EntityTag> = fc.record({ weak: fc.boolean(), opaque });
const ows = fc.constantFrom('', ' ', '\t', '  ');

/** A list header as a client may write it: OWS around elements, empty elements between. */
const listHeader = fc
  .tuple(fc.array(fc.tuple(tag, ows, ows, fc.nat({ max: 2 })), { minLength: 1, maxLength: 6 }), ows)
  .map(([elements, tail]) => ({
    tags: elements.map(([t]) => t),
    header:
      elements
        .map(
          ([t, before, after, empties]) =>
            `${',  '.repeat(empties)}${before}${formatEntityTag(t)}${after}`,
        )
        .join(',') + tail,
  }));

describe('parseEntityTags', () => {
  it('reads back every list of tags, whatever its whitespace and empty elements', () => {
    fc.assert(
      fc.property(listHeader, ({ tags, header }) => {
        expect(parseEntityTags(header)).toEqual(tags);
      }),
    );
  });

  it('reads * (with OWS) as any', () => {
    expect(parseEntityTags('*')).toBe('*');
    expect(parseEntityTags(' * ')).toBe('*');
  });

  it('refuses what is not a list of quoted tags', () => {
    for (const bad of [
      '',
      ' ',
      ',',
      ' , ,',
      'abc',
      '"abc',
      'abc"',
      'w/"abc"',
      'W/ "abc"',
      '"a" "b"',
      '"a"b',
      '"a b"',
      '"a"; "b"',
      '*, "a"',
      '**',
    ]) {
      expect(parseEntityTags(bad), bad).toBeNull();
    }
  });

  it('refuses a list with any unquoted element among quoted ones', () => {
    fc.assert(
      fc.property(listHeader, fc.stringMatching(/^[A-Za-z0-9]{1,8}$/), ({ header }, word) => {
        expect(parseEntityTags(`${header}, ${word}`)).toBeNull();
        expect(parseEntityTags(`${word}, ${header}`)).toBeNull();
      }),
    );
  });
});

describe('If-Match and If-None-Match', () => {
  const strong = (opaqueTag: string): EntityTag => ({ weak: false, opaque: opaqueTag });

  it('If-Match holds exactly when a strong tag of the list equals the current strong tag', () => {
    fc.assert(
      fc.property(listHeader, opaque, ({ tags }, current) => {
        const expected = tags.some((t) => !t.weak && t.opaque === current);
        expect(ifMatchHolds(tags, strong(current))).toBe(expected);
      }),
    );
  });

  it('a weak tag never satisfies If-Match, even with the same opaque tag', () => {
    fc.assert(
      fc.property(opaque, (o) => {
        expect(ifMatchHolds([{ weak: true, opaque: o }], strong(o))).toBe(false);
        expect(ifMatchHolds([strong(o)], strong(o))).toBe(true);
      }),
    );
  });

  it('* matches any existing resource and no missing one', () => {
    fc.assert(
      fc.property(opaque, (o) => {
        expect(ifMatchHolds('*', strong(o))).toBe(true);
        expect(ifNoneMatchHolds('*', strong(o))).toBe(false);
      }),
    );
    expect(ifMatchHolds('*', null)).toBe(false);
    expect(ifNoneMatchHolds('*', null)).toBe(true);
  });

  it('If-None-Match fails (304) exactly when a tag matches by weak comparison', () => {
    fc.assert(
      fc.property(listHeader, opaque, ({ tags }, current) => {
        const named = tags.some((t) => t.opaque === current);
        expect(ifNoneMatchHolds(tags, strong(current))).toBe(!named);
      }),
    );
  });
});

describe('entity tags of representations', () => {
  const json = fc.jsonValue();

  it('are strong, 22 base64url characters, equal for equal values in any key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), json), (value) => {
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        const tag = entityTagOf(value);
        expect(tag.weak).toBe(false);
        expect(tag.opaque).toMatch(/^[A-Za-z0-9_-]{22}$/);
        expect(entityTagOf(reversed)).toEqual(tag);
        expect(etagOf(value)).toBe(`"${tag.opaque}"`);
        expect(parseEntityTags(etagOf(value))).toEqual([tag]);
      }),
    );
  });

  it('differ when a field differs', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        fc.pre(a !== b);
        expect(etagOf({ id: 'x', updatedAt: a })).not.toBe(etagOf({ id: 'x', updatedAt: b }));
      }),
    );
  });

  it('canonical JSON sorts keys at every depth and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { f: 1, e: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[3,{"e":2,"f":1}]},"b":1}',
    );
  });
});

describe('requireIfMatch', () => {
  const current = { id: 'u1', name: 'Solsikken', updatedAt: '2026-11-22T09:00:00.000Z' };
  const tag = etagOf(current);

  it('passes without a header, with the current tag, with * or a list naming it', () => {
    expect(() => requireIfMatch(undefined, current, 'unit')).not.toThrow();
    expect(() => requireIfMatch(tag, current, 'unit')).not.toThrow();
    expect(() => requireIfMatch('*', current, 'unit')).not.toThrow();
    expect(() => requireIfMatch(`"old", ${tag}`, current, 'unit')).not.toThrow();
  });

  it('is 412 for another tag, a weak one, or no current resource', () => {
    for (const [header, value] of [
      ['"old"', current],
      [`W/${tag}`, current],
      [tag, { ...current, name: 'Mælkebøtten' }],
      ['*', null],
    ] as const) {
      let thrown: unknown;
      try {
        requireIfMatch(header, value, 'unit');
      } catch (error) {
        thrown = error;
      }
      expect(thrown, header).toBeInstanceOf(PreconditionFailedError);
      expect((thrown as PreconditionFailedError).status).toBe(412);
      expect((thrown as PreconditionFailedError).slug).toBe('precondition-failed');
    }
  });
});
