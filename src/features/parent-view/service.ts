import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { generateLinkCode, generateSessionToken, parseLinkCode } from '../../auth/parent-token.js';
import type { Database } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { zoneMeaning } from '../../domain/parent-letter.js';
import { accessActor, type ParentAccessLogResource } from '../../domain/parent-view.js';
import type { RulerDefinition } from '../../domain/rulers/definition.js';
import { selfReportAudience } from '../../domain/self-report.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthorizedError,
  ValidationFailedError,
} from '../../errors.js';
import { decodeCursor, encodeCursor } from '../../http/pagination.js';
import type { Service } from '../../request/runner.js';
import type { Session } from '../../request/session.js';
import { requireChild } from '../children/service.js';
import { parentsWithheld } from '../parent-notices/repository.js';
import {
  accessLog,
  childFacts,
  consentsOf,
  currentAssessments,
  findLink,
  linkColumns,
  listLinks,
  parentSteps,
  selfReportsOf,
  unitNames,
} from './repository.js';
import type {
  AccessLogPageSchema,
  CreateParentLink,
  ParentAssessmentListSchema,
  ParentChildSchema,
  ParentLink,
  ParentRevokeConsent,
  ParentSelfReportListSchema,
  ParentStepListSchema,
} from './schemas.js';

/** How long a parent session lasts after the link is opened. */
export const PARENT_SESSION_MINUTES = 60;

type LinkRow = Awaited<ReturnType<typeof listLinks>>[number];

function toLink(row: LinkRow, now: Date): ParentLink {
  return {
    id: row.id,
    childId: row.child_id,
    unitId: row.unit_id,
    handedTo: row.handed_to,
    status: row.revoked_at
      ? 'revoked'
      : row.used_at
        ? 'used'
        : row.expires_at <= now
          ? 'expired'
          : 'active',
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    usedAt: row.used_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

// ---- The unit's side ---------------------------------------------------------------------------

/**
 * Makes a one-time link to the parent view for a child enrolled in the unit today. Refused (409)
 * while a red flag of violence or abuse says the parents must not be informed.
 */
export const createLink: Service<
  { childId: string; body: CreateParentLink },
  ParentLink & { code: string; path: string }
> = async (session, trx, { childId, body }) => {
  const child = await requireChild(trx, session.access.childrenToChange(), childId);
  session.access.requireUnit(body.unitId);
  const enrolled = await trx
    .selectFrom('enrolments')
    .select('id')
    .where('child_id', '=', child.id)
    .where('unit_id', '=', body.unitId)
    .where('start_date', '<=', session.today)
    .where((eb) => eb.or([eb('end_date', 'is', null), eb('end_date', '>=', session.today)]))
    .executeTakeFirst();
  if (!enrolled) {
    throw new ValidationFailedError('The child is not enrolled in this unit today.', [
      {
        path: 'body.unitId',
        message: 'the child is not enrolled here today',
        code: 'not_enrolled',
      },
    ]);
  }
  if (await parentsWithheld(trx, child.id)) {
    throw new ConflictError(
      'A red flag of violence or abuse says the parents must not be informed yet: a leader ' +
        'records when they may be (parent notices), and links can be made from then on.',
      'parents-not-to-be-informed',
    );
  }
  const { id, token: code, hash } = generateLinkCode();
  const expires = new Date(session.now.getTime() + body.validDays * 86_400_000);
  const row = await trx
    .insertInto('parent_links')
    .values({
      id,
      municipality_id: session.municipalityId,
      child_id: child.id,
      unit_id: body.unitId,
      code_hash: hash,
      handed_to: body.handedTo ?? null,
      created_at: session.now,
      created_by: session.principal.id,
      expires_at: expires,
    })
    .returning(linkColumns)
    .executeTakeFirstOrThrow();
  session.audit({ resourceId: id, childId: child.id });
  return { ...toLink(row, session.now), code, path: `/parents/#${code}` };
};

export const listChildLinks: Service<{ childId: string }, { items: ParentLink[] }> = async (
  session,
  trx,
  { childId },
) => {
  const child = await requireChild(trx, session.access.children(), childId);
  const rows = await listLinks(trx, child.id);
  session.audit({ childId: child.id });
  return { items: rows.map((r) => toLink(r, session.now)) };
};

/** Revokes a link and ends the sessions opened with it, at once. */
export const revokeLink: Service<string, ParentLink> = async (session, trx, linkId) => {
  const row = await findLink(trx, linkId);
  if (!row) throw new NotFoundError('parent link', linkId);
  await requireChild(trx, session.access.childrenToChange(), row.child_id).catch(() => {
    throw new NotFoundError('parent link', linkId);
  });
  if (row.revoked_at) {
    throw new ConflictError(`Parent link ${linkId} was already revoked.`, 'link-revoked');
  }
  const revoked = await trx
    .updateTable('parent_links')
    .set({ revoked_at: session.now, revoked_by: session.principal.id })
    .where('id', '=', linkId)
    .returning(linkColumns)
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('parent_sessions')
    .set({ revoked_at: session.now })
    .where('link_id', '=', linkId)
    .where('revoked_at', 'is', null)
    .execute();
  session.audit({ resourceId: linkId, childId: row.child_id });
  return toLink(revoked, session.now);
};

// ---- Opening a link ----------------------------------------------------------------------------

const NOT_VALID =
  'The link is not valid: it may have been used already, have expired or been revoked. Ask ' +
  'the unit for a new one.';

/**
 * Exchanges a link's code for a parent session, once (lineal_open_parent_session spends the link,
 * writes the session and audits the exchange in one statement). Every refusal is the same 401.
 */
export async function openSession(
  database: Database,
  code: string,
  now: Date,
  requestId: string,
): Promise<{ token: string; expiresAt: string }> {
  const link = parseLinkCode(code);
  if (!link) throw new UnauthorizedError(NOT_VALID, 'invalid_token');
  const session = generateSessionToken();
  const expires = new Date(now.getTime() + PARENT_SESSION_MINUTES * 60_000);
  const { rows } = await sql<{ municipality_id: string; child_id: string }>`
    SELECT * FROM lineal_open_parent_session(${link.id}::uuid, ${link.hash}, ${session.id}::uuid,
      ${session.hash}, ${now}, ${expires}, ${requestId})`.execute(database.db);
  const opened = rows[0];
  if (!opened) throw new UnauthorizedError(NOT_VALID, 'invalid_token');
  // While a violence or abuse flag says the parents must not be told anything, a link handed
  // out before opens nothing: the session ends at once and the answer is the same 401.
  const scope = {
    kind: 'parent' as const,
    municipalityId: opened.municipality_id,
    sessionId: session.id,
  };
  const refused = await database.transaction(scope, async (trx) => {
    if (!(await parentsWithheld(trx, opened.child_id))) return false;
    await trx
      .updateTable('parent_sessions')
      .set({ revoked_at: now })
      .where('id', '=', session.id)
      .execute();
    return true;
  });
  if (refused) throw new UnauthorizedError(NOT_VALID, 'invalid_token');
  return { token: session.token, expiresAt: expires.toISOString() };
}

// ---- The parent's view -------------------------------------------------------------------------

function childOf(session: Session): string {
  const { childId } = session.principal;
  if (session.principal.role !== 'parent' || !childId) {
    throw new ForbiddenError('Only a parent session has a parent view.');
  }
  return childId;
}

export const parentChild: Service<null, z.infer<typeof ParentChildSchema>> = async (
  session,
  trx,
) => {
  const childId = childOf(session);
  const [[child, units], ending] = await Promise.all([
    childFacts(trx, childId, session.today),
    trx
      .selectFrom('parent_sessions')
      .select('expires_at')
      .where('id', '=', session.principal.id)
      .executeTakeFirst(),
  ]);
  if (!child || !ending)
    throw new UnauthorizedError('The parent session has ended.', 'invalid_token');
  session.audit({ childId, resourceId: childId });
  return {
    givenName: child.given_name,
    birthDate: child.birth_date,
    // Where the child is, never while the parents must not be told anything.
    units: (await parentsWithheld(trx, childId)) ? [] : units,
    sessionExpiresAt: ending.expires_at.toISOString(),
  };
};

/** Runs `list` unless the view is withheld (then an empty list, as if nothing were shared). */
async function unlessWithheld<T>(
  session: Session,
  trx: Transaction<DB>,
  list: (childId: string) => Promise<T[]>,
): Promise<{ items: T[] }> {
  const childId = childOf(session);
  session.audit({ childId });
  if (await parentsWithheld(trx, childId)) return { items: [] };
  return { items: await list(childId) };
}

export const parentAssessments: Service<null, z.infer<typeof ParentAssessmentListSchema>> = (
  session,
  trx,
) =>
  unlessWithheld(session, trx, async (childId) =>
    (await currentAssessments(trx, childId)).map((a) => {
      const definition = a.definition as unknown as RulerDefinition;
      const level = definition.levels?.find((l) => l.value === a.level);
      const zone = a.zone as 'green' | 'yellow' | 'red' | null;
      return {
        id: a.id,
        assessedOn: a.assessed_on,
        unit: a.unit,
        ruler: a.ruler,
        zone,
        level: a.level,
        levelLabel: level ? level.label : null,
        meaning: zone ? { da: zoneMeaning(zone, 'da'), en: zoneMeaning(zone, 'en') } : null,
      };
    }),
  );

export const parentStepList: Service<null, z.infer<typeof ParentStepListSchema>> = (session, trx) =>
  unlessWithheld(session, trx, async (childId) =>
    (await parentSteps(trx, childId)).map((s) => ({
      id: s.id,
      assessedOn: s.assessed_on,
      title: s.title as { da: string; en: string },
      description: s.description as { da: string; en: string },
      responsible: s.responsible,
      involve: s.involve,
      dueOn: s.due_on,
      status: s.status as 'open' | 'done' | 'not_applicable',
    })),
  );

/** The child's own reports it agreed to share with its parents (src/domain/self-report.ts). */
export const parentSelfReports: Service<null, z.infer<typeof ParentSelfReportListSchema>> = (
  session,
  trx,
) =>
  unlessWithheld(session, trx, async (childId) =>
    (await selfReportsOf(trx, childId))
      .filter(
        (r) =>
          selfReportAudience(r.purpose, {
            role: 'parent',
            ownUnit: false,
            involved: false,
            sharedWithParents: r.shared_with_parents,
          }) === 'full',
      )
      .map((r) => ({ id: r.id, reportedOn: r.reported_on, zone: r.zone })),
  );

type ConsentRow = Awaited<ReturnType<typeof consentsOf>>[number];
const toParentConsent = (c: ConsentRow) => ({
  id: c.id,
  purpose: c.purpose as 'transition_handover' | 'interdisciplinary_sharing',
  recipient: { unit: c.unit, role: c.recipient_role },
  categories: c.categories,
  givenBy: { name: c.given_by_name, relation: c.given_by_relation },
  givenOn: c.given_on,
  validUntil: c.valid_until,
  revokedAt: c.revoked_at?.toISOString() ?? null,
});

export const parentConsents: Service<null, { items: ReturnType<typeof toParentConsent>[] }> = (
  session,
  trx,
) =>
  unlessWithheld(session, trx, async (childId) =>
    (await consentsOf(trx, childId)).map(toParentConsent),
  );

/** A parent revokes a consent they (or the other parent) gave: no basis for sharing from now on. */
export const revokeParentConsent: Service<
  { consentId: string; body: ParentRevokeConsent },
  ReturnType<typeof toParentConsent>
> = async (session, trx, { consentId, body }) => {
  const childId = childOf(session);
  if (await parentsWithheld(trx, childId)) throw new NotFoundError('consent', consentId);
  const current = await trx
    .selectFrom('consents')
    .select(['id', 'revoked_at', 'given_by_relation'])
    .where('id', '=', consentId)
    .where('child_id', '=', childId)
    .forUpdate()
    .executeTakeFirst();
  if (!current) throw new NotFoundError('consent', consentId);
  // A consent the child gave itself (from 15) is the child's to revoke, not the parents'.
  if (current.given_by_relation === 'child') {
    throw new ForbiddenError(
      'The child gave this consent: the child revokes it, through the unit, not the parents.',
    );
  }
  if (current.revoked_at) {
    throw new ConflictError(
      `Consent ${consentId} was already revoked on ${current.revoked_at.toISOString()}.`,
      'consent-revoked',
    );
  }
  await trx
    .updateTable('consents')
    .set({
      revoked_at: session.now,
      revoked_by_name: body.revokedBy.name,
      revoked_by_relation: body.revokedBy.relation,
      revocation_reason: body.reason,
      revocation_recorded_by: `parent:${session.principal.id}`,
    })
    .where('id', '=', consentId)
    .execute();
  session.audit({ childId, resourceId: consentId });
  const row = (await consentsOf(trx, childId)).find((c) => c.id === consentId);
  if (!row) throw new NotFoundError('consent', consentId);
  return toParentConsent(row);
};

const CursorSchema = z.tuple([z.number().int()]);

export const parentAccessLog: Service<
  { limit: number; cursor?: string | undefined },
  z.infer<typeof AccessLogPageSchema>
> = async (session, trx, { limit, cursor }) => {
  const childId = childOf(session);
  session.audit({ childId });
  if (await parentsWithheld(trx, childId)) return { items: [], nextCursor: null };
  const before = cursor === undefined ? undefined : decodeCursor(cursor, CursorSchema)[0];
  const rows = await accessLog(trx, childId, limit, before);
  const page = rows.slice(0, limit);
  const names = await unitNames(trx, [...new Set(page.flatMap((r) => r.unit_ids ?? []))]);
  const last = page[page.length - 1];
  return {
    items: page.map((r) => {
      const who = accessActor({
        principalKind: r.principal_kind,
        role: r.role,
        unitIds: r.unit_ids,
      });
      return {
        at: r.occurred_at.toISOString(),
        who:
          who.kind === 'staff'
            ? {
                kind: 'staff' as const,
                role: who.role,
                units: who.unitIds
                  ? who.unitIds.map((id) => names.get(id) ?? 'unknown unit')
                  : null,
              }
            : who,
        action: r.action,
        what: r.resource_type as ParentAccessLogResource,
      };
    }),
    nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null,
  };
};

/** Signs the parent out: the session's token stops working at once. */
export const endParentSession: Service<null, null> = async (session, trx) => {
  const childId = childOf(session);
  await trx
    .updateTable('parent_sessions')
    .set({ revoked_at: session.now })
    .where('id', '=', session.principal.id)
    .execute();
  session.audit({ childId, resourceId: session.principal.id });
  return null;
};
