import { describe, expect, it } from 'vitest';
import { conflictingEnrolments, enrolmentPeriodErrors } from '../../src/domain/enrolments.js';

describe('enrolmentPeriodErrors', () => {
  it('no errors for a period from the birth date on, open or closed', () => {
    expect(enrolmentPeriodErrors({ start: '2024-01-01', end: null }, '2024-01-01', 'body')).toEqual(
      [],
    );
    expect(
      enrolmentPeriodErrors({ start: '2024-01-01', end: '2024-01-01' }, '2023-05-01', 'body'),
    ).toEqual([]);
  });

  it('names both broken rules under the given path', () => {
    expect(
      enrolmentPeriodErrors(
        { start: '2023-01-01', end: '2022-12-31' },
        '2023-02-01',
        'body.enrolment',
      ),
    ).toEqual([
      { path: 'body.enrolment.endDate', message: 'is before startDate', code: 'before_start' },
      {
        path: 'body.enrolment.startDate',
        message: 'is before the birth date',
        code: 'before_birth',
      },
    ]);
  });
});

describe('conflictingEnrolments', () => {
  const school = { id: 'a', unitId: 'u1', unitKind: 'school', start: '2024-08-01', end: null };
  it('another school at the same time conflicts; after-school care does not', () => {
    const other = { unitId: 'u2', unitKind: 'school', start: '2025-01-01', end: null };
    expect(conflictingEnrolments(other, [school])).toEqual([school]);
    const club = { unitId: 'u3', unitKind: 'club', start: '2025-01-01', end: null };
    expect(conflictingEnrolments(club, [school])).toEqual([]);
  });

  it('a changed enrolment does not conflict with itself', () => {
    expect(conflictingEnrolments({ ...school, start: '2024-07-01' }, [school])).toEqual([]);
  });
});
