/*
 * The letter to the parents that goes with a parent-information duty (issue 18): what was
 * assessed and what it means, what happens next, and the information GDPR art. 13/14 requires
 * (what is registered, why and on what legal basis, who can see it, how long it is kept, the
 * parents' rights). Pure: the same facts give the same letter; rendering (text, HTML, PDF) is
 * the feature's. Never includes free text recorded by staff (notes may be internal).
 *
 * Danish always; English and Ukrainian when the municipality enables them
 * (`parentLetterLanguages`). A language is one catalogue below: adding one is adding its
 * texts (a missing text is a type error). The action guide's step titles exist in Danish and
 * English only: other languages show the English title.
 */

export const letterLanguages = ['da', 'en', 'uk'] as const;
export type LetterLanguage = (typeof letterLanguages)[number];
/** Languages a municipality may enable besides Danish, which every letter can be had in. */
export const optionalLetterLanguages = ['en', 'uk'] as const satisfies readonly LetterLanguage[];

type Zone = 'green' | 'yellow' | 'red';

export interface LetterFacts {
  language: LetterLanguage;
  municipality: string;
  unit: string;
  /** The child's given name; null when not recorded. */
  childGivenName: string | null;
  assessedOn: string;
  /** The ruler's name (e.g. "TOPI"). */
  ruler: string;
  zone: Zone;
  previousZone: Zone | null;
  reason: 'first_assessment' | 'zone_change';
  /** The recommendation's open steps that involve the parents, in the letter's language. */
  steps: { title: string; dueOn: string }[];
  /** Years the record is kept after the child's last enrolment ends (RETENTION_YEARS). */
  retentionYears: number;
  /** The letter's date. */
  today: string;
}

export interface LetterSection {
  heading: string;
  paragraphs: string[];
  bullets: string[];
}

export interface Letter {
  language: LetterLanguage;
  title: string;
  /** Sender and date line. */
  from: string;
  greeting: string;
  sections: LetterSection[];
  closing: string;
}

interface Catalogue {
  months: string[];
  longDate(day: number, month: string, year: number): string;
  zones: Record<Zone, string>;
  meaning: Record<Zone, string>;
  yourChild: string;
  title(child: string, named: boolean): string;
  greeting(child: string, named: boolean): string;
  changed(on: string, child: string, ruler: string, zone: string, previous: string): string;
  first(on: string, child: string, ruler: string, unit: string, zone: string): string;
  step(title: string, due: string): string;
  nothingNext: string;
  headings: [string, string, string, string, string, string];
  record: [string, string];
  whoCanSee(unit: string, municipality: string): string;
  kept(years: number, municipality: string): string;
  rights(unit: string, municipality: string): string;
  closing(unit: string): string;
}

const catalogues: Record<LetterLanguage, Catalogue> = {
  da: {
    months: [
      'januar',
      'februar',
      'marts',
      'april',
      'maj',
      'juni',
      'juli',
      'august',
      'september',
      'oktober',
      'november',
      'december',
    ],
    longDate: (day, month, year) => `${day}. ${month} ${year}`,
    zones: { green: 'grøn', yellow: 'gul', red: 'rød' },
    meaning: {
      green: 'Grøn betyder, at barnet trives. Vi fortsætter det almindelige arbejde med barnet.',
      yellow:
        'Gul betyder, at vi er opmærksomme på barnets trivsel. Vi vil gerne tale med jer om, ' +
        'hvordan vi sammen bedst støtter barnet.',
      red:
        'Rød betyder, at vi er bekymrede for barnets trivsel. Vi vil gerne tale med jer hurtigst ' +
        'muligt om, hvad der skal ske, og om hvem der kan hjælpe.',
    },
    yourChild: 'jeres barn',
    title: (child) => `Om ${child}s trivsel`,
    greeting: (child) => `Kære forældre til ${child}`,
    changed: (on, child, ruler, zone, previous) =>
      `Den ${on} har vi vurderet ${child}s trivsel med ${ruler}. Vurderingen er nu ${zone}; ` +
      `sidst var den ${previous}.`,
    first: (on, child, ruler, unit, zone) =>
      `Den ${on} har vi vurderet ${child}s trivsel med ${ruler}, som vi bruger for alle ` +
      `børn i ${unit} et par gange om året. Vurderingen er ${zone}.`,
    step: (title, due) => `${title} (senest ${due})`,
    nothingNext:
      'Der skal ikke ske mere nu. Vi vurderer igen ved næste runde, og I er altid velkomne til ' +
      'at tale med os.',
    headings: [
      'Hvad vi har vurderet',
      'Hvad der sker nu',
      'Hvad vi registrerer, og hvorfor',
      'Hvem kan se oplysningerne',
      'Hvor længe vi gemmer dem',
      'Jeres rettigheder',
    ],
    record: [
      'Vi registrerer vores vurdering af barnets trivsel (grøn, gul eller rød), datoen, ' +
        'hvem der vurderede, og de opgaver, der følger af vurderingen, fx en samtale med jer.',
      'Formålet er at opdage tidligt, hvis et barn har brug for støtte, så vi kan hjælpe i ' +
        'tide. Retsgrundlaget er databeskyttelsesforordningens artikel 6, stk. 1, litra e ' +
        '(opgaver i samfundets interesse), databeskyttelseslovens § 7, stk. 4, og ' +
        'dagtilbudsloven.',
    ],
    whoCanSee: (unit, municipality) =>
      `Personalet og lederen i ${unit}. Andre fagpersoner, fx PPR, sundhedsplejen eller ` +
      'en socialrådgiver, ser dem kun, når de inddrages i arbejdet med barnet. Ved skift ' +
      'til et nyt tilbud følger oplysningerne kun med jeres samtykke eller efter ' +
      `${municipality}s retningslinjer. Hver gang nogen ser eller ændrer oplysningerne, ` +
      'bliver det logget, og I kan få at vide hvem og hvornår.',
    kept: (years, municipality) =>
      `Oplysningerne slettes ${years} år efter, at barnet har forladt ` +
      `${municipality}s dagtilbud og skoler.`,
    rights: (unit, municipality) =>
      'I har ret til at se, hvad der er registreret om jeres barn, og hvem der har set det, ' +
      'til at få rettet forkerte oplysninger og til at gøre indsigelse. Kontakt ' +
      `${unit} eller ${municipality}. I kan klage til Datatilsynet ` +
      '(www.datatilsynet.dk).',
    closing: (unit) => `Venlig hilsen\n${unit}`,
  },
  en: {
    months: [
      'January',
      'February',
      'March',
      'April',
      'May',
      'June',
      'July',
      'August',
      'September',
      'October',
      'November',
      'December',
    ],
    longDate: (day, month, year) => `${day} ${month} ${year}`,
    zones: { green: 'green', yellow: 'yellow', red: 'red' },
    meaning: {
      green: 'Green means that the child is doing well. We carry on our usual work with the child.',
      yellow:
        "Yellow means that we are paying attention to the child's well-being. We would like to " +
        'talk with you about how we can best support the child together.',
      red:
        "Red means that we are concerned about the child's well-being. We would like to talk " +
        'with you as soon as possible about what should happen and who can help.',
    },
    yourChild: 'your child',
    title: (child) => `About ${child}'s well-being`,
    greeting: (child) => `Dear parents of ${child}`,
    changed: (on, child, ruler, zone, previous) =>
      `On ${on} we assessed ${child}'s well-being with ${ruler}. The assessment is now ` +
      `${zone}; last time it was ${previous}.`,
    first: (on, child, ruler, unit, zone) =>
      `On ${on} we assessed ${child}'s well-being with ${ruler}, which we use for all ` +
      `children at ${unit} a few times a year. The assessment is ${zone}.`,
    step: (title, due) => `${title} (by ${due})`,
    nothingNext:
      'Nothing more needs to happen now. We will assess again in the next round, and you are ' +
      'always welcome to talk with us.',
    headings: [
      'What we assessed',
      'What happens next',
      'What we record, and why',
      'Who can see the information',
      'How long we keep it',
      'Your rights',
    ],
    record: [
      "We record our assessment of the child's well-being (green, yellow or red), the " +
        'date, who assessed, and the tasks that follow from it, such as a talk with you.',
      'The purpose is to notice early when a child needs support, so that we can help in ' +
        'time. The legal basis is Article 6(1)(e) of the General Data Protection ' +
        'Regulation (a task in the public interest), section 7(4) of the Danish Data ' +
        'Protection Act, and the Danish Day Care Act.',
    ],
    whoCanSee: (unit, municipality) =>
      `The staff and the leader of ${unit}. Other professionals, such as the ` +
      'pedagogical-psychological counselling (PPR), the health visitor or a social worker, ' +
      'see them only when they are involved in the work with the child. When the child ' +
      'moves to another unit, the information goes along only with your consent or under ' +
      `the guidelines of ${municipality}. Every time someone reads or changes the ` +
      'information, it is logged, and you can find out who and when.',
    kept: (years, municipality) =>
      `The information is deleted ${years} years after the child has left the ` +
      `day care and schools of ${municipality}.`,
    rights: (unit, municipality) =>
      'You have the right to see what is recorded about your child and who has seen it, ' +
      'to have wrong information corrected, and to object. Contact ' +
      `${unit} or ${municipality}. You can complain to the Danish Data Protection ` +
      'Agency (www.datatilsynet.dk).',
    closing: (unit) => `Kind regards\n${unit}`,
  },
  uk: {
    // Dates read "5 грудня 2026 р.": the month in the genitive.
    months: [
      'січня',
      'лютого',
      'березня',
      'квітня',
      'травня',
      'червня',
      'липня',
      'серпня',
      'вересня',
      'жовтня',
      'листопада',
      'грудня',
    ],
    longDate: (day, month, year) => `${day} ${month} ${year} р.`,
    zones: { green: 'зелена', yellow: 'жовта', red: 'червона' },
    meaning: {
      green:
        'Зелений колір означає, що дитина почувається добре. Ми продовжуємо звичайну роботу з дитиною.',
      yellow:
        'Жовтий колір означає, що ми уважно стежимо за самопочуттям дитини. Ми хотіли б ' +
        'поговорити з вами про те, як нам разом найкраще підтримати дитину.',
      red:
        'Червоний колір означає, що ми занепокоєні самопочуттям дитини. Ми хотіли б якнайшвидше ' +
        'поговорити з вами про те, що має статися і хто може допомогти.',
    },
    yourChild: '',
    title: (child, named) => (named ? `Самопочуття дитини: ${child}` : 'Самопочуття вашої дитини'),
    greeting: (child, named) => (named ? `Шановні батьки (${child})` : 'Шановні батьки'),
    changed: (on, child, ruler, zone, previous) =>
      `${on} ми оцінили самопочуття ${child ? `дитини (${child})` : 'вашої дитини'} за ` +
      `допомогою ${ruler}. Тепер оцінка ${zone}; минулого разу вона була ${previous}.`,
    first: (on, child, ruler, unit, zone) =>
      `${on} ми оцінили самопочуття ${child ? `дитини (${child})` : 'вашої дитини'} за ` +
      `допомогою ${ruler}. Кілька разів на рік ми так оцінюємо всіх дітей у ${unit}. ` +
      `Оцінка ${zone}.`,
    step: (title, due) => `${title} (до ${due})`,
    nothingNext:
      'Зараз більше нічого робити не потрібно. Ми знову оцінимо самопочуття дитини під час ' +
      'наступного раунду, і ви завжди можете поговорити з нами.',
    headings: [
      'Що ми оцінили',
      'Що буде далі',
      'Що ми реєструємо і чому',
      'Хто може бачити інформацію',
      'Як довго ми її зберігаємо',
      'Ваші права',
    ],
    record: [
      'Ми реєструємо нашу оцінку самопочуття дитини (зелена, жовта або червона), дату, хто ' +
        'проводив оцінку, і завдання, що з неї випливають, наприклад розмову з вами.',
      'Мета — вчасно помітити, коли дитині потрібна підтримка, щоб ми могли допомогти. ' +
        'Правовою підставою є стаття 6(1)(e) Загального регламенту про захист даних ' +
        '(завдання в суспільних інтересах), розділ 7(4) Закону Данії про захист даних і ' +
        'Закон Данії про денний догляд за дітьми (dagtilbudsloven).',
    ],
    whoCanSee: (unit, municipality) =>
      `Персонал і керівник закладу ${unit}. Інші фахівці, наприклад педагогічно-психологічна ` +
      'служба (PPR), патронажна медсестра або соціальний працівник, бачать її лише тоді, ' +
      'коли їх залучають до роботи з дитиною. Коли дитина переходить до іншого закладу, ' +
      'інформація передається лише за вашою згодою або згідно з правилами муніципалітету ' +
      `${municipality}. Щоразу, коли хтось переглядає або змінює інформацію, це ` +
      'реєструється, і ви можете дізнатися, хто і коли.',
    kept: (years, municipality) =>
      `Інформацію буде видалено через ${years} ${ukrainianYears(years)} після того, як ` +
      `дитина залишить дитячі садки та школи муніципалітету ${municipality}.`,
    rights: (unit, municipality) =>
      'Ви маєте право побачити, що зареєстровано про вашу дитину і хто це бачив, вимагати ' +
      'виправлення неправильної інформації та заперечувати. Зверніться до закладу ' +
      `${unit} або до муніципалітету ${municipality}. Ви можете подати скаргу до Управління ` +
      'із захисту даних Данії (Datatilsynet, www.datatilsynet.dk).',
    closing: (unit) => `З повагою\n${unit}`,
  },
};

/** "рік", "роки" or "років" after a number (Ukrainian plural forms). */
function ukrainianYears(n: number): string {
  const form = new Intl.PluralRules('uk').select(n);
  return form === 'one' ? 'рік' : form === 'few' ? 'роки' : 'років';
}

/** 2026-12-01 as "1. december 2026" (da), "1 December 2026" (en) or "1 грудня 2026 р." (uk). */
export function longDate(iso: string, language: LetterLanguage): string {
  const [year, month, day] = iso.split('-').map(Number) as [number, number, number];
  const c = catalogues[language];
  return c.longDate(day, c.months[month - 1] as string, year);
}

/** What a zone means, told to parents. */
export function zoneMeaning(zone: Zone, language: LetterLanguage): string {
  return catalogues[language].meaning[zone];
}

/** The letter for `facts`, in its language. */
export function parentLetter(f: LetterFacts): Letter {
  const c = catalogues[f.language];
  const named = f.childGivenName !== null;
  const child = f.childGivenName ?? c.yourChild;
  const on = longDate(f.assessedOn, f.language);
  const zone = c.zones[f.zone];
  const what =
    f.reason === 'zone_change' && f.previousZone !== null
      ? c.changed(on, child, f.ruler, zone, c.zones[f.previousZone])
      : c.first(on, child, f.ruler, f.unit, zone);
  const next = f.steps.map((s) => c.step(s.title, longDate(s.dueOn, f.language)));
  const [assessed, nextHeading, recorded, seen, kept, rights] = c.headings;
  const sections: LetterSection[] = [
    { heading: assessed, paragraphs: [what, c.meaning[f.zone]], bullets: [] },
    {
      heading: nextHeading,
      paragraphs: next.length > 0 ? [] : [c.nothingNext],
      bullets: next,
    },
    { heading: recorded, paragraphs: [...c.record], bullets: [] },
    { heading: seen, paragraphs: [c.whoCanSee(f.unit, f.municipality)], bullets: [] },
    { heading: kept, paragraphs: [c.kept(f.retentionYears, f.municipality)], bullets: [] },
    { heading: rights, paragraphs: [c.rights(f.unit, f.municipality)], bullets: [] },
  ];
  return {
    language: f.language,
    title: c.title(child, named),
    from: `${f.unit}, ${f.municipality} · ${longDate(f.today, f.language)}`,
    greeting: c.greeting(child, named),
    sections,
    closing: c.closing(f.unit),
  };
}
