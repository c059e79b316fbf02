import { z } from 'zod';

export const EraseChildSchema = z.object({
  reason: z
    .string()
    .trim()
    .min(1)
    .max(2000)
    .describe('Why (e.g. the legal basis); must not name the child.'),
});

export const ErasureSchema = z
  .object({
    erasureId: z.uuid(),
    tombstone: z.string().describe('Replaces the child in the audit log.'),
    erasedAt: z.iso.datetime({ offset: true }),
    source: z.enum(['request', 'retention']),
    alreadyErased: z.boolean().describe('True when this child had been erased before.'),
    deleted: z
      .record(z.string(), z.number().int())
      .describe('Rows removed (or tombstoned) per table.'),
  })
  .meta({ id: 'Erasure' });
export type Erasure = z.infer<typeof ErasureSchema>;
