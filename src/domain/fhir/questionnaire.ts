import type {
  Coding,
  Extension,
  Questionnaire,
  QuestionnaireItem,
  QuestionnaireItemAnswerOption,
} from 'fhir/r4.js';
import {
  type Band,
  type Item,
  type Level,
  type OverallRule,
  type RulerDefinition,
  RulerDefinitionSchema,
  type redFlagCategories,
  zones,
} from '../rulers/definition.js';
import {
  englishOf,
  ext,
  extensionOf,
  extensionsOf,
  hl7,
  isZone,
  LINEAL,
  notApplicableCoding,
  translated,
  zoneCoding,
  zoneLabels,
} from './terms.js';

/** A ruler version as the Questionnaire mapping needs it. */
export interface RulerVersionFacts {
  /** The version's id: the Questionnaire's logical id. */
  id: string;
  key: string;
  version: number;
  /** null for lineal's presets, shared by every municipality. */
  municipalityId: string | null;
  name?: string | undefined;
  description?: string | null | undefined;
  createdAt?: string | undefined;
  definition: RulerDefinition;
}

/**
 * The canonical URL of a ruler's Questionnaire (its versions share it; `Questionnaire.version`
 * tells them apart): presets are the same everywhere, a municipality's own rulers are named
 * under it.
 */
export function questionnaireUrl(key: string, municipalityId: string | null): string {
  return municipalityId === null
    ? `${LINEAL}:Questionnaire:${key}`
    : `${LINEAL}:municipality:${municipalityId}:Questionnaire:${key}`;
}

/** `url|version`: how a QuestionnaireResponse names the exact ruler version. */
export function questionnaireReference(
  ruler: Pick<RulerVersionFacts, 'key' | 'version' | 'municipalityId'>,
) {
  return `${questionnaireUrl(ruler.key, ruler.municipalityId)}|${ruler.version}`;
}

/** The code system of a ruler's levels (codes: the level values). */
export function levelSystem(url: string): string {
  return `${url}:level`;
}

/** linkIds: a ruler item's is `item.<key>` (keys are snake_case, so never one of the others). */
export const linkIds = {
  overall: 'overall',
  zone: 'zone',
  score: 'score',
  justification: 'justification',
  item: (key: string) => `item.${key}`,
} as const;
const ITEM_PREFIX = 'item.';

export function levelCoding(url: string, version: number, level: Level): Coding {
  return {
    system: levelSystem(url),
    version: String(version),
    code: String(level.value),
    display: level.label.da,
    _display: translated(level.label.en),
  };
}

function levelOption(url: string, version: number, level: Level): QuestionnaireItemAnswerOption {
  return {
    valueCoding: {
      ...levelCoding(url, version, level),
      extension: [
        { url: hl7.ordinalValue, valueDecimal: level.value },
        { url: ext.zone, valueCoding: zoneCoding(level.zone) },
      ],
    },
  };
}

function ratedItem(
  url: string,
  version: number,
  def: RulerDefinition,
  item: Item,
): QuestionnaireItem {
  const extension: Extension[] = [];
  if (item.domain !== undefined) extension.push({ url: ext.domain, valueCode: item.domain });
  if (item.redFlag) {
    extension.push({ url: ext.redFlag, valueBoolean: true });
    if (item.redFlagCategory !== undefined) {
      extension.push({ url: ext.redFlagCategory, valueCode: item.redFlagCategory });
    }
    return {
      linkId: linkIds.item(item.key),
      text: item.label.da,
      _text: translated(item.label.en),
      type: 'boolean',
      ...(extension.length > 0 ? { extension } : {}),
    };
  }
  return {
    linkId: linkIds.item(item.key),
    text: item.label.da,
    _text: translated(item.label.en),
    type: 'choice',
    answerOption: [
      ...def.levels.map((level) => levelOption(url, version, level)),
      ...(item.allowNotApplicable ? [{ valueCoding: notApplicableCoding }] : []),
    ],
    ...(extension.length > 0 ? { extension } : {}),
  };
}

function bandExtension(band: Band): Extension {
  return {
    url: ext.band,
    extension: [
      { url: 'zone', valueCode: band.zone },
      { url: 'min', valueDecimal: band.min },
      { url: 'max', valueDecimal: band.max },
    ],
  };
}

/**
 * A ruler version as a FHIR R4 Questionnaire: an item for the overall position, one per ruler
 * item in the ruler's order (rated items a choice of the levels, N/A where allowed; red flags a
 * boolean), and read-only items for the resulting zone (and score, for score rules). Each level is
 * a Coding with its value (HL7's ordinalValue) and zone (lineal's zone extension); the rule, its
 * bands, the direction and the minimums are lineal extensions, so `questionnaireToRuler` gives the
 * definition back.
 */
export function rulerToQuestionnaire(ruler: RulerVersionFacts): Questionnaire {
  const def = ruler.definition;
  const url = questionnaireUrl(ruler.key, ruler.municipalityId);
  const { version } = ruler;
  const rule = def.rule;
  const extension: Extension[] = [
    { url: ext.rule, valueCode: rule.kind },
    ...(rule.kind === 'mean_of_items' || rule.kind === 'sum_of_items'
      ? rule.bands.map(bandExtension)
      : []),
    { url: ext.higherIsBetter, valueBoolean: def.higherIsBetter },
    { url: ext.minAnsweredItems, valueInteger: def.minAnsweredItems },
    { url: ext.ratersRequired, valueInteger: def.ratersRequired },
  ];
  const scored = rule.kind === 'mean_of_items' || rule.kind === 'sum_of_items';
  const item: QuestionnaireItem[] = [
    {
      linkId: linkIds.overall,
      text: 'Samlet placering på linealen',
      _text: translated("The assessors' overall position on the ruler"),
      type: 'choice',
      answerOption: def.levels.map((level) => levelOption(url, version, level)),
    },
    ...def.items.map((it) => ratedItem(url, version, def, it)),
    {
      linkId: linkIds.zone,
      text: 'Zone (resultat)',
      _text: translated('Zone (the result)'),
      type: 'choice',
      readOnly: true,
      answerOption: zones.map((zone) => ({
        valueCoding: { ...zoneCoding(zone), _display: translated(zoneLabels[zone].en) },
      })),
    },
    ...(scored
      ? [
          {
            linkId: linkIds.score,
            text: 'Score',
            type: 'decimal' as const,
            readOnly: true,
          },
        ]
      : []),
    {
      linkId: linkIds.justification,
      text: 'Begrundelse (fælles vurdering)',
      _text: translated('Justification (joint assessment)'),
      type: 'text',
    },
  ];
  return {
    resourceType: 'Questionnaire',
    id: ruler.id,
    url,
    version: String(version),
    name: computableName(ruler.key),
    ...(ruler.name ? { title: ruler.name } : {}),
    status: 'active',
    subjectType: ['Patient'],
    ...(ruler.createdAt ? { date: ruler.createdAt } : {}),
    publisher: ruler.municipalityId === null ? 'lineal (preset ruler)' : 'lineal (municipal ruler)',
    ...(ruler.description ? { description: ruler.description } : {}),
    extension,
    item,
  };
}

/** A computable name (FHIR's que-0 wants one usable as an identifier): `Ruler_topi_3`. */
function computableName(key: string): string {
  return `Ruler_${key.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

export class FhirMappingError extends Error {}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new FhirMappingError(`the Questionnaire has no ${what}`);
  return value;
}

function levelsOf(url: string, options: readonly QuestionnaireItemAnswerOption[]): Level[] {
  return options.map((option) => {
    const coding = need(option.valueCoding, 'level coding');
    if (coding.system !== levelSystem(url)) {
      throw new FhirMappingError(`level coding of another system: ${String(coding.system)}`);
    }
    const zone = extensionOf(coding.extension, ext.zone)?.valueCoding?.code;
    if (!isZone(zone)) throw new FhirMappingError(`level ${String(coding.code)} has no zone`);
    return {
      value: Number(need(coding.code, 'level code')),
      label: {
        da: need(coding.display, 'level display'),
        en: englishOf(coding._display) ?? need(coding.display, 'level display'),
      },
      zone,
    };
  });
}

function itemOf(q: QuestionnaireItem): Item {
  const key = q.linkId.slice(ITEM_PREFIX.length);
  const domain = extensionOf(q.extension, ext.domain)?.valueCode;
  const label = { da: need(q.text, 'item text'), en: englishOf(q._text) ?? (q.text as string) };
  if (q.type === 'boolean') {
    const category = extensionOf(q.extension, ext.redFlagCategory)?.valueCode;
    return {
      key,
      label,
      ...(domain !== undefined ? { domain } : {}),
      allowNotApplicable: false,
      redFlag: true,
      ...(category !== undefined
        ? { redFlagCategory: category as (typeof redFlagCategories)[number] }
        : {}),
    };
  }
  return {
    key,
    label,
    ...(domain !== undefined ? { domain } : {}),
    allowNotApplicable: (q.answerOption ?? []).some(
      (o) => o.valueCoding?.system === notApplicableCoding.system,
    ),
    redFlag: false,
  };
}

/**
 * The ruler definition a Questionnaire made by `rulerToQuestionnaire` describes (the reverse
 * mapping), checked by the same schema a ruler posted to the API is; throws FhirMappingError for
 * a Questionnaire that is not a lineal ruler.
 */
export function questionnaireToRuler(q: Questionnaire): RulerDefinition {
  const url = need(q.url, 'url');
  const items = q.item ?? [];
  const overall = need(
    items.find((i) => i.linkId === linkIds.overall),
    'overall item',
  );
  const kind = need(extensionOf(q.extension, ext.rule)?.valueCode, 'rule');
  const bands: Band[] = extensionsOf(q.extension, ext.band).map((band) => {
    const part = (name: string) => extensionOf(band.extension, name);
    const zone = part('zone')?.valueCode;
    if (!isZone(zone)) throw new FhirMappingError('a band has no zone');
    return {
      zone,
      min: need(part('min')?.valueDecimal, 'band min'),
      max: need(part('max')?.valueDecimal, 'band max'),
    };
  });
  const rule = (
    kind === 'mean_of_items' || kind === 'sum_of_items' ? { kind, bands } : { kind }
  ) as OverallRule;
  const parsed = RulerDefinitionSchema.safeParse({
    levels: levelsOf(url, overall.answerOption ?? []),
    higherIsBetter: need(extensionOf(q.extension, ext.higherIsBetter)?.valueBoolean, 'direction'),
    items: items.filter((i) => i.linkId.startsWith(ITEM_PREFIX)).map(itemOf),
    rule,
    minAnsweredItems: need(
      extensionOf(q.extension, ext.minAnsweredItems)?.valueInteger,
      'minimum of answered items',
    ),
    ratersRequired: need(extensionOf(q.extension, ext.ratersRequired)?.valueInteger, 'raters'),
  });
  if (!parsed.success) {
    throw new FhirMappingError(`not a valid ruler definition: ${parsed.error.message}`);
  }
  return parsed.data;
}
