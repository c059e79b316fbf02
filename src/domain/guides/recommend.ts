import { addDays } from '../dates.js';
import type {
  AssessmentFacts,
  FlagKind,
  GuideDefinition,
  RaisedFlag,
  Recommendation,
  RecommendedStep,
  RoundFacts,
  Step,
} from './definition.js';
import { flagKinds } from './definition.js';

/**
 * Turns one assessment, the child's earlier assessments on the same ruler family and an action
 * guide into the steps to take and the flags to raise. Pure and deterministic: the same inputs
 * give deep-equal output, whatever the order of `previous` and `rounds`.
 *
 * `rounds` are the rounds on this ruler that covered the child, assessed or not (see
 * `RoundFacts`): without them a round the child missed is invisible, and `persistent` would
 * count yellow, not assessed, yellow as two consecutive rounds. Leaving them out is only right
 * when the child missed no round.
 *
 * - Only earlier assessments count: those before the current one by (assessedOn, id); the current
 *   id is ignored if it appears in `previous`. "Last" is the latest of them.
 * - No zone (insufficient data): no steps, no zone change; only `red_flag` can be raised.
 * - Steps are the zone's steps in guide order, filtered by their conditions (source `zone`);
 *   a zone change adds the trajectory's inform-parents step (source `zone_change`) when its own
 *   conditions allow it; a persistent yellow zone appends red's steps (source `escalation`).
 * - Flags come in the order of `flagKinds`: `deterioration`, `persistent`, `red_flag`.
 */

type Zone = 'green' | 'yellow' | 'red';

/** Zone rank: higher is better well-being. */
const zoneRank: Readonly<Record<Zone, number>> = { red: 0, yellow: 1, green: 2 };

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A total order on facts: (assessedOn, id), then every other field so ties stay stable. */
function compareFacts(a: AssessmentFacts, b: AssessmentFacts): number {
  return cmp(a.assessedOn, b.assessedOn) || cmp(a.id, b.id) || cmp(canonical(a), canonical(b));
}

function canonical(f: AssessmentFacts): string {
  return JSON.stringify([
    f.roundId,
    f.roundStart,
    f.rulerKey,
    f.higherIsBetter,
    f.zone,
    f.level,
    [...f.redFlagCategories].sort(),
    [...f.redFlags].sort(),
  ]);
}

/** Before the current assessment by (assessedOn, id), never the current id itself. */
function isBefore(candidate: AssessmentFacts, current: AssessmentFacts): boolean {
  if (candidate.id === current.id) return false;
  const byDate = cmp(candidate.assessedOn, current.assessedOn);
  return byDate < 0 || (byDate === 0 && cmp(candidate.id, current.id) < 0);
}

/** Whether a step's conditions let it through for these red-flag categories. */
export function stepApplies(
  step: Step,
  redFlagCategories: readonly string[],
  firstEntryIntoZone: boolean,
): boolean {
  const { whenRedFlagCategories, unlessRedFlagCategories } = step.conditions;
  const present = (categories: readonly string[]) =>
    categories.some((category) => redFlagCategories.includes(category));
  if (whenRedFlagCategories !== undefined && !present(whenRedFlagCategories)) return false;
  if (unlessRedFlagCategories !== undefined && present(unlessRedFlagCategories)) return false;
  if (step.conditions.firstEntryIntoZone === true && !firstEntryIntoZone) return false;
  return true;
}

function toRecommended(
  step: Step,
  assessedOn: string,
  source: RecommendedStep['source'],
): RecommendedStep {
  return {
    stepId: step.id,
    title: { da: step.title.da, en: step.title.en },
    description: { da: step.description.da, en: step.description.en },
    involve: [...step.involve],
    responsible: step.responsible,
    mandatory: step.mandatory,
    legalReference: step.legalReference ?? null,
    purpose: step.purpose,
    dueOn: addDays(assessedOn, step.deadlineDays),
    source,
  };
}

function capitalised(zone: Zone): string {
  return zone.charAt(0).toUpperCase() + zone.slice(1);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function deteriorationFlag(
  current: AssessmentFacts,
  last: AssessmentFacts,
  levelDrop: number,
): RaisedFlag | null {
  const parts: string[] = [];
  if (current.zone !== null && last.zone !== null && zoneRank[current.zone] < zoneRank[last.zone]) {
    parts.push(`the zone worsened from ${last.zone} to ${current.zone}`);
  }
  if (current.level !== null && last.level !== null) {
    const worseBy = current.higherIsBetter
      ? last.level - current.level
      : current.level - last.level;
    if (worseBy >= levelDrop) {
      parts.push(
        `the level worsened from ${last.level} to ${current.level} ` +
          `(${plural(worseBy, 'level')} worse; the threshold is ${levelDrop})`,
      );
    }
  }
  if (parts.length === 0) return null;
  return {
    kind: 'deterioration',
    reason: `Since the assessment on ${last.assessedOn}, ${parts.join(' and ')}.`,
  };
}

interface RoundEntry {
  roundId: string;
  /** The round's window start (or, for a round only known from an assessment without one, the
   * latest assessment's date). */
  start: string;
  /** The child's latest earlier assessment in the round; null: the round passed without one. */
  latest: AssessmentFacts | null;
}

function roundKeyCompare(a: RoundEntry, b: RoundEntry): number {
  return (
    cmp(a.start, b.start) ||
    cmp(a.latest?.assessedOn ?? '', b.latest?.assessedOn ?? '') ||
    cmp(a.latest?.id ?? '', b.latest?.id ?? '') ||
    cmp(a.roundId, b.roundId)
  );
}

/** One entry per round id, whatever the order or repetitions of `rounds`. */
function roundsById(rounds: readonly RoundFacts[]): Map<string, RoundFacts> {
  const byId = new Map<string, RoundFacts>();
  for (const round of rounds) {
    const seen = byId.get(round.id);
    if (
      seen === undefined ||
      cmp(round.windowStart, seen.windowStart) < 0 ||
      (round.windowStart === seen.windowStart && cmp(round.windowEnd, seen.windowEnd) < 0)
    ) {
      byId.set(round.id, round);
    }
  }
  return byId;
}

/**
 * `persistent`: the same non-green zone in `persistentRounds` consecutive rounds of the child's
 * series, the current round included. The series is every round before the current one in
 * which the child was assessed (its latest assessment there counts) and every round of
 * `rounds` (rounds that covered the child on this ruler) whose window closed before the current
 * assessment without one. Such a missed round breaks the series: yellow, not assessed, yellow
 * is not persistent ("consecutive" means no round in between, and a missed round is a signal of
 * its own: `not_assessed`). A round still open on the current assessment's date is not (yet)
 * missed and is left out. Rounds are ordered by their window start, then by the date of their
 * latest assessment.
 */
function persistentFlag(
  current: AssessmentFacts,
  earlier: readonly AssessmentFacts[],
  persistentRounds: number,
  rounds: readonly RoundFacts[],
): RaisedFlag | null {
  const zone = current.zone;
  if (current.roundId === null || (zone !== 'yellow' && zone !== 'red')) return null;
  const known = roundsById(rounds);
  const startOf = (roundId: string, facts: AssessmentFacts) =>
    known.get(roundId)?.windowStart ?? facts.roundStart ?? facts.assessedOn;
  const byRound = new Map<string, AssessmentFacts>();
  for (const facts of earlier) {
    if (facts.roundId === null || facts.roundId === current.roundId) continue;
    const seen = byRound.get(facts.roundId);
    if (seen === undefined || compareFacts(seen, facts) < 0) byRound.set(facts.roundId, facts);
  }
  const currentRound: RoundEntry = {
    roundId: current.roundId,
    start: startOf(current.roundId, current),
    latest: current,
  };
  const entries: RoundEntry[] = [...byRound.entries()].map(([roundId, latest]) => ({
    roundId,
    start: startOf(roundId, latest),
    latest,
  }));
  for (const round of known.values()) {
    if (round.id === current.roundId || byRound.has(round.id)) continue;
    if (cmp(round.windowEnd, current.assessedOn) >= 0) continue;
    entries.push({ roundId: round.id, start: round.windowStart, latest: null });
  }
  const before = entries
    .filter((round) => roundKeyCompare(round, currentRound) < 0)
    .sort(roundKeyCompare);
  const needed = persistentRounds - 1;
  if (before.length < needed) return null;
  const window = before.slice(before.length - needed);
  if (!window.every((round) => round.latest !== null && round.latest.zone === zone)) return null;
  const names = [...window, currentRound].map((round) => round.roundId).join(', ');
  return {
    kind: 'persistent',
    reason: `The child has been ${zone} in ${persistentRounds} consecutive rounds (${names}).`,
  };
}

function redFlagFlag(current: AssessmentFacts): RaisedFlag | null {
  if (current.redFlags.length === 0) return null;
  const flags = [...current.redFlags].sort().join(', ');
  const categories = [...new Set(current.redFlagCategories)].sort();
  return {
    kind: 'red_flag',
    reason:
      `Red flags present: ${flags}` +
      (categories.length > 0 ? ` (categories: ${categories.join(', ')}).` : '.'),
  };
}

function summarise(
  zone: Zone | null,
  previousZone: Zone | null,
  zoneChanged: boolean,
  steps: readonly RecommendedStep[],
  flags: readonly RaisedFlag[],
): string {
  const flagPart =
    flags.length === 0 ? 'no flags' : `flags: ${flags.map((flag) => flag.kind).join(', ')}`;
  if (zone === null) {
    return `Insufficient data: complete the assessment to get a zone and recommended steps; ${flagPart}.`;
  }
  const head =
    zoneChanged && previousZone !== null
      ? `${capitalised(zone)} (was ${previousZone})`
      : capitalised(zone);
  const mandatory = steps.filter((step) => step.mandatory).length;
  const stepPart =
    steps.length === 0 ? 'no steps' : `${plural(steps.length, 'step')}, ${mandatory} mandatory`;
  return `${head}: ${stepPart}; ${flagPart}.`;
}

export function recommend(
  current: AssessmentFacts,
  previous: readonly AssessmentFacts[],
  guide: GuideDefinition,
  rounds: readonly RoundFacts[] = [],
): Recommendation {
  const earlier = previous.filter((facts) => isBefore(facts, current)).sort(compareFacts);
  // The trajectory compares with the latest earlier assessment that placed the child in a zone:
  // one with insufficient data neither hides a change nor counts as a zone.
  const last = earlier.filter((facts) => facts.zone !== null).at(-1);
  const zone = current.zone;
  const previousZone = last?.zone ?? null;
  const raised: RaisedFlag[] = [];

  if (zone === null) {
    const redFlag = redFlagFlag(current);
    if (redFlag !== null) raised.push(redFlag);
    return {
      zone: null,
      previousZone,
      zoneChanged: false,
      flags: raised,
      steps: [],
      summary: summarise(null, previousZone, false, [], raised),
    };
  }

  const categories = current.redFlagCategories;
  const firstEntry = last === undefined || last.zone !== zone;
  const zoneChanged = last !== undefined && last.zone !== null && last.zone !== zone;
  const { trajectory } = guide;

  const steps: RecommendedStep[] = guide.zones[zone]
    .filter((step) => stepApplies(step, categories, firstEntry))
    .map((step) => toRecommended(step, current.assessedOn, 'zone'));
  const has = (id: string) => steps.some((step) => step.stepId === id);

  if (zoneChanged && trajectory.informParentsOnZoneChange) {
    const inform = trajectory.informParentsStep;
    if (stepApplies(inform, categories, firstEntry) && !has(inform.id)) {
      steps.push(toRecommended(inform, current.assessedOn, 'zone_change'));
    }
  }

  const candidates: Record<FlagKind, RaisedFlag | null> = {
    deterioration:
      last === undefined
        ? null
        : deteriorationFlag(current, last, trajectory.deteriorationLevelDrop),
    persistent: persistentFlag(current, earlier, trajectory.persistentRounds, rounds),
    not_assessed: null,
    red_flag: redFlagFlag(current),
  };
  for (const kind of flagKinds) {
    const flag = candidates[kind];
    if (flag !== null) raised.push(flag);
  }

  const persistent = candidates.persistent !== null;
  if (persistent && trajectory.escalateOnPersistent && zone === 'yellow') {
    for (const step of guide.zones.red) {
      if (stepApplies(step, categories, true) && !has(step.id)) {
        steps.push(toRecommended(step, current.assessedOn, 'escalation'));
      }
    }
  }

  return {
    zone,
    previousZone,
    zoneChanged,
    flags: raised,
    steps,
    summary: summarise(zone, previousZone, zoneChanged, steps, raised),
  };
}
