import { randomUUID } from 'node:crypto';
import { type Insertable, sql, type Transaction } from 'kysely';
import type { AuditEntry } from '../../audit/audit.js';
import type { ChildrenTable, DB, EnrolmentsTable } from '../../db/schema.js';
import { cprErrors } from '../../domain/children.js';
import { hashCpr } from '../../domain/cpr.js';
import { conflictingEnrolments, type EnrolmentLike } from '../../domain/enrolments.js';
import type { RowError, StoredRow } from './repository.js';
import { checkRow } from './rows.js';
import type { ImportRow } from './schemas.js';

/** What one chunk of rows did (or, in a dry run, would do). */
export interface ChunkOutcome {
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  errors: RowError[];
  audit: AuditEntry[];
}

export interface ChunkContext {
  municipalityId: string;
  jobId: string;
  dryRun: boolean;
  /** The units the job's key may act in; null: the whole municipality. */
  allowedUnitIds: readonly string[] | null;
  cprSecret: string;
  today: string;
  now: Date;
  /** A dry run's record of what its earlier chunks would have changed (see DryRunState). */
  dryRunState?: DryRunState;
}

export interface ChildState {
  id: string;
  given_name: string | null;
  family_name: string | null;
  birth_date: string;
  sex: string | null;
  cpr_hash: string | null;
}

interface Unit {
  id: string;
  kind: string;
}

/**
 * A dry run writes nothing, so the database cannot tell a later chunk what an earlier one
 * would have done: a child whose first row would create it would be "created" again by its
 * next row, an enrolment "made" twice. The state carries, from chunk to chunk of one dry run,
 * the children of the file as they would be (by externalRef), their enrolments, and the CPR
 * numbers they would hold; each chunk reads them over what the database has. It lives in the
 * worker's memory (about 0.5 kB per child of the file) and so does not survive the worker: a
 * dry run resumed by another worker starts again from its first row (src/jobs/imports.ts).
 */
export class DryRunState {
  /** Whether a chunk of the job was run with this state (else it starts from the first row). */
  begun = false;
  readonly children = new Map<string, ChildState>();
  readonly enrolments = new Map<string, EnrolmentLike[]>();
  readonly cprHolders = new Map<string, string>();
}

const hex = (b: Buffer | Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Applies one chunk of rows in the job's transaction (in the municipality's scope): each valid
 * row creates or updates its child (fields absent from the row are left as they are) and
 * creates its enrolment (same unit and start date: the same enrolment, whose end date is
 * updated). A row that breaks a rule is rejected with its errors and changes nothing. Reads are
 * one query per kind for the whole chunk, writes one INSERT per table plus one UPDATE per
 * changed row; in a dry run nothing is written.
 */
export async function applyChunk(
  trx: Transaction<DB>,
  rows: StoredRow[],
  ctx: ChunkContext,
): Promise<ChunkOutcome> {
  const out: ChunkOutcome = {
    created: 0,
    updated: 0,
    unchanged: 0,
    rejected: 0,
    errors: [],
    audit: [],
  };
  const valid: { row: number; input: ImportRow; cprHash: string | null }[] = [];
  for (const stored of rows) {
    const checked = checkRow(stored, ctx);
    if (Array.isArray(checked)) {
      out.rejected += 1;
      out.errors.push(...checked);
      continue;
    }
    const digits =
      checked.cpr !== undefined
        ? cprErrors(checked.cpr, checked.birthDate, 'cpr').digits
        : undefined;
    valid.push({
      row: stored.row_no,
      input: checked,
      cprHash: digits ? hex(hashCpr(digits, ctx.municipalityId, ctx.cprSecret)) : null,
    });
  }
  if (valid.length === 0) return out;

  const { municipalityId } = ctx;
  const units = await trx
    .selectFrom('units')
    .select(['id', 'kind', 'external_ref'])
    .where('municipality_id', '=', municipalityId)
    .execute();
  const unitById = new Map<string, Unit>(units.map((u) => [u.id, u]));
  const unitByRef = new Map<string, Unit>(
    units.filter((u) => u.external_ref !== null).map((u) => [u.external_ref as string, u]),
  );

  const refs = [...new Set(valid.map((v) => v.input.externalRef))];
  const hashes = [...new Set(valid.flatMap((v) => (v.cprHash ? [v.cprHash] : [])))];
  // Looked up key by key (a nested loop over the chunk's keys, each an index probe): a plain
  // `IN (…)` may be planned as a scan of all the municipality's children, whose row-level
  // security check then runs per row, and gets slower with every chunk of a large import.
  const childColumns = sql`c.id, c.external_ref, c.given_name, c.family_name, c.birth_date,
    c.sex, encode(c.cpr_hash, 'hex') AS cpr_hash`;
  const existing = (
    await sql<ChildState & { external_ref: string }>`
      SELECT ${childColumns} FROM unnest(${refs}::text[]) AS k(ref)
      JOIN LATERAL (
        SELECT * FROM children
        WHERE municipality_id = ${municipalityId} AND external_ref = k.ref
      ) c ON true
    `.execute(trx)
  ).rows;
  if (hashes.length > 0) {
    const byHash = await sql<ChildState & { external_ref: string }>`
      SELECT ${childColumns} FROM unnest(${hashes}::text[]) AS k(hash)
      JOIN LATERAL (
        SELECT * FROM children
        WHERE municipality_id = ${municipalityId} AND cpr_hash = decode(k.hash, 'hex')
      ) c ON true
    `.execute(trx);
    existing.push(...byHash.rows);
  }
  const byRef = new Map<string, ChildState>();
  const byCpr = new Map<string, string>();
  const wanted = new Set(refs);
  for (const c of existing) {
    if (wanted.has(c.external_ref)) byRef.set(c.external_ref, { ...c });
    if (c.cpr_hash) byCpr.set(c.cpr_hash, c.id);
  }
  // A dry run: what the earlier chunks would have changed, over what the database has.
  const simulated = ctx.dryRun ? ctx.dryRunState : undefined;
  if (simulated) {
    for (const ref of refs) {
      const child = simulated.children.get(ref);
      if (child) byRef.set(ref, { ...child });
    }
    for (const hash of hashes) {
      const holder = simulated.cprHolders.get(hash);
      if (holder !== undefined) byCpr.set(hash, holder);
    }
  }
  const childIds = [...byRef.values()]
    .map((c) => c.id)
    .filter((id) => !simulated?.enrolments.has(id));
  const enrolmentRows =
    childIds.length === 0
      ? []
      : (
          await sql<{
            id: string;
            child_id: string;
            unit_id: string;
            unit_kind: string;
            start_date: string;
            end_date: string | null;
          }>`
            SELECT e.id, e.child_id, e.unit_id, u.kind AS unit_kind, e.start_date, e.end_date
            FROM unnest(${childIds}::uuid[]) AS k(child_id)
            JOIN LATERAL (
              SELECT * FROM enrolments
              WHERE municipality_id = ${municipalityId} AND child_id = k.child_id
            ) e ON true
            JOIN units u ON u.id = e.unit_id
          `.execute(trx)
        ).rows;
  const enrolmentsOf = new Map<string, EnrolmentLike[]>();
  for (const e of enrolmentRows) {
    const list = enrolmentsOf.get(e.child_id) ?? [];
    list.push({
      id: e.id,
      unitId: e.unit_id,
      unitKind: e.unit_kind,
      start: e.start_date,
      end: e.end_date,
    });
    enrolmentsOf.set(e.child_id, list);
  }
  if (simulated) {
    for (const { id } of byRef.values()) {
      const list = simulated.enrolments.get(id);
      if (list) enrolmentsOf.set(id, structuredClone(list));
    }
  }

  const newChildren: Insertable<ChildrenTable>[] = [];
  const newEnrolments: Insertable<EnrolmentsTable>[] = [];
  const childUpdates = new Map<string, Record<string, unknown>>();
  const endUpdates = new Map<string, string | null>();
  const allowed = ctx.allowedUnitIds;
  const criteria = { importId: ctx.jobId };

  for (const { row, input, cprHash } of valid) {
    const reject = (field: string, message: string) => {
      out.rejected += 1;
      out.errors.push({ row, field, message });
    };
    const unit =
      input.unitId !== undefined
        ? unitById.get(input.unitId)
        : unitByRef.get(input.unitExternalRef as string);
    const unitField = input.unitId !== undefined ? 'unitId' : 'unitExternalRef';
    if (!unit) {
      reject(unitField, 'no such unit in the municipality');
      continue;
    }
    if (allowed && !allowed.includes(unit.id)) {
      reject(unitField, "is not one of the key's units");
      continue;
    }
    const current = byRef.get(input.externalRef);
    const enrolments = current ? (enrolmentsOf.get(current.id) ?? []) : [];
    if (
      current &&
      allowed &&
      !enrolments.some((e) => allowed.includes(e.unitId) && (e.end === null || e.end >= ctx.today))
    ) {
      reject('externalRef', "belongs to a child outside the key's units");
      continue;
    }
    if (cprHash) {
      const holder = byCpr.get(cprHash);
      if (holder !== undefined && holder !== current?.id) {
        reject('cpr', 'another child has this CPR number');
        continue;
      }
    }
    const changes: Record<string, unknown> = {};
    if (current) {
      if (input.givenName !== undefined && input.givenName !== current.given_name)
        changes.given_name = input.givenName;
      if (input.familyName !== undefined && input.familyName !== current.family_name)
        changes.family_name = input.familyName;
      if (input.sex !== undefined && input.sex !== current.sex) changes.sex = input.sex;
      if (input.birthDate !== current.birth_date) {
        if (current.cpr_hash !== null && cprHash === null) {
          reject('birthDate', 'differs from the CPR number on file; send the matching cpr too');
          continue;
        }
        const early = enrolments.filter((e) => e.start < input.birthDate);
        if (early.length > 0) {
          reject(
            'birthDate',
            `is after the start of enrolment(s) ${early.map((e) => e.id).join(', ')}`,
          );
          continue;
        }
        changes.birth_date = input.birthDate;
      }
      if (cprHash !== null && cprHash !== current.cpr_hash) changes.cpr_hash = cprHash;
    }
    // The enrolment: the same unit and start date is the same enrolment.
    const period = { start: input.startDate, end: input.endDate ?? null };
    const same = enrolments.find((e) => e.unitId === unit.id && e.start === period.start);
    const candidate = {
      unitId: unit.id,
      unitKind: unit.kind,
      ...period,
      ...(same ? { id: same.id } : {}),
    };
    const conflicts = conflictingEnrolments(candidate, enrolments);
    if (conflicts.length > 0 && (!same || same.end !== period.end)) {
      const visible = conflicts.filter((c) => !allowed || allowed.includes(c.unitId));
      reject(
        'startDate',
        `the enrolment overlaps ${
          visible.length > 0
            ? visible.map((c) => `enrolment ${c.id} (${c.start} – ${c.end ?? 'open'})`).join(', ')
            : 'another enrolment of the child'
        } in the same unit or another unit of the same kind`,
      );
      continue;
    }

    // Accepted: record the change in the chunk's state, so later rows see it.
    let child = current;
    let changed = false;
    if (!child) {
      child = {
        id: randomUUID(),
        given_name: input.givenName ?? null,
        family_name: input.familyName ?? null,
        birth_date: input.birthDate,
        sex: input.sex ?? null,
        cpr_hash: cprHash,
      };
      byRef.set(input.externalRef, child);
      newChildren.push({
        id: child.id,
        municipality_id: municipalityId,
        external_ref: input.externalRef,
        given_name: child.given_name,
        family_name: child.family_name,
        birth_date: child.birth_date,
        sex: child.sex,
        cpr_hash: cprHash ? Buffer.from(cprHash, 'hex') : null,
      });
      out.audit.push({
        action: 'create',
        resource: 'child',
        resourceId: child.id,
        childId: child.id,
        criteria,
      });
      out.created += 1;
    } else if (Object.keys(changes).length > 0) {
      Object.assign(child, changes);
      childUpdates.set(child.id, { ...(childUpdates.get(child.id) ?? {}), ...changes });
      out.audit.push({
        action: 'update',
        resource: 'child',
        resourceId: child.id,
        childId: child.id,
        criteria,
      });
      changed = true;
    }
    if (cprHash) byCpr.set(cprHash, child.id);
    if (!same) {
      const enrolment: EnrolmentLike = {
        id: randomUUID(),
        unitId: unit.id,
        unitKind: unit.kind,
        ...period,
      };
      enrolmentsOf.set(child.id, [...enrolments, enrolment]);
      newEnrolments.push({
        id: enrolment.id,
        municipality_id: municipalityId,
        child_id: child.id,
        unit_id: unit.id,
        start_date: period.start,
        end_date: period.end,
      });
      out.audit.push({
        action: 'create',
        resource: 'enrolment',
        resourceId: enrolment.id,
        childId: child.id,
        criteria,
      });
      changed = true;
    } else if (same.end !== period.end) {
      same.end = period.end;
      endUpdates.set(same.id, period.end);
      out.audit.push({
        action: 'update',
        resource: 'enrolment',
        resourceId: same.id,
        childId: child.id,
        criteria,
      });
      changed = true;
    }
    if (current) {
      if (changed) out.updated += 1;
      else out.unchanged += 1;
    }
  }

  if (ctx.dryRun) {
    out.audit = [];
    if (simulated) {
      for (const [ref, child] of byRef) {
        simulated.children.set(ref, child);
        simulated.enrolments.set(child.id, enrolmentsOf.get(child.id) ?? []);
      }
      for (const hash of hashes) {
        const holder = byCpr.get(hash);
        if (holder !== undefined) simulated.cprHolders.set(hash, holder);
      }
    }
    return out;
  }
  // An end date changed by a later row of the same chunk, on an enrolment made in it.
  for (const insert of newEnrolments) {
    const id = insert.id as string;
    if (endUpdates.has(id)) {
      insert.end_date = endUpdates.get(id) ?? null;
      endUpdates.delete(id);
    }
  }
  // Enrolments made in a chunk for a child created in it need the child first.
  for (let at = 0; at < newChildren.length; at += 1000) {
    await trx
      .insertInto('children')
      .values(newChildren.slice(at, at + 1000))
      .execute();
  }
  for (const [id, changes] of childUpdates) {
    const values = { ...changes } as Record<string, unknown>;
    if (typeof values.cpr_hash === 'string') values.cpr_hash = Buffer.from(values.cpr_hash, 'hex');
    await trx
      .updateTable('children')
      .set({ ...values, updated_at: ctx.now } as never)
      .where('municipality_id', '=', municipalityId)
      .where('id', '=', id)
      .execute();
  }
  for (const [id, end] of endUpdates) {
    await trx
      .updateTable('enrolments')
      .set({ end_date: end, updated_at: ctx.now })
      .where('municipality_id', '=', municipalityId)
      .where('id', '=', id)
      .execute();
  }
  for (let at = 0; at < newEnrolments.length; at += 1000) {
    await trx
      .insertInto('enrolments')
      .values(newEnrolments.slice(at, at + 1000))
      .execute();
  }
  return out;
}
