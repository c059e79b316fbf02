import { addDays, addMonths, ageInMonths, maxDate, minDate } from '../domain/dates.js';
import type { UnitKind } from '../features/units/schemas.js';
import { createRng, type Rng } from './random.js';

/**
 * The demo municipality as a plan, pure and deterministic: the same seed, size and date give the
 * same plan. `generate.ts` then records it through the API.
 */

export const DEMO_MUNICIPALITY = { code: '999', name: 'Demo Kommune' } as const;

export type Zone = 'green' | 'yellow' | 'red';
export type Level = 1 | 2 | 3;

export interface UnitPlan {
  key: string;
  name: string;
  kind: UnitKind;
  district: string;
  externalRef: string;
  /** The professionals who assess the children (topi-3 needs two). */
  staff: ReadonlyArray<{ name: string; role: 'unit_staff' | 'unit_leader' | 'teacher' }>;
}

/** A period in one unit; end null = still enrolled. */
export interface EnrolmentPlan {
  unitKey: string;
  start: string;
  end: string | null;
}

export interface ChildPlan {
  index: number;
  externalRef: string;
  givenName: string;
  familyName: string;
  birthDate: string;
  sex: 'female' | 'male' | undefined;
  district: string;
  enrolments: EnrolmentPlan[];
}

export interface RoundPlan {
  name: string;
  windowStart: string;
  windowEnd: string;
}

export interface AssessmentPlan {
  childIndex: number;
  roundIndex: number;
  unitKey: string;
  assessedOn: string;
  level: Level;
  answers: Record<string, number | 'na'>;
  raters: Array<{ name: string; role: string; rating: { overallLevel: number } }>;
  redFlags: string[];
  justification: string | undefined;
  childPerspective: string | undefined;
  parentsInformed: boolean;
  /** A concern report (underretning) recorded after the assessment, for most red children. */
  concernReport: { reportedOn: string; reference: string; reportedBy: string } | undefined;
}

export interface DemoPlan {
  today: string;
  units: UnitPlan[];
  children: ChildPlan[];
  rounds: RoundPlan[];
  /** Per round, in the order they are recorded. */
  assessments: AssessmentPlan[][];
}

/** Unit kinds the rounds cover: daycare and school (after-school care is assessed by school). */
export const SCREENED_KINDS: UnitKind[] = [
  'nursery',
  'kindergarten',
  'integrated_daycare',
  'school',
];

export const DEMO_UNITS: readonly UnitPlan[] = [
  {
    key: 'maelkeboetten',
    name: 'Vuggestuen Mælkebøtten',
    kind: 'nursery',
    district: 'Nord',
    externalRef: 'demo-unit-01',
    staff: [
      { name: 'Mette Holm', role: 'unit_staff' },
      { name: 'Sara Lund', role: 'unit_staff' },
      { name: 'Lone Bak', role: 'unit_leader' },
    ],
  },
  {
    key: 'solsikken',
    name: 'Børnehaven Solsikken',
    kind: 'kindergarten',
    district: 'Nord',
    externalRef: 'demo-unit-02',
    staff: [
      { name: 'Anna Friis', role: 'unit_staff' },
      { name: 'Bo Vestergaard', role: 'unit_staff' },
      { name: 'Karen Dahl', role: 'unit_leader' },
    ],
  },
  {
    key: 'regnbuen',
    name: 'Børnehuset Regnbuen',
    kind: 'integrated_daycare',
    district: 'Midt',
    externalRef: 'demo-unit-03',
    staff: [
      { name: 'Pia Skov', role: 'unit_staff' },
      { name: 'Jonas Krog', role: 'unit_staff' },
      { name: 'Hanne Berg', role: 'unit_leader' },
    ],
  },
  {
    key: 'midtbyskolen',
    name: 'Midtbyskolen',
    kind: 'school',
    district: 'Midt',
    externalRef: 'demo-unit-04',
    staff: [
      { name: 'Lars Thomsen', role: 'teacher' },
      { name: 'Camilla Vang', role: 'teacher' },
      { name: 'Peter Bruun', role: 'unit_leader' },
    ],
  },
  {
    key: 'sfo-midtbyen',
    name: 'SFO Midtbyen',
    kind: 'after_school',
    district: 'Midt',
    externalRef: 'demo-unit-05',
    staff: [
      { name: 'Rikke Søe', role: 'unit_staff' },
      { name: 'Tina Mose', role: 'unit_leader' },
    ],
  },
  {
    key: 'kastanjen',
    name: 'Børnehuset Kastanjen',
    kind: 'integrated_daycare',
    district: 'Syd',
    externalRef: 'demo-unit-06',
    staff: [
      { name: 'Maja Winther', role: 'unit_staff' },
      { name: 'Ali Hassan', role: 'unit_staff' },
      { name: 'Birgit Lauridsen', role: 'unit_leader' },
    ],
  },
  {
    key: 'sydskolen',
    name: 'Sydskolen',
    kind: 'school',
    district: 'Syd',
    externalRef: 'demo-unit-07',
    staff: [
      { name: 'Niels Juhl', role: 'teacher' },
      { name: 'Sanne Ravn', role: 'teacher' },
      { name: 'Ole Kjær', role: 'unit_leader' },
    ],
  },
  {
    key: 'sfo-sydstjernen',
    name: 'SFO Sydstjernen',
    kind: 'after_school',
    district: 'Syd',
    externalRef: 'demo-unit-08',
    staff: [
      { name: 'Helle Brandt', role: 'unit_staff' },
      { name: 'Kim Storm', role: 'unit_leader' },
    ],
  },
];

/** Where the children of each district go, from daycare to after-school care. */
const pathways: Record<
  string,
  { nursery?: string; kindergarten?: string; integrated?: string; school: string; sfo: string }
> = {
  Nord: {
    nursery: 'maelkeboetten',
    kindergarten: 'solsikken',
    school: 'midtbyskolen',
    sfo: 'sfo-midtbyen',
  },
  Midt: { integrated: 'regnbuen', school: 'midtbyskolen', sfo: 'sfo-midtbyen' },
  Syd: { integrated: 'kastanjen', school: 'sydskolen', sfo: 'sfo-sydstjernen' },
};

const girls = (
  'Ida Emma Alma Freja Clara Ella Agnes Karla Olivia Sofia Nora Luna Ellen Asta Lærke Laura ' +
  'Josefine Marie Anna Mathilde'
).split(' ');
const boys = (
  'William Oscar Noah Carl Alfred Valdemar Lucas Emil Aksel Malthe Oliver Arthur Elias ' +
  'August Viggo Magnus Felix Theo Victor Frederik'
).split(' ');
const familyNames = (
  'Jensen Nielsen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Jørgensen ' +
  'Petersen Madsen Kristensen Olsen Thomsen Poulsen Johansen Møller Mortensen Knudsen ' +
  'Jakobsen Mikkelsen Laursen Frederiksen'
).split(' ');

const justifications: Record<Exclude<Zone, 'green'>, string[]> = {
  yellow: [
    'Trækker sig fra legen og virker ofte ked af det.',
    'Svært ved at indgå i fællesskabet; mange konflikter med de andre børn.',
    'Uregelmæssigt fremmøde og ofte træt om morgenen.',
    'Forældrene fortæller om uro derhjemme; barnet er urolig og let at vippe af pinden.',
    'Sproget halter efter, og barnet giver hurtigt op.',
  ],
  red: [
    'Massivt fravær og tydelig mistrivsel over længere tid.',
    'Virker utryg ved afhentning og er meget indadvendt.',
    'Voldsomme udbrud, isolerer sig fra fællesskabet og spiser ikke.',
    'Mangelfuld hygiejne og påklædning; virker sulten og træt.',
  ],
};
const redFlagJustification = 'Barnet har mærker på armene og fortæller om slag derhjemme.';
const childViews = [
  'Jeg kan godt lide frikvartererne.',
  'Nogle gange er der ingen at lege med.',
  'Jeg glæder mig til fodbold efter skole.',
  'Det er svært at koncentrere sig i klassen.',
];

/** Zone transitions between rounds: mostly stable, so that ~80 / 15 / 5 % holds over time. */
const transitions: Record<Level, ReadonlyArray<readonly [Level, number]>> = {
  1: [
    [1, 0.93],
    [2, 0.06],
    [3, 0.01],
  ],
  2: [
    [1, 0.35],
    [2, 0.55],
    [3, 0.1],
  ],
  3: [
    [1, 0.05],
    [2, 0.35],
    [3, 0.6],
  ],
};
const initial: ReadonlyArray<readonly [Level, number]> = [
  [1, 0.8],
  [2, 0.15],
  [3, 0.05],
];

/** Share of the children enrolled in a round's units who are assessed in it. */
export const ASSESSED_SHARE = 0.92;
const TOPI_ASPECTS = ['social_skills', 'safety_and_care', 'participation', 'self_esteem'];

/** The last three screening windows (spring 1 Apr – 15 May, autumn 1 Oct – 15 Nov) before today. */
export function planRounds(today: string): RoundPlan[] {
  const year = Number(today.slice(0, 4));
  const windows: RoundPlan[] = [];
  for (let y = year - 2; y <= year; y += 1) {
    windows.push({ name: `Forår ${y}`, windowStart: `${y}-04-01`, windowEnd: `${y}-05-15` });
    windows.push({ name: `Efterår ${y}`, windowStart: `${y}-10-01`, windowEnd: `${y}-11-15` });
  }
  return windows.filter((w) => w.windowEnd < today).slice(-3);
}

function childEnrolments(
  rng: Rng,
  birthDate: string,
  district: string,
  today: string,
  historyFrom: string,
): EnrolmentPlan[] {
  const path = pathways[district];
  if (!path) throw new Error(`no pathway for ${district}`);
  const birthYear = Number(birthDate.slice(0, 4));
  // Daycare from 10–13 months; kindergarten at 3; school (0. klasse) in August of the year the
  // child turns 6; after-school care (SFO) until the summer after 3rd grade.
  const daycareStart = minDate(addDays(birthDate, rng.int(300, 400)), today);
  const schoolStart = `${birthYear + 6}-08-01`;
  const sfoEnd = `${birthYear + 10}-07-31`;
  const periods: EnrolmentPlan[] = [];
  if (path.integrated) {
    periods.push({ unitKey: path.integrated, start: daycareStart, end: addDays(schoolStart, -1) });
  } else if (path.nursery && path.kindergarten) {
    const kindergartenStart = maxDate(addMonths(birthDate, 36), addDays(daycareStart, 1));
    periods.push({
      unitKey: path.nursery,
      start: daycareStart,
      end: addDays(kindergartenStart, -1),
    });
    periods.push({
      unitKey: path.kindergarten,
      start: kindergartenStart,
      end: addDays(schoolStart, -1),
    });
  }
  periods.push({ unitKey: path.school, start: schoolStart, end: null });
  if (rng.chance(0.85)) periods.push({ unitKey: path.sfo, start: schoolStart, end: sfoEnd });
  return periods
    .filter((p) => p.start <= today && (p.end === null || p.end >= historyFrom))
    .map((p) => ({ ...p, end: p.end !== null && p.end >= today ? null : p.end }));
}

function answersFor(rng: Rng, level: Level, ageMonths: number): Record<string, number | 'na'> {
  const answers: Record<string, number | 'na'> = {};
  for (const aspect of TOPI_ASPECTS) {
    if (aspect === 'self_esteem' && ageMonths < 24) {
      answers[aspect] = 'na';
      continue;
    }
    answers[aspect] =
      level === 1 ? (rng.chance(0.08) ? 2 : 1) : rng.pick([level - 1, level, level] as const);
  }
  // The joint position is reflected in at least one aspect.
  if (!Object.values(answers).includes(level)) answers[TOPI_ASPECTS[0] as string] = level;
  return answers;
}

export function planDemo(options: { seed: number; children: number; today: string }): DemoPlan {
  const { seed, today } = options;
  const root = createRng(seed);
  const rounds = planRounds(today);
  const firstRound = rounds[0];
  if (!firstRound) throw new Error('no screening window before today');
  const historyFrom = addDays(firstRound.windowStart, -365);
  const units = DEMO_UNITS.map((u) => ({ ...u }));
  const unitByKey = new Map(units.map((u) => [u.key, u]));

  const children: ChildPlan[] = [];
  const people = root.fork('children');
  for (let index = 0; index < options.children; index += 1) {
    const rng = people.fork(`child:${index}`);
    // 10 months to 12 years 11 months old today.
    const birthDate = addDays(today, -rng.int(305, 13 * 365 - 30));
    const sex = rng.weighted([
      ['female', 0.49],
      ['male', 0.49],
      [undefined, 0.02],
    ] as const);
    const district = rng.weighted([
      ['Nord', 0.35],
      ['Midt', 0.35],
      ['Syd', 0.3],
    ] as const);
    children.push({
      index,
      externalRef: `demo-${String(index + 1).padStart(4, '0')}`,
      givenName: rng.pick(sex === 'male' ? boys : sex === 'female' ? girls : [...girls, ...boys]),
      familyName: rng.pick(familyNames),
      birthDate,
      sex,
      district,
      enrolments: childEnrolments(rng, birthDate, district, today, historyFrom),
    });
  }

  const assessments: AssessmentPlan[][] = rounds.map(() => []);
  let reportNumber = 0;
  for (const child of children) {
    const rng = root.fork(`trajectory:${child.index}`);
    let level: Level = rng.weighted(initial);
    for (const [roundIndex, round] of rounds.entries()) {
      if (roundIndex > 0) level = rng.weighted(transitions[level]);
      const assessed = rng.chance(ASSESSED_SHARE);
      // The screened enrolment with the longest overlap with the window.
      let best: { unitKey: string; from: string; to: string; days: number } | undefined;
      for (const e of child.enrolments) {
        const unit = unitByKey.get(e.unitKey);
        if (!unit || !SCREENED_KINDS.includes(unit.kind)) continue;
        const from = maxDate(e.start, round.windowStart);
        const to = minDate(e.end ?? round.windowEnd, round.windowEnd);
        if (from > to) continue;
        const days = (Date.parse(to) - Date.parse(from)) / 86_400_000;
        if (!best || days > best.days) best = { unitKey: e.unitKey, from, to, days };
      }
      if (!best || !assessed) continue;
      const unit = unitByKey.get(best.unitKey) as UnitPlan;
      const assessedOn = addDays(best.from, rng.int(0, best.days));
      const ageMonths = ageInMonths(child.birthDate, assessedOn);
      const redFlags =
        level === 3 && rng.chance(0.15) ? [rng.chance(0.8) ? 'violence' : 'sexual_abuse'] : [];
      const [first, second] = pickTwo(rng, unit.staff);
      const secondLevel = Math.min(
        3,
        Math.max(1, level + (rng.chance(0.85) ? 0 : rng.pick([-1, 1]))),
      );
      const zone: Zone = level === 1 ? 'green' : level === 2 ? 'yellow' : 'red';
      let concernReport: AssessmentPlan['concernReport'];
      if (level === 3 && (redFlags.length > 0 || rng.chance(0.8))) {
        reportNumber += 1;
        concernReport = {
          reportedOn: minDate(addDays(assessedOn, redFlags.length > 0 ? 0 : rng.int(0, 4)), today),
          reference: `BFU-${assessedOn.slice(0, 4)}-${String(reportNumber).padStart(4, '0')}`,
          reportedBy: unit.staff.find((s) => s.role === 'unit_leader')?.name ?? first.name,
        };
      }
      assessments[roundIndex]?.push({
        childIndex: child.index,
        roundIndex,
        unitKey: unit.key,
        assessedOn,
        level,
        answers: answersFor(rng, level, ageMonths),
        raters: [
          { name: first.name, role: first.role, rating: { overallLevel: level } },
          { name: second.name, role: second.role, rating: { overallLevel: secondLevel } },
        ],
        redFlags,
        justification:
          redFlags.length > 0
            ? redFlagJustification
            : zone === 'green'
              ? undefined
              : rng.pick(justifications[zone]),
        childPerspective:
          unit.kind === 'school' && rng.chance(0.3) ? rng.pick(childViews) : undefined,
        // Parents are informed, except where that could endanger the child (violence/abuse).
        parentsInformed: redFlags.length === 0,
        concernReport,
      });
    }
  }
  return { today, units, children, rounds, assessments };
}

function pickTwo<T>(rng: Rng, items: readonly T[]): [T, T] {
  const i = rng.int(0, items.length - 1);
  let j = rng.int(0, items.length - 2);
  if (j >= i) j += 1;
  return [items[i] as T, items[j] as T];
}
