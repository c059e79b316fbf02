import type { ColumnType, Generated, RawBuilder } from 'kysely';

/** Row types as the database stores them. Map them to API shapes at the edge. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface MunicipalitiesTable {
  id: Generated<string>;
  code: string;
  name: string;
  /** Parent letter languages besides Danish (migration 20261216_090000). */
  parent_letter_languages: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  key_id: string;
  key_hash: Uint8Array;
  municipality_id: string | null;
  name: string;
  role: string;
  unit_ids: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Generated<Date>;
  created_by: string | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
  last_used_at: Date | null;
}

type Json<T> = ColumnType<T, string, string>;

export interface UnitsTable {
  id: Generated<string>;
  municipality_id: string;
  name: string;
  kind: string;
  district: string | null;
  external_ref: string | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface ChildrenTable {
  id: Generated<string>;
  municipality_id: string;
  external_ref: string;
  given_name: string | null;
  family_name: string | null;
  birth_date: string;
  sex: string | null;
  cpr_hash: Uint8Array | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface EnrolmentsTable {
  id: Generated<string>;
  municipality_id: string;
  child_id: string;
  unit_id: string;
  start_date: string;
  end_date: string | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface RulersTable {
  id: Generated<string>;
  municipality_id: string | null;
  key: string;
  name: string;
  description: string | null;
  created_at: Generated<Date>;
}

export interface RulerVersionsTable {
  id: Generated<string>;
  ruler_id: string;
  municipality_id: string | null;
  version: number;
  definition: Json<unknown>;
  definition_hash: string;
  created_at: Generated<Date>;
  created_by: string | null;
}

export interface RoundsTable {
  id: Generated<string>;
  municipality_id: string;
  name: string;
  window_start: string;
  window_end: string;
  ruler_version_id: string;
  unit_kinds: ColumnType<string[], string[] | undefined, string[]>;
  unit_ids: ColumnType<string[], string[] | undefined, string[]>;
  min_age_months: number | null;
  max_age_months: number | null;
  not_assessed_flagged_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface AssessmentsTable {
  id: string;
  municipality_id: string;
  child_id: string;
  unit_id: string;
  round_id: string | null;
  ruler_version_id: string;
  assessed_on: string;
  raters: Json<unknown>;
  overall_level: number | null;
  answers: Json<unknown>;
  red_flags: ColumnType<string[], string[] | undefined, string[]>;
  justification: string | null;
  parents_informed: boolean;
  child_perspective: string | null;
  zone: string | null;
  level: number | null;
  score: number | null;
  explanation: Json<unknown>;
  status: string;
  version: number;
  /** The id of version 1; shared by every version of one assessment. */
  lineage_id: string;
  supersedes_id: string | null;
  correction_reason: string | null;
  created_at: Generated<Date>;
  created_by: string;
  status_changed_at: Date | null;
  status_changed_by: string | null;
  withdrawal_reason: string | null;
}

export interface IdempotencyKeysTable {
  id: Generated<string>;
  municipality_id: string | null;
  principal_id: string;
  key: string;
  request_hash: string;
  state: string;
  /** Identifies one claim, so a stale claim taken over cannot complete or release the new one. */
  claim_token: string;
  response_status: number | null;
  response_body: Json<unknown> | null;
  response_location: string | null;
  created_at: Date;
  expires_at: Date;
}

export interface ActionGuidesTable {
  id: Generated<string>;
  municipality_id: string | null;
  key: string;
  ruler_key: string | null;
  name: string;
  description: string | null;
  created_at: Generated<Date>;
}

export interface ActionGuideVersionsTable {
  id: Generated<string>;
  guide_id: string;
  municipality_id: string | null;
  version: number;
  definition: Json<unknown>;
  definition_hash: string;
  created_at: Generated<Date>;
  created_by: string | null;
}

export interface RecommendationsTable {
  id: string;
  municipality_id: string;
  child_id: string;
  unit_id: string;
  assessment_id: string;
  guide_version_id: string;
  zone: string | null;
  previous_zone: string | null;
  zone_changed: boolean;
  flags: Json<unknown>;
  summary: string;
  created_at: Generated<Date>;
}

export interface RecommendationStepsTable {
  id: Generated<string>;
  municipality_id: string;
  recommendation_id: string;
  child_id: string;
  unit_id: string;
  zone: string;
  position: number;
  step_key: string;
  title: Json<unknown>;
  description: Json<unknown>;
  involve: ColumnType<string[], string[], string[]>;
  responsible: string;
  mandatory: boolean;
  legal_reference: string | null;
  purpose: string;
  source: string;
  due_on: string;
  /** CHECK-constrained to these (migration 20261122_110000). */
  status: 'open' | 'done' | 'not_applicable' | 'superseded';
  status_reason: string | null;
  status_changed_at: Date | null;
  status_changed_by: string | null;
  created_at: Generated<Date>;
}

export interface FlagsTable {
  id: Generated<string>;
  municipality_id: string;
  child_id: string;
  unit_id: string;
  /** CHECK-constrained to these (migration 20261122_110000). */
  kind: 'deterioration' | 'persistent' | 'not_assessed' | 'red_flag';
  reason: string;
  assessment_id: string | null;
  round_id: string | null;
  raised_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  acknowledgement_note: string | null;
}

export interface ConcernReportsTable {
  id: Generated<string>;
  municipality_id: string;
  child_id: string;
  reported_on: string;
  reported_by_name: string;
  reported_by_role: string;
  reference: string | null;
  completed_step_ids: ColumnType<string[], string[] | undefined, string[]>;
  created_at: Generated<Date>;
  created_by: string;
}

export interface EventsTable {
  id: Generated<string>;
  tx_id: Generated<string>;
  municipality_id: string;
  type: string;
  child_id: string | null;
  subject_type: string;
  subject_id: string;
  /** The unit the event concerns (set on insert by a trigger); null: no unit (concern reports). */
  unit_id: ColumnType<string | null, string | null | undefined, string | null>;
  payload: Json<unknown>;
  created_at: Generated<Date>;
}

export interface WebhookSubscriptionsTable {
  id: Generated<string>;
  municipality_id: string;
  url: string;
  event_types: string[];
  /** The units whose events it is sent; null: the whole municipality's. */
  unit_ids: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  description: Generated<string>;
  enabled: Generated<boolean>;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  /** xid8 as text. */
  cursor_tx: string | null;
  /** bigint: a number (database.ts typeParsers). */
  cursor_id: number | null;
  created_by: string | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  municipality_id: string;
  subscription_id: string;
  event_id: number;
  event_type: string;
  payload: Json<unknown>;
  status: Generated<'pending' | 'delivering' | 'succeeded' | 'dead'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  lease_until: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  last_response_excerpt: string | null;
  delivered_at: Date | null;
  created_at: Generated<Date>;
}

export interface AuditLogTable {
  /** bigserial: int8 arrives as a number (database.ts typeParsers). */
  id: Generated<number>;
  occurred_at: Generated<Date>;
  municipality_id: string | null;
  principal_kind: 'api_key' | 'oidc' | 'parent' | 'system';
  principal_id: string;
  role: string;
  /** The units the principal was limited to (migration 20261215_090000); null: none. */
  unit_ids: string[] | null;
  action: string;
  resource_type: string;
  resource_id: string | null;
  child_id: string | null;
  child_tombstone: string | null;
  criteria: Json<unknown> | null;
  outcome: string;
  status_code: number | null;
  request_id: string;
}

export interface ErasuresTable {
  id: Generated<string>;
  municipality_id: string;
  child_key: string;
  tombstone: string;
  reason: string;
  source: 'request' | 'retention';
  erased_at: Generated<Date>;
  erased_by: string | null;
  deleted: Json<Record<string, number>>;
}

export interface SocialWorkerAssignmentsTable {
  id: Generated<string>;
  municipality_id: string;
  child_id: string;
  principal_kind: string;
  principal_id: string;
  created_at: Generated<Date>;
  created_by: string;
}

export interface ConsentsTable {
  id: Generated<string>;
  municipality_id: string;
  child_id: string;
  purpose: string;
  recipient_unit_id: string | null;
  recipient_role: string | null;
  categories: ColumnType<string[], string[], string[]>;
  given_by_name: string;
  given_by_relation: string;
  given_on: string;
  valid_until: string | null;
  revoked_at: Date | null;
  revoked_by_name: string | null;
  revoked_by_relation: string | null;
  revocation_reason: string | null;
  revocation_recorded_by: string | null;
  created_at: Generated<Date>;
  created_by: string;
  confirmation_required: Generated<boolean>;
  confirmed_at: Date | null;
  confirmed_by: string | null;
}

export interface TransitionGuidelinesTable {
  id: Generated<string>;
  municipality_id: string;
  from_unit_kind: string;
  to_unit_kind: string;
  enabled: boolean;
  categories: ColumnType<string[], string[], string[]>;
  reference: string | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
  updated_by: string;
}

/**
 * Analytics aggregates, written only by the database's own triggers (the application role may
 * read the counts, never the per-child facts): see migrations/20261122_150000_analytics_aggregates.ts.
 */
export interface RoundAssessmentFactsTable {
  municipality_id: string;
  child_id: string;
  round_id: string;
  assessment_id: string;
  unit_id: string;
  zone: string | null;
  age_band: string | null;
  sex: string | null;
  cohort: number;
  latest: boolean;
}

export interface ZoneCountsTable {
  municipality_id: string;
  round_id: string;
  unit_id: string;
  age_band: string | null;
  sex: string | null;
  cohort: number;
  zone: string | null;
  n: number;
}

/** A one-time link to the parent view a unit handed out (migration 20261215_090000). */
export interface ParentLinksTable {
  id: string;
  municipality_id: string;
  child_id: string;
  unit_id: string;
  code_hash: Uint8Array;
  handed_to: string | null;
  created_at: Date;
  created_by: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

/** A parent's session, opened with a link (made by `lineal_open_parent_session` only). */
export interface ParentSessionsTable {
  id: string;
  municipality_id: string;
  child_id: string;
  link_id: string;
  token_hash: Uint8Array;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

/** A parent-information duty (migration 20261212_090000). */
export interface ParentNoticesTable {
  id: Generated<string>;
  municipality_id: string;
  child_id: string;
  unit_id: string;
  assessment_id: string;
  reason: 'first_assessment' | 'zone_change';
  zone: 'green' | 'yellow' | 'red';
  previous_zone: 'green' | 'yellow' | 'red' | null;
  assessed_on: string;
  due_on: string;
  risk_categories: ColumnType<string[], string[] | undefined, string[]>;
  status: Generated<'open' | 'informed' | 'not_informed_risk' | 'superseded'>;
  informed_on: string | null;
  method: string | null;
  informed_by_name: string | null;
  informed_by_role: string | null;
  note: string | null;
  closed_at: Date | null;
  closed_by: string | null;
  /** A leader recorded the parents informed while the child was at risk (migration 20261215). */
  risk_lifted_at: ColumnType<
    Date | null,
    Date | RawBuilder<Date> | null | undefined,
    Date | RawBuilder<Date> | null
  >;
  created_at: Generated<Date>;
}

/** A child's own self-report (migration 20261213_090000): read and inserted, never changed. */
export interface SelfReportsTable {
  id: Generated<string>;
  municipality_id: string;
  child_id: string;
  unit_id: string;
  reported_on: string;
  ruler_key: string;
  ruler_version: number;
  answers: Json<unknown>;
  zone: 'green' | 'yellow' | 'red' | null;
  score: number | null;
  explanation: Json<unknown>;
  purpose: 'dialogue' | 'support' | 'statistics_only';
  shared_with_parents: Generated<boolean>;
  present_name: string;
  present_role: string;
  created_at: Generated<Date>;
  created_by: string;
}

/** One slot of a municipality's analytics version (see migration 20261211_090000). */
export interface AnalyticsVersionsTable {
  municipality_id: string;
  slot: number;
  token: string;
}

export interface ZoneTotalsTable {
  municipality_id: string;
  round_id: string;
  zone: string | null;
  slot: number;
  n: number;
}

export interface TransitionCountsTable {
  municipality_id: string;
  from_round_id: string;
  to_round_id: string;
  unit_id: string;
  age_band: string | null;
  sex: string | null;
  cohort: number;
  from_zone: string | null;
  to_zone: string | null;
  n: number;
}

export interface TransitionTotalsTable {
  municipality_id: string;
  from_round_id: string;
  to_round_id: string;
  from_zone: string | null;
  to_zone: string | null;
  slot: number;
  n: number;
}

export interface ImportJobsTable {
  id: Generated<string>;
  municipality_id: string;
  status: string;
  format: string;
  mode: string;
  dry_run: boolean;
  unit_ids: string[] | null;
  end_date: string | null;
  allowed_unit_ids: string[] | null;
  principal_kind: string;
  principal_id: string;
  role: string;
  request_id: string;
  rows_total: number | null;
  rows_done: Generated<number>;
  created: Generated<number>;
  updated: Generated<number>;
  unchanged: Generated<number>;
  rejected: Generated<number>;
  ended: Generated<number>;
  problem: unknown | null;
  leased_by: string | null;
  leased_until: Date | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface ImportRowsTable {
  job_id: string;
  municipality_id: string;
  row_no: number;
  data: unknown | null;
  parse_error: string | null;
}

export interface ImportErrorsTable {
  job_id: string;
  municipality_id: string;
  row_no: number;
  seq: number;
  field: string;
  message: string;
}

export interface KyselyMigrationTable {
  name: string;
  timestamp: string;
}

export interface DB {
  municipalities: MunicipalitiesTable;
  api_keys: ApiKeysTable;
  units: UnitsTable;
  children: ChildrenTable;
  enrolments: EnrolmentsTable;
  rulers: RulersTable;
  ruler_versions: RulerVersionsTable;
  rounds: RoundsTable;
  assessments: AssessmentsTable;
  idempotency_keys: IdempotencyKeysTable;
  action_guides: ActionGuidesTable;
  action_guide_versions: ActionGuideVersionsTable;
  recommendations: RecommendationsTable;
  recommendation_steps: RecommendationStepsTable;
  flags: FlagsTable;
  concern_reports: ConcernReportsTable;
  events: EventsTable;
  audit_log: AuditLogTable;
  erasures: ErasuresTable;
  consents: ConsentsTable;
  social_worker_assignments: SocialWorkerAssignmentsTable;
  transition_guidelines: TransitionGuidelinesTable;
  round_assessment_facts: RoundAssessmentFactsTable;
  zone_counts: ZoneCountsTable;
  zone_totals: ZoneTotalsTable;
  transition_counts: TransitionCountsTable;
  transition_totals: TransitionTotalsTable;
  analytics_versions: AnalyticsVersionsTable;
  parent_notices: ParentNoticesTable;
  parent_links: ParentLinksTable;
  parent_sessions: ParentSessionsTable;
  self_reports: SelfReportsTable;
  import_jobs: ImportJobsTable;
  import_rows: ImportRowsTable;
  import_errors: ImportErrorsTable;
  kysely_migration: KyselyMigrationTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
