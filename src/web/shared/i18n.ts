/**
 * Message catalogues and Danish-first formatting. A catalogue is a flat record of message
 * keys to texts with `{name}` placeholders; the Danish one defines the keys and every other
 * language must have the same (the type checker enforces it). Dates and numbers follow the
 * chosen language's conventions (da-DK: 5.12.2026, 66,7 %).
 */
export type Catalogue<K extends string = string> = Readonly<Record<K, string>>;

export type Lang = 'da' | 'en';
export const LANGS: readonly Lang[] = ['da', 'en'];

const LOCALES: Record<Lang, string> = { da: 'da-DK', en: 'en-GB' };

export interface Translator<K extends string> {
  readonly lang: Lang;
  readonly locale: string;
  /** The text of `key`, with `{name}` placeholders filled in from `params`. */
  t(key: K, params?: Readonly<Record<string, string | number>>): string;
  /** A calendar date (YYYY-MM-DD, taken as a date, not a time) in the language's format. */
  date(iso: string, style?: 'short' | 'long'): string;
  dateTime(iso: string): string;
  number(value: number, fractionDigits?: number): string;
  percent(share: number): string;
}

export function createTranslator<K extends string>(
  lang: Lang,
  catalogues: Readonly<Record<Lang, Catalogue<K>>>,
): Translator<K> {
  const catalogue = catalogues[lang];
  const locale = LOCALES[lang];
  return {
    lang,
    locale,
    t(key, params) {
      const text = catalogue[key] ?? catalogues.da[key] ?? key;
      if (!params) return text;
      return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
        name in params ? String(params[name]) : whole,
      );
    },
    date(iso, style = 'short') {
      const [y, m, d] = iso.slice(0, 10).split('-').map(Number);
      if (!y || !m || !d) return iso;
      return new Intl.DateTimeFormat(locale, {
        timeZone: 'UTC',
        ...(style === 'long'
          ? { day: 'numeric', month: 'long', year: 'numeric' }
          : { day: 'numeric', month: 'numeric', year: 'numeric' }),
      }).format(new Date(Date.UTC(y, m - 1, d)));
    },
    dateTime(iso) {
      return new Intl.DateTimeFormat(locale, {
        timeZone: 'Europe/Copenhagen',
        dateStyle: 'short',
        timeStyle: 'short',
      }).format(new Date(iso));
    },
    number(value, fractionDigits = 0) {
      return new Intl.NumberFormat(locale, {
        minimumFractionDigits: fractionDigits,
        maximumFractionDigits: fractionDigits,
      }).format(value);
    },
    percent(share) {
      return new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }).format(
        share,
      );
    },
  };
}

/** Today's date in Copenhagen, YYYY-MM-DD (the API's notion of "today"). */
export function todayInCopenhagen(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Copenhagen',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}
