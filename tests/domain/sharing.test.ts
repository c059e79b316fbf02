import { describe, expect, it } from 'vitest';
import {
  basesFor,
  type ConsentFacts,
  confirmationRefusal,
  consentStatus,
  type GuidelineFacts,
  mayGiveConsent,
  needsConfirmation,
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
  givenByRelation: 'parent',
  givenOn: '2026-06-01',
  validUntil: null,
  revokedAt: null,
  awaitingConfirmation: false,
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

  it('a receiving unit cannot grant itself access', () => {
    // Only holders of parental authority, or the child from 15 on the day it is given.
    expect(mayGiveConsent('parent', '2020-03-01', '2026-06-15')).toBe(true);
    expect(mayGiveConsent('guardian', '2020-03-01', '2026-06-15')).toBe(true);
    expect(mayGiveConsent('other', '2000-01-01', '2026-06-15')).toBe(false);
    expect(mayGiveConsent('child', '2011-06-16', '2026-06-15')).toBe(false);
    expect(mayGiveConsent('child', '2011-06-15', '2026-06-15')).toBe(true);

    // A unit-limited recorder's consent for its own unit, or for a role, waits; others do not.
    const staffS = { role: 'unit_staff', unitIds: ['S'] };
    expect(needsConfirmation(staffS, 'S')).toBe(true);
    expect(needsConfirmation(staffS, null)).toBe(true);
    expect(needsConfirmation(staffS, 'O')).toBe(false);
    expect(needsConfirmation({ role: 'municipality_admin', unitIds: [] }, 'S')).toBe(false);

    // Waiting, expired or given by "other" (recorded before the rule): no basis.
    const shares = (c: ConsentFacts) =>
      basesFor(ctx({ consents: [c] }), fromKindergarten, 'assessments').length > 0;
    expect(shares(consent({ awaitingConfirmation: true }))).toBe(false);
    expect(consentStatus(consent({ awaitingConfirmation: true }), '2026-11-22')).toBe(
      'pending_confirmation',
    );
    expect(shares(consent({ givenByRelation: 'other' }))).toBe(false);

    // Confirmed by a leader of the recipient unit or an administrator, never the recorder.
    const waiting = { createdBy: 'k-staff', recipientUnitId: 'S' };
    expect(
      confirmationRefusal({ id: 'k-lead', role: 'unit_leader', unitIds: ['S'] }, waiting),
    ).toBeNull();
    expect(
      confirmationRefusal({ id: 'k-admin', role: 'municipality_admin', unitIds: [] }, waiting),
    ).toBeNull();
    expect(
      confirmationRefusal({ id: 'k-lead', role: 'unit_leader', unitIds: ['O'] }, waiting),
    ).toBe('not_recipient_leader');
    expect(
      confirmationRefusal(
        { id: 'k-lead', role: 'unit_leader', unitIds: ['S'] },
        {
          createdBy: 'k-lead',
          recipientUnitId: 'S',
        },
      ),
    ).toBe('own_consent');
    expect(
      confirmationRefusal(
        { id: 'k-lead', role: 'unit_leader', unitIds: ['S'] },
        {
          createdBy: 'k-staff',
          recipientUnitId: null,
        },
      ),
    ).toBe('not_recipient_leader');
  });
});
