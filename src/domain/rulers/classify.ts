import type {
  Band,
  Classification,
  ClassificationInput,
  Disagreement,
  Explanation,
  Item,
  Level,
  Rating,
  RulerDefinition,
  Zone,
} from './definition.js';
import { ratedItems, scoreRange } from './validate.js';

/**
 * Classify one assessment on a ruler. Pure and deterministic.
 *
 * Assumes the input passed `answerDefects`; otherwise it does not throw: answers that are not
 * levels of the ruler and unknown keys are ignored, and reported red flags always make it red.
 */
export function classify(def: RulerDefinition, input: ClassificationInput): Classification {
  const levels = levelIndex(def);
  const rated = ratedItems(def);
  const tally = tallyAnswers(rated, input.joint, levels);
  const redFlags = presentRedFlags(def, input.redFlags);
  const disagreements = findDisagreements(rated, input.raterRatings ?? []);
  const base = applyRule(def, levels, tally, input.joint);

  const explanation: Explanation = {
    rule: def.rule.kind,
    outcome: base.zone === null ? 'insufficient_data' : 'classified',
    summary: '',
    decisiveLevel: base.level,
    decisiveItems: base.decisiveItems,
    redFlags,
    score: base.score,
    band: base.band,
    answeredItems: tally.answered.length,
    notApplicableItems: tally.notApplicable,
    minAnsweredItems: def.minAnsweredItems,
    disagreements,
  };

  let zone: Zone | null = base.zone;
  let summary: string;
  if (redFlags.length > 0) {
    zone = 'red';
    explanation.outcome = 'red_flag';
    const names = listing(redFlags.map((key) => `'${key}'`));
    const without = redFlags.length === 1 ? 'without it' : 'without them';
    summary =
      `Red: red ${redFlags.length === 1 ? 'flag' : 'flags'} ${names} reported, whatever the ` +
      `score; ${without}, ${base.zone === null ? `there would be no zone (${base.reason})` : base.reason}`;
  } else if (base.zone === null) {
    summary = `No zone: ${base.reason}`;
  } else {
    summary = `${capitalise(base.zone)}: ${base.reason}`;
  }
  if (disagreements.length > 0) {
    summary +=
      '; the raters disagree by more than one level on ' +
      listing(disagreements.map((d) => `${d.subject} (${d.levels.join(', ')})`));
  }
  explanation.summary = `${summary}.`;

  return { zone, level: base.level, score: base.score, explanation };
}

interface LevelIndex {
  /** The first level with each value. */
  byValue: Map<number, Level>;
}

function levelIndex(def: RulerDefinition): LevelIndex {
  const byValue = new Map<number, Level>();
  for (const level of def.levels) if (!byValue.has(level.value)) byValue.set(level.value, level);
  return { byValue };
}

interface Tally {
  /** Answered rated items with a level of the ruler, in definition order. */
  answered: { key: string; value: number }[];
  notApplicable: number;
  ratedCount: number;
}

function ownValue(rating: Rating | undefined, key: string): number | 'na' | undefined {
  const answers = rating?.answers;
  if (answers === undefined || answers === null || !Object.hasOwn(answers, key)) return undefined;
  return answers[key];
}

function tallyAnswers(rated: Item[], joint: Rating, levels: LevelIndex): Tally {
  const answered: Tally['answered'] = [];
  let notApplicable = 0;
  const seen = new Set<string>();
  for (const item of rated) {
    if (seen.has(item.key)) continue;
    seen.add(item.key);
    const value = ownValue(joint, item.key);
    if (value === 'na') notApplicable++;
    else if (typeof value === 'number' && levels.byValue.has(value)) {
      answered.push({ key: item.key, value });
    }
  }
  return { answered, notApplicable, ratedCount: seen.size };
}

function presentRedFlags(def: RulerDefinition, reported: string[] | undefined): string[] {
  const unique = new Set(reported ?? []);
  const ordered: string[] = [];
  // Ruler order first, then anything unknown (still treated as present: safety first).
  for (const item of def.items) {
    if (item.redFlag && unique.has(item.key) && !ordered.includes(item.key)) {
      ordered.push(item.key);
    }
  }
  const rest = [...unique].filter((key) => !ordered.includes(key)).sort();
  return [...ordered, ...rest];
}

function findDisagreements(rated: Item[], ratings: Rating[]): Disagreement[] {
  const out: Disagreement[] = [];
  const check = (subject: string, given: (number | 'na' | undefined)[]) => {
    const levels = [
      ...new Set(given.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))),
    ].sort((a, b) => a - b);
    const lo = levels[0];
    const hi = levels[levels.length - 1];
    if (lo !== undefined && hi !== undefined && hi - lo > 1) out.push({ subject, levels });
  };
  check(
    'overall',
    ratings.map((r) => r?.overallLevel),
  );
  const keys = [...new Set(rated.map((item) => item.key))].sort();
  for (const key of keys) {
    check(
      key,
      ratings.map((r) => ownValue(r, key)),
    );
  }
  return out;
}

interface RuleResult {
  zone: Zone | null;
  level: number | null;
  score: number | null;
  band: Band | null;
  decisiveItems: string[];
  /** The reason, without the leading zone word and final full stop. */
  reason: string;
}

function insufficient(reason: string): RuleResult {
  return { zone: null, level: null, score: null, band: null, decisiveItems: [], reason };
}

function tooFewAnswered(tally: Tally, needed: number): RuleResult {
  const na = tally.notApplicable > 0 ? ` (${tally.notApplicable} not applicable)` : '';
  return insufficient(
    `${tally.answered.length} of ${tally.ratedCount} items answered${na}, at least ${needed} needed`,
  );
}

function levelPhrase(level: Level): string {
  return `level ${level.value} (${level.label.da})`;
}

function applyRule(
  def: RulerDefinition,
  levels: LevelIndex,
  tally: Tally,
  joint: Rating,
): RuleResult {
  const rule = def.rule;
  switch (rule.kind) {
    case 'assessor_position': {
      if (tally.answered.length < def.minAnsweredItems) {
        return tooFewAnswered(tally, def.minAnsweredItems);
      }
      const overall = joint?.overallLevel;
      if (overall === undefined || overall === null) {
        return insufficient('no overall level was given');
      }
      const level = levels.byValue.get(overall);
      if (level === undefined) {
        return insufficient(`the overall level ${String(overall)} is not on the ruler`);
      }
      return {
        zone: level.zone,
        level: level.value,
        score: null,
        band: null,
        decisiveItems: [],
        reason: `the assessors placed the child at ${levelPhrase(level)}`,
      };
    }
    case 'worst_domain': {
      const needed = Math.max(def.minAnsweredItems, 1);
      if (tally.answered.length < needed) return tooFewAnswered(tally, needed);
      const values = tally.answered.map((a) => a.value);
      const worst = def.higherIsBetter ? Math.min(...values) : Math.max(...values);
      const level = levels.byValue.get(worst) as Level;
      const decisiveItems = tally.answered
        .filter((a) => a.value === worst)
        .map((a) => a.key)
        .sort();
      const named = listing(decisiveItems);
      return {
        zone: level.zone,
        level: level.value,
        score: null,
        band: null,
        decisiveItems,
        reason:
          decisiveItems.length === 1
            ? `the worst-rated item, ${named}, is at ${levelPhrase(level)}`
            : `the worst-rated items, ${named}, are at ${levelPhrase(level)}`,
      };
    }
    case 'mean_of_items':
    case 'sum_of_items': {
      const needed = Math.max(def.minAnsweredItems, 1);
      if (tally.answered.length < needed) return tooFewAnswered(tally, needed);
      const count = tally.answered.length;
      const sum = tally.answered.reduce((acc, a) => acc + a.value, 0); // integers: exact
      const n = tally.ratedCount;
      // The score as one exact fraction num/den (integers), divided once: never a running
      // sum of fractions, so boundary comparisons are exact.
      const prorated = rule.kind === 'sum_of_items' && count !== n;
      const num = prorated ? sum * n : sum;
      const den = rule.kind === 'mean_of_items' || prorated ? count : 1;
      const exact = num / den;
      const score = roundTo2(num, den);
      const range = scoreRange(def, rule.kind);
      const band = findBand(rule.bands, exact, range.max);
      const what =
        rule.kind === 'mean_of_items'
          ? `the mean of ${count} answered ${count === 1 ? 'item' : 'items'} is`
          : prorated
            ? `the sum prorated from ${count} of ${n} items is`
            : `the sum of ${count} ${count === 1 ? 'item' : 'items'} is`;
      const shown = showScore(score, exact, band);
      if (band === null) {
        return {
          ...insufficient(`${what} ${shown}, which falls in no band of the ruler`),
          score,
        };
      }
      return {
        zone: band.zone,
        level: null,
        score,
        band,
        decisiveItems: tally.answered.map((a) => a.key).sort(),
        reason: `${what} ${shown}, in the ${band.zone} band ${bandText(band, range.max)}`,
      };
    }
    default:
      return insufficient('the ruler has an unknown rule');
  }
}

/** `min <= score < max`; the band ending at the top of the range also includes the top. */
function findBand(bands: Band[], score: number, top: number): Band | null {
  const sorted = [...bands].sort((a, b) => a.min - b.min || a.max - b.max);
  for (const band of sorted) if (band.min <= score && score < band.max) return band;
  for (const band of sorted)
    if (band.max === top && score === top && band.min <= score) return band;
  return null;
}

function bandText(band: Band, top: number): string {
  return `[${String(band.min)}, ${String(band.max)}${band.max === top ? ']' : ')'}`;
}

/** num/den rounded half away from zero to 2 decimals, from one division. */
function roundTo2(num: number, den: number): number {
  const hundredths = (num * 100) / den;
  const rounded = (Math.sign(hundredths) * Math.round(Math.abs(hundredths))) / 100;
  return rounded === 0 ? 0 : rounded;
}

/** The rounded score, saying "just under"/"just over" when rounding crosses a band edge. */
function showScore(rounded: number, exact: number, band: Band | null): string {
  const text = rounded.toFixed(2);
  if (band !== null) {
    if (rounded >= band.max && exact < band.max) return `${text} (below ${band.max})`;
    if (rounded < band.min && exact >= band.min) return `${text} (at least ${band.min})`;
  }
  return text;
}

function listing(parts: string[]): string {
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
