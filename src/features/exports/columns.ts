import type { ParquetWriter } from 'hyparquet-writer';
import { ageBands } from '../analytics/schemas.js';
import { unitKinds } from '../units/schemas.js';

/*
 * One description per export column, from which the CSV header, the Parquet schema and the
 * published data dictionary (a Frictionless Table Schema) are all made, so they cannot drift.
 */

export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'list';

export interface ColumnSpec<C extends string = string> {
  name: C;
  type: ColumnType;
  /** May be null (an empty CSV field, a Parquet null). */
  nullable: boolean;
  description: string;
  /** The values it takes, when they are a fixed set (besides `*` where noted). */
  values?: readonly string[];
  /** `*` stands for a generalised value (the default export's quasi-identifiers). */
  generalised?: boolean;
}

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

const zones = ['green', 'yellow', 'red'] as const;
const sexes = ['female', 'male', 'other'] as const;
const flags = 'kinds of flags raised for the assessment (acknowledged or not), sorted';

/** Columns both exports have, by name. */
const shared = {
  ruler_key: {
    name: 'ruler_key',
    type: 'string',
    nullable: false,
    description: 'The ruler (screening instrument) the assessment was made on, e.g. topi-3.',
  },
  zone: {
    name: 'zone',
    type: 'string',
    nullable: true,
    description: 'The zone on the ruler; empty when there was not enough data for one.',
    values: zones,
  },
  level: {
    name: 'level',
    type: 'integer',
    nullable: true,
    description: "The overall position on the ruler's scale (1 = best); empty without one.",
  },
  score: {
    name: 'score',
    type: 'number',
    nullable: true,
    description: 'The score of a scored ruler; empty for rulers without a score.',
  },
  red_flag_count: {
    name: 'red_flag_count',
    type: 'integer',
    nullable: false,
    description: 'How many red flags were marked in the assessment.',
  },
  flags: {
    name: 'flags',
    type: 'list',
    nullable: false,
    description: `The ${flags}; in CSV one comma-separated field.`,
  },
} as const satisfies Record<string, ColumnSpec>;

export const exportColumnSpecs = [
  {
    name: 'round_id',
    type: 'string',
    nullable: false,
    description: 'The screening round (uuid).',
  },
  { name: 'round_name', type: 'string', nullable: false, description: "The round's name." },
  {
    name: 'round_start',
    type: 'date',
    nullable: false,
    description: "The first day of the round's window: the period of the row (no date).",
  },
  {
    name: 'district',
    type: 'string',
    nullable: true,
    generalised: true,
    description: "The unit's district; empty when the unit has none; * when generalised.",
  },
  {
    name: 'unit_kind',
    type: 'string',
    nullable: false,
    generalised: true,
    values: unitKinds,
    description: 'The kind of unit (nursery, school…); * when generalised.',
  },
  {
    name: 'age_band',
    type: 'string',
    nullable: true,
    generalised: true,
    values: ageBands,
    description:
      "Age in whole years at the round's start, banded; empty outside 0–17; * when generalised.",
  },
  {
    name: 'sex',
    type: 'string',
    nullable: true,
    generalised: true,
    values: sexes,
    description: 'Empty when not recorded; * when generalised.',
  },
  shared.ruler_key,
  shared.zone,
  shared.level,
  shared.score,
  shared.red_flag_count,
  shared.flags,
] as const satisfies readonly ColumnSpec[];

/**
 * The long-format export of item answers: one row per answered item of each assessment the
 * default export releases, with that assessment's (generalised) quasi-identifiers and zone.
 */
export const answerColumnSpecs = [
  {
    name: 'assessment',
    type: 'integer',
    nullable: false,
    description:
      "Numbers the assessments within this export only (1, 2, …), to put an assessment's items " +
      'together; not an id, and different in every export.',
  },
  ...exportColumnSpecs.slice(0, 7),
  shared.ruler_key,
  shared.zone,
  {
    name: 'item_key',
    type: 'string',
    nullable: false,
    description: "The ruler item (domain question) answered, as the ruler's definition names it.",
  },
  {
    name: 'domain',
    type: 'string',
    nullable: true,
    description: "The item's domain (e.g. a TOPI aspect); empty when the ruler gives none.",
  },
  {
    name: 'answer',
    type: 'integer',
    nullable: true,
    description: "The level given on the ruler's scale; empty when not applicable.",
  },
  {
    name: 'not_applicable',
    type: 'boolean',
    nullable: false,
    description: 'True when the item was answered as not applicable.',
  },
] as const satisfies readonly ColumnSpec[];

export const detailedColumnSpecs = [
  {
    name: 'child_pseudonym',
    type: 'string',
    nullable: false,
    description:
      'A stable pseudonym of the child (keyed HMAC-SHA256, 20 hex digits), the same in every ' +
      'export of this municipality, different in any other.',
  },
  {
    name: 'age_months',
    type: 'integer',
    nullable: false,
    description: 'Whole months of age on assessed_on (no birth date is exported).',
  },
  {
    name: 'sex',
    type: 'string',
    nullable: true,
    values: sexes,
    description: 'Empty when not recorded.',
  },
  { name: 'unit_id', type: 'string', nullable: false, description: 'The unit (uuid).' },
  {
    name: 'unit_kind',
    type: 'string',
    nullable: false,
    values: unitKinds,
    description: 'The kind of unit.',
  },
  { name: 'district', type: 'string', nullable: true, description: "The unit's district." },
  {
    name: 'round_id',
    type: 'string',
    nullable: true,
    description: 'The screening round (uuid); empty for an assessment outside a round.',
  },
  { name: 'round_name', type: 'string', nullable: true, description: "The round's name." },
  { name: 'assessed_on', type: 'date', nullable: false, description: 'The assessment date.' },
  shared.ruler_key,
  shared.zone,
  shared.level,
  shared.score,
  shared.red_flag_count,
  shared.flags,
  {
    name: 'status',
    type: 'string',
    nullable: false,
    values: ['current'],
    description: 'Always current: superseded and withdrawn versions are not exported.',
  },
] as const satisfies readonly ColumnSpec[];

const tableSchemaType: Record<
  ColumnType,
  'string' | 'integer' | 'number' | 'boolean' | 'date' | 'array'
> = {
  string: 'string',
  boolean: 'boolean',
  integer: 'integer',
  number: 'number',
  date: 'date',
  list: 'array',
};

/**
 * The Frictionless Table Schema (https://specs.frictionlessdata.io/table-schema/) of an
 * export: each field's name, type, description and allowed values; for CSV, an empty field is
 * null, and `flags` is a comma-separated list (an array in NDJSON and Parquet).
 */
export function tableSchema(specs: readonly ColumnSpec[], description: string) {
  return {
    $schema: 'https://frictionlessdata.io/schemas/table-schema.json',
    description,
    fields: specs.map((spec) => ({
      name: spec.name,
      type: tableSchemaType[spec.type],
      description: spec.description,
      ...(spec.type === 'list' ? { format: 'default', arrayItem: { type: 'string' } } : {}),
      constraints: {
        required: !spec.nullable,
        ...(spec.values
          ? { enum: spec.generalised ? [...spec.values, '*'] : [...spec.values] }
          : {}),
      },
    })),
    missingValues: [''],
  };
}

/** The Parquet schema of an export: dates as DATE, integers as INT32, `flags` a LIST of UTF8. */
export function parquetSchema(specs: readonly ColumnSpec[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: 'root', num_children: specs.length }];
  for (const spec of specs) {
    const repetition_type = spec.nullable ? 'OPTIONAL' : 'REQUIRED';
    if (spec.type === 'list') {
      schema.push(
        { name: spec.name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        {
          name: 'element',
          type: 'BYTE_ARRAY',
          converted_type: 'UTF8',
          repetition_type: 'REQUIRED',
        },
      );
    } else if (spec.type === 'date') {
      schema.push({ name: spec.name, type: 'INT32', converted_type: 'DATE', repetition_type });
    } else if (spec.type === 'integer') {
      schema.push({ name: spec.name, type: 'INT32', repetition_type });
    } else if (spec.type === 'number') {
      schema.push({ name: spec.name, type: 'DOUBLE', repetition_type });
    } else if (spec.type === 'boolean') {
      schema.push({ name: spec.name, type: 'BOOLEAN', repetition_type });
    } else {
      schema.push({ name: spec.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type });
    }
  }
  return schema;
}

export type AnswerColumn = (typeof answerColumnSpecs)[number]['name'];
