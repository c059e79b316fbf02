import {
  type RulerDefinition,
  type RulerDefinitionInput,
  RulerDefinitionSchema,
} from './definition.js';

/**
 * The preset rulers of the domain brief: sensible defaults a municipality copies and adjusts.
 * Each definition is parsed through `RulerDefinitionSchema`, so defaults apply.
 */
export interface PresetRuler {
  key: string;
  name: string;
  description: string;
  definition: RulerDefinition;
}

/** The two red-flag indicators every preset carries (action guides react to their category). */
const redFlagItems = [
  {
    key: 'violence',
    label: { da: 'tegn på vold', en: 'signs of violence' },
    redFlag: true,
    redFlagCategory: 'violence',
  },
  {
    key: 'sexual_abuse',
    label: { da: 'tegn på seksuelle overgreb', en: 'signs of sexual abuse' },
    redFlag: true,
    redFlagCategory: 'sexual_abuse',
  },
] as const satisfies RulerDefinitionInput['items'];

const topiAspects: NonNullable<RulerDefinitionInput['items']> = [
  {
    key: 'social_skills',
    label: { da: 'sociale kompetencer', en: 'social skills' },
    domain: 'social_skills',
    allowNotApplicable: true,
  },
  {
    key: 'safety_and_care',
    label: { da: 'tryghed og omsorg fra voksne', en: 'safety and care from adults' },
    domain: 'safety_and_care',
    allowNotApplicable: true,
  },
  {
    key: 'participation',
    label: { da: 'deltagelse i fællesskabet', en: 'participation in the community' },
    domain: 'participation',
    allowNotApplicable: true,
  },
  {
    key: 'self_esteem',
    label: { da: 'selvværd', en: 'self-esteem' },
    domain: 'self_esteem',
    allowNotApplicable: true,
  },
];

const wellbeingItems: NonNullable<RulerDefinitionInput['items']> = [
  { key: 'happy', label: { da: 'glad', en: 'happy' } },
  { key: 'safe', label: { da: 'tryg', en: 'feels safe' } },
  { key: 'has_friends', label: { da: 'har venner', en: 'has friends' } },
  { key: 'takes_part', label: { da: 'deltager i fællesskabet', en: 'takes part' } },
  { key: 'curious', label: { da: 'lyst til at lære', en: 'curious, wants to learn' } },
  { key: 'self_esteem', label: { da: 'selvværd', en: 'self-esteem' } },
].map((item) => ({ ...item, allowNotApplicable: true }));

function signsOfSafetyLabel(value: number): { da: string; en: string } {
  if (value === 0) return { da: '0 – sikker skade', en: '0 – certain harm' };
  if (value === 10) return { da: '10 – sikker nok', en: '10 – safe enough' };
  return { da: String(value), en: String(value) };
}

function preset(
  key: string,
  name: string,
  description: string,
  definition: RulerDefinitionInput,
): PresetRuler {
  return { key, name, description, definition: RulerDefinitionSchema.parse(definition) };
}

export const presetRulers: ReadonlyArray<PresetRuler> = [
  preset(
    'topi-3',
    'TOPI (3 levels)',
    'Opsporingsmodellen: at least two professionals each assess the child, then agree a joint ' +
      'position: 1 thriving (green), 2 concern (yellow), 3 serious concern (red). The four ' +
      'TOPI aspects may be rated on the same scale to support the position.',
    {
      levels: [
        { value: 1, label: { da: 'trives', en: 'thriving' }, zone: 'green' },
        { value: 2, label: { da: 'bekymring', en: 'concern' }, zone: 'yellow' },
        { value: 3, label: { da: 'stærk bekymring', en: 'serious concern' }, zone: 'red' },
      ],
      higherIsBetter: false,
      items: [...topiAspects, ...redFlagItems],
      rule: { kind: 'assessor_position' },
      minAnsweredItems: 0,
      ratersRequired: 2,
    },
  ),
  preset(
    'boernelineal-5',
    'Børnelineal (5 levels)',
    'Five-step ruler (Køge/Morsø style): 1 thriving (green), 2 declining well-being and ' +
      '3 vulnerable (yellow), 4 exposed and 5 at risk (red). The assessor places the child.',
    {
      levels: [
        { value: 1, label: { da: 'trivsel', en: 'thriving' }, zone: 'green' },
        { value: 2, label: { da: 'faldende trivsel', en: 'declining well-being' }, zone: 'yellow' },
        { value: 3, label: { da: 'sårbar', en: 'vulnerable' }, zone: 'yellow' },
        { value: 4, label: { da: 'udsat', en: 'exposed' }, zone: 'red' },
        { value: 5, label: { da: 'truet', en: 'at risk' }, zone: 'red' },
      ],
      higherIsBetter: false,
      items: [...redFlagItems],
      rule: { kind: 'assessor_position' },
      minAnsweredItems: 0,
      ratersRequired: 1,
    },
  ),
  preset(
    'signs-of-safety-0-10',
    'Signs of Safety scaling (0–10)',
    'Scaling question: 10 means safe enough, 0 means certain harm; higher is better. ' +
      '7–10 green, 4–6 yellow, 0–3 red.',
    {
      levels: Array.from({ length: 11 }, (_, value) => ({
        value,
        label: signsOfSafetyLabel(value),
        zone: value >= 7 ? 'green' : value >= 4 ? 'yellow' : 'red',
      })),
      higherIsBetter: true,
      items: [...redFlagItems],
      rule: { kind: 'assessor_position' },
      minAnsweredItems: 0,
      ratersRequired: 1,
    },
  ),
  preset(
    'wellbeing-1-5',
    'Well-being score (1–5)',
    'Six well-being items scored 1–5 (higher is better) and averaged, N/A answers left out; ' +
      'at least four must be answered. Mean 4.0 and above green, 3.0 to below 4.0 yellow, ' +
      'below 3.0 red.',
    {
      levels: [
        { value: 1, label: { da: '1 – slet ikke', en: '1 – not at all' }, zone: 'red' },
        { value: 2, label: { da: '2 – sjældent', en: '2 – rarely' }, zone: 'red' },
        { value: 3, label: { da: '3 – nogle gange', en: '3 – sometimes' }, zone: 'yellow' },
        { value: 4, label: { da: '4 – ofte', en: '4 – often' }, zone: 'green' },
        { value: 5, label: { da: '5 – altid', en: '5 – always' }, zone: 'green' },
      ],
      higherIsBetter: true,
      items: [...wellbeingItems, ...redFlagItems],
      rule: {
        kind: 'mean_of_items',
        bands: [
          { zone: 'red', min: 1, max: 3 },
          { zone: 'yellow', min: 3, max: 4 },
          { zone: 'green', min: 4, max: 5 },
        ],
      },
      minAnsweredItems: 4,
      ratersRequired: 1,
    },
  ),
];

/** The preset with this key, or undefined. */
export function presetRuler(key: string): PresetRuler | undefined {
  return presetRulers.find((preset) => preset.key === key);
}
