/** Roles a principal (API key, later an identity-provider user) can have. */
export const roles = [
  'platform_admin',
  'municipality_admin',
  'unit_leader',
  'unit_staff',
  'social_worker',
  'analyst',
  'integration',
] as const;
export type Role = (typeof roles)[number];

/** Roles whose keys must be limited to named units: they see only their units' children. */
export const unitLimitedRoles: readonly Role[] = ['unit_leader', 'unit_staff'];
/** Roles for which a unit limit makes no sense (they act for a whole municipality or more). */
export const municipalityWideRoles: readonly Role[] = [
  'platform_admin',
  'municipality_admin',
  'analyst',
];

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
  'unit:read': [
    'municipality_admin',
    'unit_leader',
    'unit_staff',
    'social_worker',
    'analyst',
    'integration',
  ],
  'unit:write': ['municipality_admin', 'integration'],
  'child:read': ['municipality_admin', 'unit_leader', 'unit_staff', 'social_worker', 'integration'],
  'child:write': ['municipality_admin', 'unit_leader', 'unit_staff', 'integration'],
  'enrolment:write': ['municipality_admin', 'unit_leader', 'unit_staff', 'integration'],
  'ruler:read': [
    'municipality_admin',
    'unit_leader',
    'unit_staff',
    'social_worker',
    'analyst',
    'integration',
  ],
  'ruler:write': ['municipality_admin'],
  'round:read': [
    'municipality_admin',
    'unit_leader',
    'unit_staff',
    'social_worker',
    'analyst',
    'integration',
  ],
  'round:write': ['municipality_admin'],
  'coverage:read': ['municipality_admin', 'unit_leader', 'unit_staff', 'integration'],
  'assessment:read': [
    'municipality_admin',
    'unit_leader',
    'unit_staff',
    'social_worker',
    'integration',
  ],
  'assessment:write': ['municipality_admin', 'unit_leader', 'unit_staff', 'integration'],
  'guide:read': [
    'municipality_admin',
    'unit_leader',
    'unit_staff',
    'social_worker',
    'analyst',
    'integration',
  ],
  'guide:write': ['municipality_admin'],
  'recommendation:read': [
    'municipality_admin',
    'unit_leader',
    'unit_staff',
    'social_worker',
    'integration',
  ],
  'step:write': ['municipality_admin', 'unit_leader', 'unit_staff', 'social_worker', 'integration'],
  'flag:read': ['municipality_admin', 'unit_leader', 'unit_staff', 'social_worker', 'integration'],
  'flag:write': ['municipality_admin', 'unit_leader', 'unit_staff', 'social_worker', 'integration'],
  'concern_report:read': [
    'municipality_admin',
    'unit_leader',
    'unit_staff',
    'social_worker',
    'integration',
  ],
  'concern_report:write': [
    'municipality_admin',
    'unit_leader',
    'unit_staff',
    'social_worker',
    'integration',
  ],
  'round:close': ['municipality_admin', 'integration'],
  'event:read': ['municipality_admin', 'integration'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof permissions;

export const actions = Object.keys(permissions) as Action[];

export function isAllowed(role: Role, action: Action): boolean {
  return (permissions[action] as readonly Role[]).includes(role);
}
