import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import {
  type LetterFacts,
  letterLanguages,
  longDate,
  parentLetter,
} from '../../src/domain/parent-letter.js';

const base: LetterFacts = {
  language: 'da',
  municipality: 'Aarhus Kommune',
  unit: 'Solsikken',
  childGivenName: 'Ida',
  assessedOn: '2026-11-20',
  ruler: 'TOPI',
  zone: 'yellow',
  previousZone: 'green',
  reason: 'zone_change',
  steps: [{ title: 'Samtale med forældrene', dueOn: '2026-12-04' }],
  retentionYears: 5,
  today: '2026-11-22',
};

const all = (letter: ReturnType<typeof parentLetter>) =>
  [
    letter.title,
    letter.from,
    letter.greeting,
    letter.closing,
    ...letter.sections.flatMap((s) => [s.heading, ...s.paragraphs, ...s.bullets]),
  ].join('\n');

describe('parent letter', () => {
  it('says what was assessed, what happens next and the parents’ rights (da)', () => {
    const letter = parentLetter(base);
    expect(letter.title).toBe('Om Idas trivsel');
    expect(letter.greeting).toBe('Kære forældre til Ida');
    expect(letter.from).toBe('Solsikken, Aarhus Kommune · 22. november 2026');
    const text = all(letter);
    expect(text).toContain('Den 20. november 2026 har vi vurderet Idas trivsel med TOPI.');
    expect(text).toContain('Vurderingen er nu gul; sidst var den grøn.');
    expect(letter.sections[1]?.bullets).toEqual([
      'Samtale med forældrene (senest 4. december 2026)',
    ]);
    expect(text).toContain('artikel 6, stk. 1, litra e');
    expect(text).toContain('slettes 5 år efter');
    expect(text).toContain('Datatilsynet');
    expect(letter.sections.map((s) => s.heading)).toEqual([
      'Hvad vi har vurderet',
      'Hvad der sker nu',
      'Hvad vi registrerer, og hvorfor',
      'Hvem kan se oplysningerne',
      'Hvor længe vi gemmer dem',
      'Jeres rettigheder',
    ]);
  });

  it('a first assessment without steps, in English, without a recorded name', () => {
    const letter = parentLetter({
      ...base,
      language: 'en',
      childGivenName: null,
      zone: 'green',
      previousZone: null,
      reason: 'first_assessment',
      steps: [],
    });
    expect(letter.greeting).toBe('Dear parents of your child');
    const text = all(letter);
    expect(text).toContain("On 20 November 2026 we assessed your child's well-being with TOPI");
    expect(text).toContain('The assessment is green.');
    expect(letter.sections[1]?.paragraphs[0]).toMatch(/^Nothing more needs to happen now/);
    expect(text).toContain('deleted 5 years after');
  });

  it('writes dates at the month and year ends', () => {
    expect(longDate('2026-01-01', 'da')).toBe('1. januar 2026');
    expect(longDate('2026-12-31', 'da')).toBe('31. december 2026');
    expect(longDate('2028-02-29', 'en')).toBe('29 February 2028');
    expect(longDate('2026-01-01', 'uk')).toBe('1 січня 2026 р.');
    expect(longDate('2026-12-31', 'uk')).toBe('31 грудня 2026 р.');
  });

  it('counts years in Ukrainian with its plural forms', () => {
    const kept = (retentionYears: number) =>
      parentLetter({ ...base, language: 'uk', retentionYears }).sections[4]?.paragraphs[0];
    expect(kept(1)).toContain('через 1 рік ');
    expect(kept(2)).toContain('через 2 роки ');
    expect(kept(4)).toContain('через 4 роки ');
    expect(kept(5)).toContain('через 5 років ');
    expect(kept(11)).toContain('через 11 років ');
    expect(kept(21)).toContain('через 21 рік ');
    expect(kept(22)).toContain('через 22 роки ');
  });

  it('always has every section, the facts it is given and nothing undefined', () => {
    const zone = fc.constantFrom<'green' | 'yellow' | 'red'>('green', 'yellow', 'red');
    fc.assert(
      fc.property(
        fc.record({
          language: fc.constantFrom(...letterLanguages),
          childGivenName: fc.option(fc.string({ minLength: 1, maxLength: 20 })),
          day: fc.integer({ min: 0, max: 4000 }),
          zone,
          previousZone: fc.option(zone),
          steps: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 30 }), fc.nat(60)), {
            maxLength: 4,
          }),
          retentionYears: fc.integer({ min: 1, max: 100 }),
        }),
        (r) => {
          const assessedOn = addDays('2020-01-01', r.day);
          const letter = parentLetter({
            ...base,
            language: r.language,
            childGivenName: r.childGivenName,
            assessedOn,
            zone: r.zone,
            previousZone: r.previousZone,
            reason: r.previousZone === null ? 'first_assessment' : 'zone_change',
            steps: r.steps.map(([title, days]) => ({ title, dueOn: addDays(assessedOn, days) })),
            retentionYears: r.retentionYears,
          });
          const text = all(letter);
          expect(letter.sections).toHaveLength(6);
          expect(text).not.toMatch(/undefined|NaN|\[object/);
          expect(text).toContain(longDate(assessedOn, r.language));
          expect(text).toContain(String(r.retentionYears));
          expect(letter.sections[1]?.bullets).toHaveLength(r.steps.length);
          if (r.childGivenName) expect(letter.greeting).toContain(r.childGivenName);
        },
      ),
    );
  });
});
