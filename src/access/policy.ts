import { type ExpressionBuilder, type RawBuilder, type Selectable, sql } from 'kysely';
import type { Principal } from '../auth/principal.js';
import type { Executor } from '../db/database.js';
import type { ConsentsTable, DB } from '../db/schema.js';
import {
  type Basis,
  basesFor,
  type ConsentFacts,
  type ConsentPurpose,
  type DataCategory,
  isUnitLimitedViewer,
  type SharedItem,
  type SharingContext,
  type WithheldReason,
  type WithheldUnit,
  withheldByUnit,
} from '../domain/sharing.js';
import { ForbiddenError, NotFoundError, ProblemError } from '../errors.js';

/**
 * Who may see and change what: the one place that answers "may this principal see or change
 * this child, unit, assessment, step, flag, consent". A policy is bound to one principal and one
 * day (Copenhagen) when the request session is built; services ask it, and put the filters it
 * returns into their queries, so a rule is written once. Row-level security (by municipality)
 * stands behind every one of these answers.
 *
 * The rules, in short:
 * - platform administrators act in no municipality (403 on municipality data), but may manage
 *   any municipality named in a path;
 * - a principal of another municipality gets 404 for anything of this one, never 403;
 * - unit-limited keys see the children enrolled in their units today, and the children their
 *   units still owe follow-up (an open step: duties outlive the enrolment, Barnets Lov § 133);
 *   they may change only what is recorded about children enrolled in their units;
 * - social workers see the children whose follow-up involves social work (a step for child
 *   services or a school social worker, a concern report, an assignment);
 * - another unit's assessments and notes reach a unit-limited key only under a consent in force
 *   or a transition guideline of the municipality (see domain/sharing.ts for the rules).
 */
export class AccessPolicy {
  constructor(
    readonly principal: Principal,
    /** Today in Copenhagen: enrolments, consents and guidelines are judged on this day. */
    readonly today: string,
  ) {}

  /** The municipality the principal acts in: 403 for platform administrators. */
  get municipalityId(): string {
    return municipalityOf(this.principal);
  }

  /** Whether the principal is limited to named units (then it sees only their children). */
  get isUnitLimited(): boolean {
    return this.principal.unitIds.length > 0;
  }

  get unitIds(): readonly string[] {
    return this.principal.unitIds;
  }

  get isSocialWorker(): boolean {
    return this.principal.role === 'social_worker';
  }

  /** 403 unless the principal may act in the unit (principals without unit limits always may). */
  requireUnit(unitId: string): void {
    requireUnitAccess(this.principal, unitId);
  }

  /** Whether the principal may act in the unit. */
  mayActInUnit(unitId: string): boolean {
    return !this.isUnitLimited || this.principal.unitIds.includes(unitId);
  }

  /** The municipality named in a path, if the principal may act in it (404 otherwise). */
  requireMunicipality(municipalityId: string): string {
    return requireMunicipalityAccess(this.principal, municipalityId);
  }

  /** The children the principal may see (read): for `visibleChildren` and the child queries. */
  children(): Visibility {
    return {
      municipalityId: this.municipalityId,
      unitIds: this.principal.unitIds,
      today: this.today,
      involvedWith: this.isSocialWorker
        ? { kind: this.principal.kind, id: this.principal.id }
        : undefined,
    };
  }

  /**
   * The children whose records the principal may change (the child, enrolments, assessments,
   * consents): a unit that only still owes steps for a child who left may close them, nothing
   * more.
   */
  childrenToChange(): Visibility {
    return { ...this.children(), enrolledOnly: true };
  }

  /** Who may see which steps (see `stepsVisibleTo`). */
  steps(): StepAudience {
    return {
      municipalityId: this.municipalityId,
      unitIds: this.principal.unitIds,
      socialWorker: this.isSocialWorker,
      today: this.today,
    };
  }

  /** Filter of the flags the principal may see (unit-limited keys: of children enrolled now). */
  flags() {
    const unitIds = this.principal.unitIds;
    const today = this.today;
    return (eb: ExpressionBuilder<DB, 'flags'>) =>
      unitIds.length === 0
        ? eb.and([])
        : eb.and([
            eb('flags.unit_id', 'in', unitIds),
            eb.exists(
              eb
                .selectFrom('enrolments as visible')
                .select('visible.id')
                .whereRef('visible.child_id', '=', 'flags.child_id')
                .where('visible.unit_id', 'in', unitIds)
                .where((e) =>
                  e.or([e('visible.end_date', 'is', null), e('visible.end_date', '>=', today)]),
                ),
            ),
          ]);
  }

  /** Whether the principal may see the child. */
  async seesChild(db: Executor, childId: string): Promise<boolean> {
    const row = await db
      .selectFrom('children')
      .select('children.id')
      .where('children.municipality_id', '=', this.municipalityId)
      .where('children.id', '=', childId)
      .where(visibleChildren(this.children()))
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * The facts the sharing rules need for one child, read in the caller's transaction: the
   * child's current enrolments in the principal's units, its consents and the municipality's
   * enabled guidelines. Principals not limited to units need none of them.
   */
  async sharing(db: Executor, childId: string): Promise<SharingContext> {
    const principal = this.principal;
    const today = this.today;
    const viewer = { role: principal.role, unitIds: principal.unitIds };
    if (!this.isUnitLimited) {
      return { viewer, today, receiving: [], consents: [], guidelines: [] };
    }
    const municipalityId = this.municipalityId;
    // One after another: a transaction's queries cannot overlap on its one connection.
    const [enrolments, consents, guidelines] = [
      await db
        .selectFrom('enrolments')
        .innerJoin('units', 'units.id', 'enrolments.unit_id')
        .select([
          'enrolments.unit_id',
          'units.kind as unit_kind',
          'enrolments.start_date',
          'enrolments.end_date',
        ])
        .where('enrolments.municipality_id', '=', municipalityId)
        .where('enrolments.child_id', '=', childId)
        .where('enrolments.unit_id', 'in', principal.unitIds)
        .orderBy('enrolments.start_date')
        .orderBy('enrolments.id')
        .execute(),
      await db
        .selectFrom('consents')
        .selectAll()
        .where('municipality_id', '=', municipalityId)
        .where('child_id', '=', childId)
        .orderBy('created_at')
        .orderBy('id')
        .execute(),
      await db
        .selectFrom('transition_guidelines')
        .select(['id', 'from_unit_kind', 'to_unit_kind', 'enabled', 'categories'])
        .where('municipality_id', '=', municipalityId)
        .where('enabled', '=', true)
        .orderBy('from_unit_kind')
        .orderBy('to_unit_kind')
        .execute(),
    ];
    return {
      viewer,
      today,
      receiving: enrolments
        .filter((e) => e.end_date === null || e.end_date >= today)
        .map((e) => ({ unitId: e.unit_id, unitKind: e.unit_kind, startDate: e.start_date })),
      consents: consents.map(consentFacts),
      guidelines: guidelines.map((g) => ({
        id: g.id,
        fromUnitKind: g.from_unit_kind,
        toUnitKind: g.to_unit_kind,
        enabled: g.enabled,
        categories: g.categories,
      })),
    };
  }

  /**
   * Splits values into those the viewer may see for the category (with their bases) and those
   * withheld. `locate` says which unit recorded a value and the date it is about.
   */
  async judge<T>(
    db: Executor,
    ctx: SharingContext,
    values: readonly T[],
    locate: (value: T) => { unitId: string; date: string },
    category: Exclude<DataCategory, 'notes'>,
  ): Promise<{ shown: Judged<T>[]; withheld: Judged<T>[] }> {
    const located = values.map((value) => ({ value, ...locate(value) }));
    if (!isUnitLimitedViewer(ctx.viewer)) {
      const bases: Basis[] = [{ kind: 'role' }];
      return {
        shown: located.map((l) => ({
          value: l.value,
          item: { unitId: l.unitId, unitKind: 'unknown', date: l.date },
          bases,
        })),
        withheld: [],
      };
    }
    const ids = [...new Set(located.map((l) => l.unitId))];
    const kinds = new Map<string, string>();
    if (ids.length > 0) {
      const rows = await db
        .selectFrom('units')
        .select(['id', 'kind'])
        .where('municipality_id', '=', this.municipalityId)
        .where('id', 'in', ids)
        .execute();
      for (const r of rows) kinds.set(r.id, r.kind);
    }
    const shown: Judged<T>[] = [];
    const withheld: Judged<T>[] = [];
    for (const l of located) {
      const item = { unitId: l.unitId, unitKind: kinds.get(l.unitId) ?? 'unknown', date: l.date };
      const bases = basesFor(ctx, item, category);
      (bases.length > 0 ? shown : withheld).push({ value: l.value, item, bases });
    }
    return { shown, withheld };
  }
}

/** The municipality a municipality-bound principal acts in (platform administrators have none). */
export function municipalityOf(principal: Principal): string {
  if (!principal.municipalityId) {
    throw new ForbiddenError('Platform administrator keys do not act inside a municipality.');
  }
  return principal.municipalityId;
}

/**
 * The municipality a principal may act in, given the municipality named in the path.
 * A principal of another municipality gets 404 (never 403), so ids of other tenants reveal
 * nothing; platform administrators may act in any municipality.
 */
export function requireMunicipalityAccess(principal: Principal, municipalityId: string): string {
  if (principal.role === 'platform_admin' || principal.municipalityId === municipalityId) {
    return municipalityId;
  }
  throw new NotFoundError('municipality', municipalityId);
}

/** 403 unless the principal may act in the unit (principals without unit limits always may). */
export function requireUnitAccess(principal: Principal, unitId: string): void {
  if (principal.unitIds.length > 0 && !principal.unitIds.includes(unitId)) {
    throw new ForbiddenError(`This key is limited to other units than ${unitId}.`);
  }
}

/** Which children a query may return (see AccessPolicy.children and childrenToChange). */
export interface Visibility {
  municipalityId: string;
  unitIds: readonly string[];
  today: string;
  /** Social workers: only the children this social worker is involved with. */
  involvedWith?: SocialWorker | undefined;
  /** Unit-limited keys: only children enrolled in their units now, not those they owe steps. */
  enrolledOnly?: boolean;
}

/**
 * Limits a children query to what the principal may see. Unit-limited keys: the children
 * enrolled in their units today, and those their units still owe follow-up (an open step).
 * Social workers: the children whose follow-up involves social work.
 */
export function visibleChildren(v: Visibility) {
  return (_eb: ExpressionBuilder<DB, 'children'>) => {
    const conditions: RawBuilder<boolean>[] = [];
    if (v.unitIds.length > 0) {
      conditions.push(sql<boolean>`(EXISTS (
          SELECT 1 FROM enrolments visible
          WHERE visible.child_id = children.id
            AND visible.unit_id = ANY(${sql.val(v.unitIds)}::uuid[])
            AND (visible.end_date IS NULL OR visible.end_date >= ${v.today})
        )${v.enrolledOnly ? sql`` : sql` OR ${owesFollowUp('children.id', v.unitIds)}`})`);
    }
    if (v.involvedWith) {
      conditions.push(involvesSocialWork('children.id', v.municipalityId, v.involvedWith));
    }
    return conditions.length === 0
      ? sql<boolean>`true`
      : sql<boolean>`(${sql.join(conditions, sql` AND `)})`;
  };
}

/** Involve roles that stand for social work: child services and school social workers. */
export const SOCIAL_WORK_ROLES = ['child_services', 'school_social_worker'];

/** A request principal as assignments name it. */
export interface SocialWorker {
  kind: string;
  id: string;
}

/**
 * Whether the social worker is involved with the child (`childId`, a column reference): a step
 * for child services or a school social worker (responsible or involved), a concern report
 * (which goes to child services), or an explicit assignment of this social worker. Social
 * workers see exactly these children.
 */
export function involvesSocialWork(
  childId: string,
  municipalityId: string,
  worker: SocialWorker,
): RawBuilder<boolean> {
  const child = sql.ref(childId);
  return sql<boolean>`(EXISTS (
      SELECT 1 FROM recommendation_steps involved
      WHERE involved.child_id = ${child}
        AND involved.municipality_id = ${municipalityId}
        AND (involved.responsible = ANY(${sql.val(SOCIAL_WORK_ROLES)}::text[])
          OR involved.involve && ${sql.val(SOCIAL_WORK_ROLES)}::text[])
    ) OR EXISTS (
      SELECT 1 FROM concern_reports reported
      WHERE reported.child_id = ${child} AND reported.municipality_id = ${municipalityId}
    ) OR EXISTS (
      SELECT 1 FROM social_worker_assignments assigned
      WHERE assigned.child_id = ${child} AND assigned.municipality_id = ${municipalityId}
        AND assigned.principal_kind = ${worker.kind} AND assigned.principal_id = ${worker.id}
    ))`;
}

/**
 * Whether one of `unitIds` still owes the child follow-up: an open step its assessment
 * created, or parents still to be informed of one. Such duties outlive the enrolment (Barnets
 * Lov § 133), so the unit keeps seeing the child until they are closed.
 */
export function owesFollowUp(childId: string, unitIds: readonly string[]): RawBuilder<boolean> {
  const units = sql.val(unitIds);
  return sql<boolean>`(EXISTS (
      SELECT 1 FROM recommendation_steps owed
      WHERE owed.child_id = ${sql.ref(childId)}
        AND owed.unit_id = ANY(${units}::uuid[])
        AND owed.status = 'open'
    ) OR EXISTS (
      SELECT 1 FROM parent_notices owed_notice
      WHERE owed_notice.child_id = ${sql.ref(childId)}
        AND owed_notice.unit_id = ANY(${units}::uuid[])
        AND owed_notice.status = 'open'
    ))`;
}

/**
 * Who may see which steps: a unit-limited key its units' steps of the children currently
 * enrolled there, and its units' open steps of children who left (duties outlive enrolments);
 * a social worker the steps for child services and school social workers.
 */
export interface StepAudience {
  municipalityId: string;
  unitIds: readonly string[];
  socialWorker: boolean;
  /** Today (Copenhagen), for the enrolment check of unit-limited keys. */
  today?: string;
}

export function stepsVisibleTo(a: StepAudience) {
  return (eb: ExpressionBuilder<DB, 'recommendation_steps'>) => {
    const conditions = [eb('recommendation_steps.municipality_id', '=', a.municipalityId)];
    if (a.unitIds.length > 0) {
      const today = a.today ?? '9999-12-31';
      // Follow-up recorded in the key's own units only: another unit's steps cross over only
      // with a recorded basis, through the handover summary (consent-gated).
      conditions.push(eb('recommendation_steps.unit_id', 'in', a.unitIds));
      // Open steps stay with the unit that owes them after the child leaves (Barnets Lov
      // § 133); closed ones only while the child is enrolled in one of the key's units.
      conditions.push(
        eb.or([
          eb('recommendation_steps.status', '=', 'open'),
          eb.exists(
            eb
              .selectFrom('enrolments as visible')
              .select('visible.id')
              .whereRef('visible.child_id', '=', 'recommendation_steps.child_id')
              .where('visible.unit_id', 'in', a.unitIds)
              .where((e) =>
                e.or([e('visible.end_date', 'is', null), e('visible.end_date', '>=', today)]),
              ),
          ),
        ]),
      );
    }
    if (a.socialWorker) {
      conditions.push(
        eb.or([
          eb('recommendation_steps.responsible', 'in', SOCIAL_WORK_ROLES),
          sql<boolean>`recommendation_steps.involve && ${sql.val(SOCIAL_WORK_ROLES)}::text[]`,
        ]),
      );
    }
    return eb.and(conditions);
  };
}

/** What the sharing rules need to know of a stored consent. */
export function consentFacts(row: Selectable<ConsentsTable>): ConsentFacts {
  return {
    id: row.id,
    purpose: row.purpose as ConsentPurpose,
    recipientUnitId: row.recipient_unit_id,
    recipientRole: row.recipient_role,
    categories: row.categories,
    givenByRelation: row.given_by_relation,
    givenOn: row.given_on,
    validUntil: row.valid_until,
    revokedAt: row.revoked_at,
    awaitingConfirmation: row.confirmation_required && row.confirmed_at === null,
  };
}

/**
 * Whether a unit-limited viewer sees the child only because its units still owe follow-up (no
 * current enrolment in them): then nothing of other units exists for it, not even as a count
 * of withheld items, since that would tell what was recorded after the child left.
 */
export function seesOwnDutiesOnly(ctx: SharingContext): boolean {
  return isUnitLimitedViewer(ctx.viewer) && ctx.receiving.length === 0;
}

export interface Judged<T> {
  value: T;
  item: SharedItem;
  bases: Basis[];
}

export const WITHHELD_REASON: WithheldReason = 'no_consent_or_guideline';

export function withheldSummary(items: readonly SharedItem[]): {
  count: number;
  reason: WithheldReason;
  fromUnits: WithheldUnit[];
} | null {
  if (items.length === 0) return null;
  return { count: items.length, reason: WITHHELD_REASON, fromUnits: withheldByUnit(items) };
}

/**
 * 403 for data of another unit that the key may not see: the child is visible to it, so the
 * reason is stated (the timeline already counts what is withheld), never the content.
 */
export class NoSharingBasisError extends ProblemError {
  constructor(what: string, unitKind: string) {
    super(
      403,
      'no-sharing-basis',
      'Forbidden',
      `${what} was recorded by another unit (${unitKind}). Your units may see it only under a ` +
        'consent in force that covers it or a transition guideline of the municipality ' +
        `(reason: ${WITHHELD_REASON}).`,
    );
  }
}
