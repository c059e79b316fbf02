/** Roles an API key or an identity-provider user can have. */
export const roles = [
  'platform_admin',
  'municipality_admin',
  'unit_leader',
  'unit_staff',
  'social_worker',
  'analyst',
  'integration',
] as const;
/**
 * `parent`: a parent who opened a one-time link of the child's unit (issue 18). Never a key's or
 * a user's role; it may do nothing but the `parent_view:*` actions, for its one child.
 */
export type Role = StaffRole | 'parent';
/** The roles of API keys and identity-provider users. */
export type StaffRole = (typeof roles)[number];

/** Roles whose keys must be limited to named units: they see only their units' children. */
export const unitLimitedRoles: readonly Role[] = ['unit_leader', 'unit_staff'];
/** Roles for which a unit limit makes no sense (they act for a whole municipality or more). */
export const municipalityWideRoles: readonly Role[] = [
  'platform_admin',
  'municipality_admin',
  'analyst',
];

/** Everyone working inside a municipality. */
const inMunicipality = [
  'municipality_admin',
  'unit_leader',
  'unit_staff',
  'social_worker',
  'analyst',
  'integration',
] as const satisfies readonly Role[];
/** Those who work with individual children (analysts see aggregates only). */
const caseWork = [
  'municipality_admin',
  'unit_leader',
  'unit_staff',
  'social_worker',
  'integration',
] as const satisfies readonly Role[];

/** Those who record children's data: the units' people and integrations. */
const unitWork = [
  'municipality_admin',
  'unit_leader',
  'unit_staff',
  'integration',
] as const satisfies readonly Role[];

/**
 * The permission table: which roles may perform each action. Every `/v1` route names exactly
 * one action (the app refuses to start otherwise); the README's role table mirrors this one
 * and a test keeps the two equal.
 */
export const permissions = {
  'session:read': roles,
  'municipality:create': ['platform_admin'],
  'municipality:list': ['platform_admin'],
  'municipality:read': roles,
  'api_key:manage': ['platform_admin', 'municipality_admin'],
  'unit:read': inMunicipality,
  'unit:write': ['municipality_admin', 'integration'],
  'child:read': caseWork,
  'child:write': unitWork,
  'enrolment:write': unitWork,
  'ruler:read': inMunicipality,
  'ruler:write': ['municipality_admin'],
  'round:read': inMunicipality,
  'round:write': ['municipality_admin'],
  'coverage:read': unitWork,
  'assessment:read': caseWork,
  'assessment:write': unitWork,
  'guide:read': inMunicipality,
  'guide:write': ['municipality_admin'],
  'recommendation:read': caseWork,
  'step:write': caseWork,
  'flag:read': caseWork,
  'flag:write': caseWork,
  // Parent information (issue 18): a duty of the unit that assessed the child, recorded by its
  // people or an integration (e.g. a letter sent by digital post); social workers and analysts
  // have no part in it.
  'parent_notice:read': unitWork,
  'parent_notice:write': unitWork,
  // Which languages the parent letters are offered in besides Danish: municipal policy.
  'parent_letter:configure': ['municipality_admin'],
  // The parent view (issue 18): a unit hands a parent a one-time link to the child's record as
  // shared with parents; the parent's session reads it and revokes consents, nothing else.
  'parent_link:read': unitWork,
  'parent_link:write': unitWork,
  'parent_view:read': ['parent'],
  'parent_view:write': ['parent'],
  // The child's own voice (issue 18): recorded where the child answered, by the unit's people or
  // the integration that carried the form; read only as far as the purpose stated to the child
  // covers the reader (src/domain/self-report.ts): the unit where it was given, an involved
  // social worker for `support`, the administrator only that one exists. Integrations and
  // analysts never read individual reports (analysts get the statistics-only aggregates).
  'self_report:read': ['municipality_admin', 'unit_leader', 'unit_staff', 'social_worker'],
  'self_report:write': ['unit_leader', 'unit_staff', 'integration'],
  'concern_report:read': caseWork,
  'concern_report:write': caseWork,
  // Consents are recorded by whoever the parents (or the child) give them to: the unit's staff
  // and leader, a social worker (interdisciplinary sharing), or an integration carrying
  // consents from a parent portal. The same people record a revocation, which has to take
  // effect at once whoever receives it.
  'consent:read': caseWork,
  'consent:write': caseWork,
  // A consent a unit-limited key records for its own unit takes effect only when a leader of
  // that unit or the administrator confirms it (never the recorder): a unit cannot grant
  // itself access to what earlier units recorded.
  'consent:confirm': ['municipality_admin', 'unit_leader'],
  'handover:read': caseWork,
  // Explicit involvement of a social worker with a child (besides a step or concern report
  // naming child services): given by the administrator or the leader of the child's unit.
  'social_worker_assignment:read': caseWork,
  'social_worker_assignment:write': ['municipality_admin', 'unit_leader'],
  // Transition guidelines are municipal policy: those who work with children may read them
  // (analysts see aggregates only); only the municipality's administrator switches them.
  'guideline:read': caseWork,
  'guideline:write': ['municipality_admin'],
  'round:close': ['municipality_admin', 'integration'],
  'event:read': ['municipality_admin', 'integration'],
  'analytics:read': ['municipality_admin', 'analyst'],
  // The detailed row export (exact dates, units, ages in months, stable child pseudonyms) is
  // finer than anything an analyst sees: the data controller's, for approved research.
  'export:detailed': ['municipality_admin'],
  // Coverage and follow-through aggregates: also a unit leader's, for its own units only (the
  // service limits the query to them; the same small-cell suppression applies).
  'unit_analytics:read': ['municipality_admin', 'unit_leader', 'analyst'],
  // Accountability: the audit log, a child's dossier (access requests) and erasure are the
  // municipality administrator's (the data controller's) alone.
  'audit:read': ['municipality_admin'],
  'dossier:read': ['municipality_admin'],
  'child:erase': ['municipality_admin'],
  // FHIR R4 (issue 18): a child's bundle (its assessments as QuestionnaireResponses, its steps
  // as Tasks) is the same data a child's timeline and steps show, to the same people, for case
  // exchange; the municipality's bulk NDJSON export is the administrator's and the
  // integrations' (a municipality-wide system), like the change feed.
  'fhir:read': caseWork,
  'fhir:export': ['municipality_admin', 'integration'],
  // Webhook subscriptions send the municipality's events (ids only) to an outside system: the
  // administrator's decision, like its API keys.
  'webhook:manage': ['municipality_admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof permissions;

export const actions = Object.keys(permissions) as Action[];

export function isAllowed(role: Role, action: Action): boolean {
  return (permissions[action] as readonly Role[]).includes(role);
}
