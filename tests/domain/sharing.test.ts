import { describe, expect, it } from 'vitest';
import {
  basesFor,
  type ConsentFacts,
  consentStatus,
  type GuidelineFacts,
  notesBases,
  type SharingContext,
} from '../../src/domain/sharing.js';

const school = { unitId: 'S', unitKind: 'school', startDate: '2026-08-01' };
const fromKindergarten = { unitId: 'K', unitKind: 'kindergarten', date: '2026-05-01' };

const consent = (over: Partial<ConsentFacts> = {}): ConsentFacts => ({
  id: 'c1',
  purpose: 'transition_handover',
  recipientUnitId: 'S',
  recipientRole: null,
  categories: ['assessments'],
  givenOn: '2026-06-01',
  validUntil: null,
  revokedAt: null,
  ...over,
});
const guideline = (over: Partial<GuidelineFacts> = {}): GuidelineFacts => ({
  id: 'g1',
  fromUnitKind: 'kindergarten',
  toUnitKind: 'school',
  enabled: true,
  categories: ['assessments', 'recommendations'],
  ...over,
});
const ctx = (over: Partial<SharingContext> = {}): SharingContext => ({
  viewer: { role: 'unit_staff', unitIds: ['S'] },
  today: '2026-11-22',
  receiving: [school],
  consents: [],
  guidelines: [],
  ...over,
});

describe('sharing at transitions', () => {
  it('withholds other units’ data without a basis; own units and unlimited roles see it', () => {
    expect(basesFor(ctx(), fromKindergarten, 'assessments')).toEqual([]);
    expect(basesFor(ctx(), { ...fromKindergarten, unitId: 'S' }, 'assessments')).toEqual([
      { kind: 'own_unit' },
    ]);
    expect(
      basesFor(
        ctx({ viewer: { role: 'municipality_admin', unitIds: [] } }),
        fromKindergarten,
        'assessments',
      ),
    ).toEqual([{ kind: 'role' }]);
  });

  it('a consent counts while in force, for its recipient and categories only', () => {
    const shares = (c: ConsentFacts, category: 'assessments' | 'recommendations' = 'assessments') =>
      basesFor(ctx({ consents: [c] }), fromKindergarten, category).length > 0;
    expect(shares(consent())).toBe(true);
    expect(shares(consent(), 'recommendations')).toBe(false);
    expect(shares(consent({ validUntil: '2026-11-22' }))).toBe(true);
    expect(shares(consent({ validUntil: '2026-11-21' }))).toBe(false);
    expect(shares(consent({ revokedAt: new Date('2026-11-01T00:00:00Z') }))).toBe(false);
    expect(shares(consent({ givenOn: '2026-11-23' }))).toBe(false);
    expect(shares(consent({ recipientUnitId: 'O' }))).toBe(false);
    expect(shares(consent({ recipientUnitId: null, recipientRole: 'unit_staff' }))).toBe(true);
    expect(shares(consent({ recipientUnitId: null, recipientRole: 'unit_leader' }))).toBe(false);
    expect(consentStatus(consent({ validUntil: '2026-11-21' }), '2026-11-22')).toBe('expired');
  });

  it('a handover covers what was recorded before the child started; sharing covers all', () => {
    const onStart = { ...fromKindergarten, date: school.startDate };
    expect(basesFor(ctx({ consents: [consent()] }), onStart, 'assessments')).toEqual([]);
    expect(
      basesFor(
        ctx({ consents: [consent({ purpose: 'interdisciplinary_sharing' })] }),
        onStart,
        'assessments',
      ),
    ).toHaveLength(1);
    expect(basesFor(ctx({ guidelines: [guideline()] }), onStart, 'assessments')).toEqual([]);
  });

  it('a guideline counts when on, for its transition type and categories, never for notes', () => {
    const shares = (g: GuidelineFacts) =>
      basesFor(ctx({ guidelines: [g] }), fromKindergarten, 'assessments').length > 0;
    expect(shares(guideline())).toBe(true);
    expect(shares(guideline({ enabled: false }))).toBe(false);
    expect(shares(guideline({ fromUnitKind: 'nursery' }))).toBe(false);
    expect(shares(guideline({ toUnitKind: 'after_school' }))).toBe(false);
    expect(shares(guideline({ categories: ['recommendations'] }))).toBe(false);
    expect(
      notesBases(ctx({ guidelines: [guideline({ categories: ['notes'] })] }), fromKindergarten),
    ).toEqual([]);
    expect(
      notesBases(ctx({ consents: [consent({ categories: ['notes'] })] }), fromKindergarten),
    ).toHaveLength(1);
  });
});
