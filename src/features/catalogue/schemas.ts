import { z } from 'zod';

/** One version of a catalogue entry, as its entry lists it. */
export const VersionSummarySchema = z.object({
  id: z.uuid(),
  version: z.number().int(),
  createdAt: z.iso.datetime(),
});

/** An entry's key: lower-case letters, digits and dashes. */
export const entryKey = /^[a-z0-9][a-z0-9-]{0,62}$/;
