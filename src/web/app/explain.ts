/**
 * The classification's explanation in the user's language, from its structured fields (the
 * API's `summary` is an English sentence for integrations). Pure: tested without a browser.
 */
import type { Schemas } from '../../../clients/typescript/index.js';
import type { Translator } from '../shared/i18n.js';
import type { MessageKey } from './messages.js';

type Explanation = Schemas['Explanation'];
type Definition = Schemas['RulerDefinition'];
type Zone = Schemas['Zone'];

function levelLabel(definition: Definition, value: number | null, lang: 'da' | 'en'): string {
  const level = definition.levels.find((l) => l.value === value);
  return level ? `${level.value} ${level.label[lang]}` : String(value ?? '–');
}

function itemLabel(definition: Definition, key: string, lang: 'da' | 'en'): string {
  return definition.items?.find((i) => i.key === key)?.label[lang] ?? key;
}

export function explain(
  explanation: Explanation,
  zone: Zone | null,
  definition: Definition,
  i18n: Translator<MessageKey>,
): string[] {
  const { t, lang } = i18n;
  const zoneWord = (z: Zone | null) => t(`zone.${z ?? 'none'}` as MessageKey).toLowerCase();
  const lines: string[] = [];
  switch (explanation.outcome) {
    case 'red_flag':
      lines.push(
        t('explain.redFlag', {
          flags: explanation.redFlags.map((k) => itemLabel(definition, k, lang)).join(', '),
        }),
      );
      break;
    case 'insufficient_data':
      if (
        explanation.rule === 'assessor_position' &&
        explanation.answeredItems >= explanation.minAnsweredItems
      ) {
        lines.push(t('explain.noOverall'));
        break;
      }
      lines.push(
        t('explain.insufficient', {
          answered: explanation.answeredItems,
          min: explanation.minAnsweredItems,
        }),
      );
      break;
    case 'classified':
      if (explanation.rule === 'assessor_position') {
        lines.push(
          t('explain.position', {
            level: levelLabel(definition, explanation.decisiveLevel, lang),
            zone: zoneWord(zone),
          }),
        );
      } else if (explanation.rule === 'worst_domain') {
        lines.push(
          t('explain.worst', {
            items: explanation.decisiveItems.map((k) => itemLabel(definition, k, lang)).join(', '),
            level: levelLabel(definition, explanation.decisiveLevel, lang),
            zone: zoneWord(zone),
          }),
        );
      } else {
        const band = explanation.band;
        lines.push(
          t('explain.score', {
            score: i18n.number(explanation.score ?? 0, 1),
            zone: zoneWord(zone),
            min: band ? i18n.number(band.min, 1) : '–',
            max: band ? i18n.number(band.max, 1) : '–',
          }),
        );
      }
      break;
  }
  if (explanation.notApplicableItems > 0) {
    lines.push(t('explain.na', { count: explanation.notApplicableItems }));
  }
  for (const d of explanation.disagreements) {
    lines.push(
      t('explain.disagreement', {
        subject:
          d.subject === 'overall' ? t('explain.overall') : itemLabel(definition, d.subject, lang),
        levels: d.levels.map((l) => levelLabel(definition, l, lang)).join(' / '),
      }),
    );
  }
  return lines;
}
