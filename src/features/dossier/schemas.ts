import { z } from 'zod';
import { AuditEntrySchema } from '../audit/schemas.js';

const Rows = z.array(z.record(z.string(), z.unknown()));

export const DossierSchema = z
  .object({
    generatedAt: z.iso.datetime({ offset: true }),
    municipalityId: z.uuid(),
    child: z
      .record(z.string(), z.unknown())
      .describe(
        'Master data. The CPR number is stored only as a keyed hash: hasCpr says if one is.',
      ),
    enrolments: Rows,
    assessments: Rows.describe('Every version: current, corrected and withdrawn.'),
    recommendations: Rows,
    steps: Rows,
    flags: Rows,
    consents: Rows,
    concernReports: Rows,
    parentNotices: Rows.describe('The duties to inform the parents, and how each was closed.'),
    selfReports: Rows.describe(
      "The child's own self-reports, whatever their purpose: the answers, zone and the " +
        'purpose stated to the child.',
    ),
    socialWorkerAssignments: Rows.describe('Social workers explicitly assigned to the child.'),
    events: Rows.describe('Change-feed events about the child (what integrations were sent).'),
    auditEntries: z.array(AuditEntrySchema).describe("Every recorded use of the child's data."),
  })
  .meta({ id: 'Dossier' });
export type Dossier = z.infer<typeof DossierSchema>;
