import type { Transaction } from 'kysely';
import { consentFacts } from '../../access/policy.js';
import type { DB } from '../../db/schema.js';
import {
  CHILD_CONSENT_AGE,
  confirmationRefusal,
  consentStatus,
  mayGiveConsent,
  needsConfirmation,
} from '../../domain/sharing.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ProblemError,
  ValidationFailedError,
} from '../../errors.js';
import type { FieldError } from '../../http/problem.js';
import type { Service } from '../../request/runner.js';
import type { Session } from '../../request/session.js';
import { requireChild } from '../children/service.js';
import { findUnit } from '../units/repository.js';
import {
  type ConsentRow,
  confirmConsent,
  endDatesInUnits,
  findConsent,
  insertConsent,
  listConsents,
  revokeConsent,
} from './repository.js';
import type { Consent, CreateConsent, RevokeConsent } from './schemas.js';

export function toConsent(row: ConsentRow, today: string): Consent {
  return {
    id: row.id,
    childId: row.child_id,
    purpose: row.purpose as Consent['purpose'],
    recipient: {
      unitId: row.recipient_unit_id,
      role: row.recipient_role as Consent['recipient']['role'],
    },
    categories: row.categories as Consent['categories'],
    givenBy: {
      name: row.given_by_name,
      relation: row.given_by_relation as Consent['givenBy']['relation'],
    },
    givenOn: row.given_on,
    validUntil: row.valid_until,
    status: consentStatus(consentFacts(row), today),
    confirmation: {
      required: row.confirmation_required,
      confirmedAt: row.confirmed_at?.toISOString() ?? null,
      confirmedBy: row.confirmed_by,
    },
    revocation: row.revoked_at
      ? {
          revokedAt: row.revoked_at.toISOString(),
          revokedBy: {
            name: row.revoked_by_name as string,
            relation: row.revoked_by_relation as Consent['givenBy']['relation'],
          },
          reason: row.revocation_reason as string,
          recordedBy: row.revocation_recorded_by as string,
        }
      : null,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}

/** A consent of a child, as the consent routes name it. */
export interface ConsentRef {
  childId: string;
  consentId: string;
}

/**
 * Records a consent for a child the principal can see. Only a parent, a guardian or the child
 * from 15 gives consent; one a unit-limited key records for its own unit (or for a role) waits
 * for confirmation before it is a basis for sharing.
 */
export const createConsent: Service<{ childId: string; body: CreateConsent }, Consent> = async (
  session,
  trx,
  { childId, body: input },
) => {
  const v = session.access.childrenToChange();
  const child = await requireChild(trx, v, childId);
  const errors: FieldError[] = [];
  if (input.givenOn > session.today) {
    errors.push({ path: 'body.givenOn', message: 'is in the future', code: 'future_date' });
  }
  if (!mayGiveConsent(input.givenBy.relation, child.birth_date, input.givenOn)) {
    errors.push({
      path: 'body.givenBy.relation',
      message:
        input.givenBy.relation === 'child'
          ? `the child gives consent itself only from age ${CHILD_CONSENT_AGE} (on givenOn)`
          : 'only a parent, a guardian or the child (from 15) gives consent',
      code: 'not_a_consent_giver',
    });
  }
  if (
    input.recipient.unitId !== undefined &&
    !(await findUnit(trx, v.municipalityId, input.recipient.unitId))
  ) {
    errors.push({
      path: 'body.recipient.unitId',
      message: 'is not a unit of your municipality',
      code: 'unknown_unit',
    });
  }
  if (errors.length > 0) throw new ValidationFailedError('The consent cannot be recorded.', errors);
  const row = await insertConsent(trx, {
    municipality_id: v.municipalityId,
    child_id: childId,
    purpose: input.purpose,
    recipient_unit_id: input.recipient.unitId ?? null,
    recipient_role: input.recipient.role ?? null,
    categories: input.categories,
    given_by_name: input.givenBy.name,
    given_by_relation: input.givenBy.relation,
    given_on: input.givenOn,
    valid_until: input.validUntil ?? null,
    created_by: session.principal.id,
    confirmation_required: needsConfirmation(session.principal, input.recipient.unitId ?? null),
  });
  session.audit({ resourceId: row.id, childId });
  return toConsent(row, session.today);
};

/**
 * For a unit-limited key whose units no longer have the child (it sees it only for its open
 * steps): the last day they had it. Consents given after it are not the key's to see. Null
 * when the key is not limited to units or the child is enrolled in one of them.
 */
async function ownUnitsLeftOn(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
): Promise<string | null> {
  const { access } = session;
  if (!access.isUnitLimited) return null;
  const ends = await endDatesInUnits(trx, session.municipalityId, childId, access.unitIds);
  if (ends.some((end) => end === null || end >= session.today)) return null;
  return (ends as string[]).sort().at(-1) ?? '0000-01-01';
}

export const listChildConsents: Service<string, { items: Consent[] }> = async (
  session,
  trx,
  childId,
) => {
  const v = session.access.children();
  await requireChild(trx, v, childId);
  const left = await ownUnitsLeftOn(session, trx, childId);
  const rows = (await listConsents(trx, v.municipalityId, childId)).filter(
    (r) => left === null || r.given_on <= left,
  );
  session.audit({ childId });
  return { items: rows.map((r) => toConsent(r, session.today)) };
};

export const getConsent: Service<ConsentRef, Consent> = async (
  session,
  trx,
  { childId, consentId },
) => {
  const v = session.access.children();
  await requireChild(trx, v, childId);
  const row = await findConsent(trx, v.municipalityId, childId, consentId);
  const left = row && (await ownUnitsLeftOn(session, trx, childId));
  if (!row || (left && row.given_on > left)) throw new NotFoundError('consent', consentId);
  session.audit({ resourceId: consentId, childId });
  return toConsent(row, session.today);
};

/** The consent, locked for a change (404 when the key cannot see it; 409 once revoked). */
async function lockUnrevokedConsent(
  session: Session,
  trx: Transaction<DB>,
  { childId, consentId }: ConsentRef,
): Promise<ConsentRow> {
  // A change to the child's record: only a unit that has the child now (or a municipality key).
  const v = session.access.childrenToChange();
  await requireChild(trx, v, childId);
  const current = await findConsent(trx, v.municipalityId, childId, consentId, { lock: true });
  if (!current) throw new NotFoundError('consent', consentId);
  if (current.revoked_at) {
    throw new ConflictError(
      `Consent ${consentId} was already revoked on ${current.revoked_at.toISOString()}.`,
      'consent-revoked',
    );
  }
  return current;
}

/** Revokes a consent at once: from this transaction on it is no basis for sharing. */
export const revokeChildConsent: Service<ConsentRef & { body: RevokeConsent }, Consent> = async (
  session,
  trx,
  { body: input, ...ref },
) => {
  await lockUnrevokedConsent(session, trx, ref);
  const row = await revokeConsent(trx, session.municipalityId, ref.consentId, {
    at: session.now,
    byName: input.revokedBy.name,
    byRelation: input.revokedBy.relation,
    reason: input.reason,
    recordedBy: session.principal.id,
  });
  session.audit({ resourceId: ref.consentId, childId: ref.childId });
  return toConsent(row, session.today);
};

/**
 * Confirms a consent that waits for confirmation: by a unit leader of its recipient unit or an
 * administrator, never by the principal that recorded it. From then on it is a basis.
 */
export const confirmChildConsent: Service<ConsentRef, Consent> = async (session, trx, ref) => {
  const { consentId } = ref;
  const current = await lockUnrevokedConsent(session, trx, ref);
  if (!current.confirmation_required || current.confirmed_at) {
    throw new ConflictError(
      current.confirmed_at
        ? `Consent ${consentId} was already confirmed on ${current.confirmed_at.toISOString()}.`
        : `Consent ${consentId} needs no confirmation: it was in force when recorded.`,
      'consent-not-pending',
    );
  }
  const refusal = confirmationRefusal(session.principal, {
    createdBy: current.created_by,
    recipientUnitId: current.recipient_unit_id,
  });
  if (refusal === 'own_consent') {
    throw new ProblemError(
      403,
      'own-consent',
      'Forbidden',
      'A consent is confirmed by someone other than whoever recorded it.',
    );
  }
  if (refusal) {
    throw new ForbiddenError(
      current.recipient_unit_id === null
        ? 'A consent addressed to a role in every unit is confirmed by an administrator.'
        : 'Only a leader of the recipient unit or an administrator confirms this consent.',
    );
  }
  const row = await confirmConsent(trx, session.municipalityId, consentId, {
    at: session.now,
    by: session.principal.id,
  });
  session.audit({ resourceId: consentId, childId: ref.childId });
  return toConsent(row, session.today);
};
