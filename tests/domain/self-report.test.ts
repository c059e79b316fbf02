import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rulerDefects } from '../../src/domain/rulers/validate.js';
import {
  ageRefusal,
  classifySelfReport,
  countsInStatistics,
  type SelfReportAnswers,
  type SelfReportView,
  SIDE_BY_SIDE_DAYS,
  selfReportAudience,
  selfReportDefects,
  selfReportPurposes,
  selfReportRuler,
  sideBySide,
} from '../../src/domain/self-report.js';

const ruler =
  selfReportRuler('self-report-10-16') ??
  (() => {
    throw new Error('no ruler');
  })();
const keys = ruler.definition.items.map((i) => i.key);
const runs = { numRuns: 300 };
const rank = { red: 0, yellow: 1, green: 2 } as const;

/** Answers in the order of the questions: a face 1–5 or a skip. */
const answersArb = fc
  .array(fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant('na' as const)), {
    minLength: keys.length,
    maxLength: keys.length,
  })
  .map(
    (values) => Object.fromEntries(keys.map((k, i) => [k, values[i] ?? 'na'])) as SelfReportAnswers,
  );

const of = (...values: (number | 'na')[]): SelfReportAnswers =>
  Object.fromEntries(keys.map((k, i) => [k, values[i] ?? 'na']));

describe('the self-report ruler', () => {
  it('is a valid ruler with no red flags, for ages 10 to 16', () => {
    expect(rulerDefects(ruler.definition)).toEqual([]);
    expect(ruler.definition.items.some((i) => i.redFlag)).toBe(false);
    expect([ruler.minAge, ruler.maxAge]).toEqual([10, 16]);
    expect(ruler.smileys.map((s) => s.value)).toEqual(ruler.definition.levels.map((l) => l.value));
    for (const item of ruler.definition.items) {
      expect(item.label.da.length).toBeGreaterThan(0);
      expect(item.label.en.length).toBeGreaterThan(0);
    }
  });

  it('classifies at the exact band boundaries', () => {
    // Mean exactly 4.0: green; 23/6 = 3.83: yellow; exactly 3.0: yellow; 17/6 = 2.83: red.
    expect(classifySelfReport(ruler, of(4, 4, 4, 4, 4, 4)).zone).toBe('green');
    expect(classifySelfReport(ruler, of(4, 4, 4, 4, 4, 3)).zone).toBe('yellow');
    expect(classifySelfReport(ruler, of(3, 3, 3, 3, 3, 3)).zone).toBe('yellow');
    expect(classifySelfReport(ruler, of(3, 3, 3, 3, 3, 2)).zone).toBe('red');
    expect(classifySelfReport(ruler, of(5, 5, 5, 5, 5, 5))).toMatchObject({
      zone: 'green',
      score: 5,
    });
    expect(classifySelfReport(ruler, of(1, 1, 1, 1, 1, 1)).zone).toBe('red');
    // With skips the mean is of the answered: 4 answered of exactly 4.0.
    expect(classifySelfReport(ruler, of(4, 4, 4, 4, 'na', 'na'))).toMatchObject({
      zone: 'green',
      explanation: { answeredItems: 4, skippedItems: 2 },
    });
  });

  it('gives no zone below four answered questions, and a zone at four', () => {
    expect(classifySelfReport(ruler, of(5, 5, 5, 'na', 'na', 'na'))).toMatchObject({
      zone: null,
      score: null,
      explanation: { outcome: 'insufficient_data', answeredItems: 3 },
    });
    expect(classifySelfReport(ruler, {}).zone).toBeNull();
    expect(classifySelfReport(ruler, of(5, 5, 5, 5, 'na', 'na')).zone).toBe('green');
  });

  it('a lowest face keeps a green mean yellow, and says so', () => {
    // 26/6 = 4.33 would be green.
    const r = classifySelfReport(ruler, of(5, 5, 5, 5, 5, 1));
    expect(r.zone).toBe('yellow');
    expect(r.explanation).toMatchObject({
      cappedFrom: 'green',
      lowestAnswers: [keys[5]],
      band: { zone: 'green' },
    });
    expect(r.explanation.summary).toMatch(/^Yellow: the mean alone would be green/);
    // A lowest face in a yellow or red mean changes nothing.
    expect(classifySelfReport(ruler, of(1, 3, 3, 3, 3, 5)).explanation.cappedFrom).toBeNull();
  });

  it('property: no zone exactly when fewer than four are answered', () => {
    fc.assert(
      fc.property(answersArb, (answers) => {
        const answered = Object.values(answers).filter((v) => v !== 'na').length;
        expect(classifySelfReport(ruler, answers).zone === null).toBe(answered < 4);
      }),
      runs,
    );
  });

  it('property: green exactly when the mean is at least 4 and no question got the lowest face', () => {
    fc.assert(
      fc.property(answersArb, (answers) => {
        const values = Object.values(answers).filter((v): v is number => v !== 'na');
        fc.pre(values.length >= 4);
        const sum = values.reduce((a, b) => a + b, 0);
        const zone = classifySelfReport(ruler, answers).zone;
        // Integer comparisons: sum >= 4n ⇔ mean >= 4 exactly.
        const expected =
          sum >= 4 * values.length && !values.includes(1)
            ? 'green'
            : sum >= 3 * values.length
              ? 'yellow'
              : 'red';
        expect(zone).toBe(expected);
      }),
      runs,
    );
  });

  it('property: a happier answer never makes the result worse', () => {
    fc.assert(
      fc.property(answersArb, fc.integer({ min: 0, max: keys.length - 1 }), (answers, i) => {
        const key = keys[i] as string;
        const before = answers[key];
        fc.pre(typeof before === 'number' && before < 5);
        const after = { ...answers, [key]: (before as number) + 1 };
        const a = classifySelfReport(ruler, answers).zone;
        const b = classifySelfReport(ruler, after).zone;
        if (a !== null && b !== null) expect(rank[b]).toBeGreaterThanOrEqual(rank[a]);
        else expect(a).toBe(b);
      }),
      runs,
    );
  });

  it('property: the order of the answers does not matter, and a skip is an absence', () => {
    fc.assert(
      fc.property(answersArb, (answers) => {
        const reversed = Object.fromEntries(Object.entries(answers).reverse());
        const withoutSkips = Object.fromEntries(
          Object.entries(answers).filter(([, v]) => v !== 'na'),
        );
        const r = classifySelfReport(ruler, answers);
        expect(classifySelfReport(ruler, reversed)).toEqual(r);
        expect(classifySelfReport(ruler, withoutSkips).zone).toBe(r.zone);
        expect(classifySelfReport(ruler, withoutSkips).score).toBe(r.score);
      }),
      runs,
    );
  });

  it('checks answers against the ruler', () => {
    expect(selfReportDefects(ruler, of(1, 2, 3, 4, 5, 'na'))).toEqual([]);
    expect(
      selfReportDefects(ruler, { [keys[0] as string]: 0, nope: 3 }, 'body').map((d) => [
        d.path,
        d.code,
      ]),
    ).toEqual([
      [`body.answers.${keys[0]}`, 'unknown_level'],
      ['body.answers.nope', 'unknown_item'],
    ]);
  });
});

describe('age limits', () => {
  it('admits 10 to 16 inclusive on the report day, at the exact birthdays', () => {
    // Born 2016-11-20: ten on 2026-11-20.
    expect(ageRefusal(ruler, '2016-11-20', '2026-11-19')).toMatchObject({ age: 9 });
    expect(ageRefusal(ruler, '2016-11-20', '2026-11-20')).toBeNull();
    // Born 2009-11-21: seventeen on 2026-11-21.
    expect(ageRefusal(ruler, '2009-11-21', '2026-11-20')).toBeNull();
    expect(ageRefusal(ruler, '2009-11-21', '2026-11-21')).toMatchObject({ age: 17 });
    // A leap-day child is ten on 28 February of a common year.
    expect(ageRefusal(ruler, '2016-02-29', '2026-02-28')).toBeNull();
    expect(ageRefusal(ruler, '2016-02-29', '2026-02-27')).toMatchObject({ age: 9 });
  });

  it('property: refused exactly outside [10, 16] whole years', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2000, max: 2020 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: -1, max: 1 }),
        (year, month, day, years, shift) => {
          const birth = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          // The birthday `years` later, a day before or after.
          const on = new Date(Date.UTC(year + years, month - 1, day + shift))
            .toISOString()
            .slice(0, 10);
          const age = shift < 0 ? years - 1 : years;
          const refused = ageRefusal(ruler, birth, on) !== null;
          expect(refused).toBe(age < 10 || age > 16);
        },
      ),
      runs,
    );
  });
});

describe('purpose limitation: selfReportAudience', () => {
  const roles = [
    'platform_admin',
    'municipality_admin',
    'unit_leader',
    'unit_staff',
    'social_worker',
    'analyst',
    'integration',
  ];

  it('case views follow the purpose stated to the child (the documented matrix)', () => {
    const view = (purpose: (typeof selfReportPurposes)[number], role: string, ownUnit = true) =>
      selfReportAudience(purpose, { role, ownUnit, involved: role === 'social_worker' });
    const table = Object.fromEntries(
      roles.map((role) => [role, selfReportPurposes.map((p) => view(p, role))]),
    );
    expect(table).toEqual({
      // dialogue, support, statistics_only
      platform_admin: ['none', 'none', 'none'],
      municipality_admin: ['existence', 'existence', 'none'],
      unit_leader: ['full', 'full', 'none'],
      unit_staff: ['full', 'full', 'none'],
      social_worker: ['none', 'full', 'none'],
      analyst: ['none', 'none', 'none'],
      integration: ['none', 'none', 'none'],
    } satisfies Record<string, SelfReportView[]>);
    // Another unit's people see nothing; an uninvolved social worker nothing.
    for (const p of selfReportPurposes) {
      expect(view(p, 'unit_staff', false)).toBe('none');
      expect(view(p, 'unit_leader', false)).toBe('none');
      expect(
        selfReportAudience(p, { role: 'social_worker', ownUnit: false, involved: false }),
      ).toBe('none');
    }
  });

  it('exports and events never carry a report; statistics only statistics_only; access requests all', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...selfReportPurposes),
        fc.constantFrom(...roles),
        fc.boolean(),
        fc.boolean(),
        (purpose, role, ownUnit, involved) => {
          const viewer = { role, ownUnit, involved };
          expect(selfReportAudience(purpose, viewer, 'export')).toBe('none');
          expect(selfReportAudience(purpose, viewer, 'event')).toBe('none');
          expect(selfReportAudience(purpose, viewer, 'access_request')).toBe('full');
          expect(selfReportAudience(purpose, viewer, 'statistics') !== 'none').toBe(
            purpose === 'statistics_only',
          );
          // Never more than a case view needs: statistics-only reports are in no case view.
          if (purpose === 'statistics_only') {
            expect(selfReportAudience(purpose, viewer, 'case_view')).toBe('none');
          }
        },
      ),
    );
    expect(selfReportPurposes.filter(countsInStatistics)).toEqual(['statistics_only']);
  });
});

describe('side by side with an assessment', () => {
  const r = (id: string, reportedOn: string) => ({ id, reportedOn });

  it('takes the nearest within the window, the later on a tie', () => {
    expect(sideBySide('2026-11-01', [])).toBeNull();
    expect(
      sideBySide('2026-11-01', [r('a', '2026-10-20'), r('b', '2026-11-05'), r('c', '2026-12-20')]),
    ).toEqual(r('b', '2026-11-05'));
    expect(sideBySide('2026-11-01', [r('a', '2026-10-29'), r('b', '2026-11-04')])?.id).toBe('b');
    // Exactly at the edge of the window, and one day beyond.
    expect(sideBySide('2026-11-01', [r('a', '2026-12-31')])?.id).toBe('a');
    expect(SIDE_BY_SIDE_DAYS).toBe(60);
    expect(sideBySide('2026-11-01', [r('a', '2027-01-01')])).toBeNull();
    expect(sideBySide('2026-11-01', [r('a', '2026-09-02')])?.id).toBe('a');
    expect(sideBySide('2026-11-01', [r('a', '2026-09-01')])).toBeNull();
  });

  it('property: the choice does not depend on the order of the reports', () => {
    const dateArb = fc
      .integer({ min: -120, max: 120 })
      .map((d) => new Date(Date.UTC(2026, 10, 1 + d)).toISOString().slice(0, 10));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.uuid(), dateArb), { selector: (x) => x[0], maxLength: 8 }),
        (pairs) => {
          const reports = pairs.map(([id, d]) => r(id, d));
          const a = sideBySide('2026-11-01', reports);
          expect(sideBySide('2026-11-01', [...reports].reverse())).toEqual(a);
        },
      ),
      runs,
    );
  });
});
