import type { Band, Item, Level, Rating, RulerDefinition, Zone } from './definition.js';

/**
 * A problem with a ruler definition or with an assessment's input against a ruler.
 * `path` is dot-separated and relative to the checked object (e.g. `levels.2.value`,
 * `rule.bands.1.min`, `items.3.key`); `code` is stable and machine-readable; `message` is
 * plain English for the person who wrote the definition.
 */
export interface RulerDefect {
  path: string;
  message: string;
  code: string;
}

/** Every stable defect code this module can return. */
export const rulerDefectCodes = [
  'level_duplicate',
  'level_gap',
  'levels_not_ascending',
  'level_zones_not_monotone',
  'too_few_zones',
  'item_key_duplicate',
  'red_flag_category_without_red_flag',
  'red_flag_not_applicable',
  'no_rated_items',
  'min_answered_exceeds_rated',
  'raters_required_too_low',
  'band_empty',
  'band_range_start',
  'band_range_end',
  'band_gap',
  'band_overlap',
  'band_zones_not_monotone',
] as const;
export type RulerDefectCode = (typeof rulerDefectCodes)[number];

export const answerDefectCodes = [
  'unknown_level',
  'unknown_item',
  'red_flag_in_answers',
  'not_applicable_not_allowed',
  'unknown_red_flag',
  'red_flag_duplicate',
] as const;
export type AnswerDefectCode = (typeof answerDefectCodes)[number];

/** Zone rank: higher is better well-being. */
export const zoneRank: Readonly<Record<Zone, number>> = { red: 0, yellow: 1, green: 2 };

/** The rated (non-red-flag) items of a ruler, in definition order. */
export function ratedItems(def: RulerDefinition): Item[] {
  return def.items.filter((item) => !item.redFlag);
}

/** The score range of a score rule: [minLevel, maxLevel] for a mean, × n for a sum. */
export function scoreRange(
  def: RulerDefinition,
  kind: 'mean_of_items' | 'sum_of_items',
): { min: number; max: number } {
  const values = def.levels.map((level) => level.value);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const n = kind === 'sum_of_items' ? ratedItems(def).length : 1;
  return { min: lo * n, max: hi * n };
}

function defect(path: string, code: RulerDefectCode | AnswerDefectCode, message: string) {
  return { path, code, message };
}

function describeLevel(level: Level): string {
  return `level ${level.value} (${level.label.en})`;
}

function describeBand(band: Band, index: number): string {
  return `band ${index} (${band.zone}, ${band.min} to ${band.max})`;
}

function levelDefects(def: RulerDefinition): RulerDefect[] {
  const defects: RulerDefect[] = [];
  const seen = new Map<number, number>();
  def.levels.forEach((level, index) => {
    const first = seen.get(level.value);
    if (first !== undefined) {
      defects.push(
        defect(
          `levels.${index}.value`,
          'level_duplicate',
          `Level value ${level.value} is used twice (levels ${first} and ${index}); ` +
            'each level needs its own value.',
        ),
      );
    } else {
      seen.set(level.value, index);
    }
    const previous = def.levels[index - 1];
    if (previous !== undefined && level.value < previous.value) {
      defects.push(
        defect(
          `levels.${index}.value`,
          'levels_not_ascending',
          `Levels must be listed from the lowest value to the highest, but level value ` +
            `${level.value} comes after ${previous.value}.`,
        ),
      );
    }
  });

  const unique = [...seen.keys()].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let i = 1; i < unique.length; i++) {
    const below = unique[i - 1] as number;
    const above = unique[i] as number;
    // Cap the listing so a wild value cannot produce a huge message.
    for (let v = below + 1; v < above && missing.length <= 20; v++) missing.push(v);
  }
  if (missing.length > 0) {
    const shown =
      missing.length > 20 ? `${missing.slice(0, 20).join(', ')}, …` : missing.join(', ');
    defects.push(
      defect(
        'levels',
        'level_gap',
        `Level values must be consecutive whole numbers, but ${missing.length === 1 ? 'value' : 'values'} ` +
          `${shown} ${missing.length === 1 ? 'is' : 'are'} missing.`,
      ),
    );
  }

  // Zones along the scale, in value order (ties in original order).
  const sorted = def.levels
    .map((level, index) => ({ level, index }))
    .sort((a, b) => a.level.value - b.level.value || a.index - b.index);
  for (let i = 1; i < sorted.length; i++) {
    const lower = sorted[i - 1] as { level: Level; index: number };
    const upper = sorted[i] as { level: Level; index: number };
    if (lower.level.value === upper.level.value) continue;
    const step = zoneRank[upper.level.zone] - zoneRank[lower.level.zone];
    const worse = def.higherIsBetter ? step < 0 : step > 0;
    if (worse) {
      defects.push(
        defect(
          `levels.${upper.index}.zone`,
          'level_zones_not_monotone',
          `Zones must ${def.higherIsBetter ? 'never get worse going up' : 'never get better going up'} ` +
            `the scale (${def.higherIsBetter ? 'higher is better' : 'higher is worse'}), but ` +
            `${describeLevel(upper.level)} is ${upper.level.zone} while ` +
            `${describeLevel(lower.level)} is ${lower.level.zone}.`,
        ),
      );
    }
  }

  const zonesUsed = new Set(def.levels.map((level) => level.zone));
  if (zonesUsed.size < 2) {
    defects.push(
      defect(
        'levels',
        'too_few_zones',
        `The levels use only the ${[...zonesUsed].join(', ')} zone; a ruler needs at least two ` +
          'different zones to tell children apart.',
      ),
    );
  }
  return defects;
}

function itemDefects(def: RulerDefinition): RulerDefect[] {
  const defects: RulerDefect[] = [];
  const seen = new Map<string, number>();
  def.items.forEach((item, index) => {
    const first = seen.get(item.key);
    if (first !== undefined) {
      defects.push(
        defect(
          `items.${index}.key`,
          'item_key_duplicate',
          `Item key '${item.key}' is used twice (items ${first} and ${index}); keys must be unique.`,
        ),
      );
    } else {
      seen.set(item.key, index);
    }
    if (item.redFlagCategory !== undefined && !item.redFlag) {
      defects.push(
        defect(
          `items.${index}.redFlagCategory`,
          'red_flag_category_without_red_flag',
          `Item '${item.key}' has a red-flag category (${item.redFlagCategory}) but is not a red ` +
            'flag; set redFlag to true or remove the category.',
        ),
      );
    }
    if (item.redFlag && item.allowNotApplicable) {
      defects.push(
        defect(
          `items.${index}.allowNotApplicable`,
          'red_flag_not_applicable',
          `Red-flag item '${item.key}' allows "not applicable"; a red flag is either reported ` +
            'present or not, so it cannot be N/A.',
        ),
      );
    }
  });
  return defects;
}

function ruleDefects(def: RulerDefinition): RulerDefect[] {
  const defects: RulerDefect[] = [];
  const rated = ratedItems(def).length;
  const { rule } = def;
  if (rule.kind !== 'assessor_position' && rated === 0) {
    defects.push(
      defect(
        'items',
        'no_rated_items',
        `The rule '${rule.kind}' works on rated items, but the ruler has no rated ` +
          '(non-red-flag) item.',
      ),
    );
  }
  if (def.minAnsweredItems > rated) {
    defects.push(
      defect(
        'minAnsweredItems',
        'min_answered_exceeds_rated',
        `At least ${def.minAnsweredItems} answered items are required, but the ruler has only ` +
          `${rated} rated ${rated === 1 ? 'item' : 'items'}, so no assessment could ever get a zone.`,
      ),
    );
  }
  if (!(def.ratersRequired >= 1)) {
    defects.push(
      defect(
        'ratersRequired',
        'raters_required_too_low',
        `At least one rater is required, not ${def.ratersRequired}.`,
      ),
    );
  }
  if (rule.kind === 'mean_of_items' || rule.kind === 'sum_of_items') {
    if (rule.kind === 'sum_of_items' && rated === 0) return defects; // range undefined
    defects.push(...bandDefects(def, rule.kind, rule.bands));
  }
  return defects;
}

function bandDefects(
  def: RulerDefinition,
  kind: 'mean_of_items' | 'sum_of_items',
  bands: Band[],
): RulerDefect[] {
  const defects: RulerDefect[] = [];
  const range = scoreRange(def, kind);
  const scoreName = kind === 'mean_of_items' ? 'mean' : 'sum';
  bands.forEach((band, index) => {
    if (!(band.min < band.max)) {
      defects.push(
        defect(
          `rule.bands.${index}.max`,
          'band_empty',
          `${capitalise(describeBand(band, index))} is empty: its min must be below its max.`,
        ),
      );
    }
  });
  const sorted = bands
    .map((band, index) => ({ band, index }))
    .sort((a, b) => a.band.min - b.band.min || a.band.max - b.band.max || a.index - b.index);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (first === undefined || last === undefined) return defects;
  if (first.band.min !== range.min) {
    defects.push(
      defect(
        `rule.bands.${first.index}.min`,
        'band_range_start',
        `The lowest band, ${describeBand(first.band, first.index)}, must start at ${range.min}, ` +
          `the lowest possible ${scoreName}, not at ${first.band.min}.`,
      ),
    );
  }
  for (let i = 1; i < sorted.length; i++) {
    const lower = sorted[i - 1] as { band: Band; index: number };
    const upper = sorted[i] as { band: Band; index: number };
    if (lower.band.max < upper.band.min) {
      defects.push(
        defect(
          `rule.bands.${upper.index}.min`,
          'band_gap',
          `There is a gap between ${describeBand(lower.band, lower.index)} and ` +
            `${describeBand(upper.band, upper.index)}: scores from ${lower.band.max} up to ` +
            `${upper.band.min} fall in no band.`,
        ),
      );
    } else if (lower.band.max > upper.band.min) {
      defects.push(
        defect(
          `rule.bands.${upper.index}.min`,
          'band_overlap',
          `${capitalise(describeBand(lower.band, lower.index))} and ` +
            `${describeBand(upper.band, upper.index)} overlap: scores from ${upper.band.min} to ` +
            `${Math.min(lower.band.max, upper.band.max)} fall in both.`,
        ),
      );
    }
    const step = zoneRank[upper.band.zone] - zoneRank[lower.band.zone];
    const worse = def.higherIsBetter ? step < 0 : step > 0;
    if (worse) {
      defects.push(
        defect(
          `rule.bands.${upper.index}.zone`,
          'band_zones_not_monotone',
          `Band zones must ${def.higherIsBetter ? 'never get worse' : 'never get better'} as the ` +
            `${scoreName} rises (${def.higherIsBetter ? 'higher is better' : 'higher is worse'}), ` +
            `but ${describeBand(upper.band, upper.index)} is ${upper.band.zone} while ` +
            `${describeBand(lower.band, lower.index)} below it is ${lower.band.zone}.`,
        ),
      );
    }
  }
  const top = Math.max(...bands.map((band) => band.max));
  if (top !== range.max) {
    const topBand = sorted.find((entry) => entry.band.max === top) ?? last;
    defects.push(
      defect(
        `rule.bands.${topBand.index}.max`,
        'band_range_end',
        `The highest band, ${describeBand(topBand.band, topBand.index)}, must end at ` +
          `${range.max}, the highest possible ${scoreName}, not at ${top}.`,
      ),
    );
  }
  return defects;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Every defect of a ruler definition that passed `RulerDefinitionSchema` (the schema checks
 * shapes; this checks meaning). An empty list means the ruler can be used.
 */
export function rulerDefects(def: RulerDefinition): RulerDefect[] {
  return [...levelDefects(def), ...itemDefects(def), ...ruleDefects(def)];
}

function joinPath(prefix: string, rest: string): string {
  return prefix === '' ? rest : `${prefix}.${rest}`;
}

/**
 * Every defect of an assessment's rating and reported red flags against a ruler.
 * Rating paths are `${pathPrefix}.overallLevel` and `${pathPrefix}.answers.<key>`;
 * red-flag paths are `redFlags.<index>` (no prefix).
 */
export function answerDefects(
  def: RulerDefinition,
  rating: Rating,
  redFlags: string[],
  pathPrefix: string,
): RulerDefect[] {
  const defects: RulerDefect[] = [];
  const levelValues = new Set(def.levels.map((level) => level.value));
  const itemsByKey = new Map<string, Item>();
  for (const item of def.items) if (!itemsByKey.has(item.key)) itemsByKey.set(item.key, item);
  const scale = describeScale(def);

  if (rating.overallLevel !== undefined && !levelValues.has(rating.overallLevel)) {
    defects.push(
      defect(
        joinPath(pathPrefix, 'overallLevel'),
        'unknown_level',
        `Overall level ${String(rating.overallLevel)} is not on the ruler (${scale}).`,
      ),
    );
  }

  for (const [key, value] of Object.entries(rating.answers ?? {})) {
    const path = joinPath(pathPrefix, `answers.${key}`);
    const item = itemsByKey.get(key);
    if (item === undefined) {
      defects.push(defect(path, 'unknown_item', `The ruler has no item '${key}'.`));
      continue;
    }
    if (item.redFlag) {
      defects.push(
        defect(
          path,
          'red_flag_in_answers',
          `'${key}' is a red flag, not a rated item: report it in redFlags when present ` +
            'instead of answering it.',
        ),
      );
      continue;
    }
    if (value === 'na') {
      if (!item.allowNotApplicable) {
        defects.push(
          defect(
            path,
            'not_applicable_not_allowed',
            `Item '${key}' does not allow "not applicable" (na); answer it with a level (${scale}).`,
          ),
        );
      }
    } else if (typeof value !== 'number' || !levelValues.has(value)) {
      defects.push(
        defect(
          path,
          'unknown_level',
          `The answer ${String(value)} to item '${key}' is not a level on the ruler (${scale}).`,
        ),
      );
    }
  }

  const seen = new Map<string, number>();
  redFlags.forEach((key, index) => {
    const path = `redFlags.${index}`;
    const first = seen.get(key);
    if (first !== undefined) {
      defects.push(
        defect(
          path,
          'red_flag_duplicate',
          `Red flag '${key}' is reported twice (redFlags.${first} and redFlags.${index}).`,
        ),
      );
      return;
    }
    seen.set(key, index);
    const item = itemsByKey.get(key);
    if (item === undefined || !item.redFlag) {
      const known = def.items.filter((i) => i.redFlag).map((i) => `'${i.key}'`);
      defects.push(
        defect(
          path,
          'unknown_red_flag',
          item === undefined
            ? `The ruler has no red flag '${key}'` +
                (known.length > 0 ? ` (it has ${known.join(', ')}).` : ' (it has none).')
            : `'${key}' is a rated item, not a red flag; answer it in answers instead.`,
        ),
      );
    }
  });
  return defects;
}

function describeScale(def: RulerDefinition): string {
  const values = def.levels.map((level) => level.value).sort((a, b) => a - b);
  return values.length <= 12
    ? `levels ${values.join(', ')}`
    : `levels ${values[0]} to ${values[values.length - 1]}`;
}
