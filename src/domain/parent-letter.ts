/*
 * The letter to the parents that goes with a parent-information duty (issue 18): what was
 * assessed and what it means, what happens next, and the information GDPR art. 13/14 requires
 * (what is registered, why and on what legal basis, who can see it, how long it is kept, the
 * parents' rights). Pure: the same facts give the same letter; rendering (text, HTML, PDF) is
 * the feature's. Never includes free text recorded by staff (notes may be internal).
 */

export const letterLanguages = ['da', 'en'] as const;
export type LetterLanguage = (typeof letterLanguages)[number];

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

const monthNames: Record<LetterLanguage, string[]> = {
  da: [
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
  en: [
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
};

/** 2026-12-01 as "1. december 2026" (da) or "1 December 2026" (en). */
export function longDate(iso: string, language: LetterLanguage): string {
  const [year, month, day] = iso.split('-').map(Number) as [number, number, number];
  const name = monthNames[language][month - 1];
  return language === 'da' ? `${day}. ${name} ${year}` : `${day} ${name} ${year}`;
}

const zoneNames: Record<LetterLanguage, Record<Zone, string>> = {
  da: { green: 'grøn', yellow: 'gul', red: 'rød' },
  en: { green: 'green', yellow: 'yellow', red: 'red' },
};

const meaning: Record<LetterLanguage, Record<Zone, string>> = {
  da: {
    green: 'Grøn betyder, at barnet trives. Vi fortsætter det almindelige arbejde med barnet.',
    yellow:
      'Gul betyder, at vi er opmærksomme på barnets trivsel. Vi vil gerne tale med jer om, ' +
      'hvordan vi sammen bedst støtter barnet.',
    red:
      'Rød betyder, at vi er bekymrede for barnets trivsel. Vi vil gerne tale med jer hurtigst ' +
      'muligt om, hvad der skal ske, og om hvem der kan hjælpe.',
  },
  en: {
    green: 'Green means that the child is doing well. We carry on our usual work with the child.',
    yellow:
      "Yellow means that we are paying attention to the child's well-being. We would like to " +
      'talk with you about how we can best support the child together.',
    red:
      "Red means that we are concerned about the child's well-being. We would like to talk " +
      'with you as soon as possible about what should happen and who can help.',
  },
};

/** What a zone means, told to parents. */
export function zoneMeaning(zone: Zone, language: LetterLanguage): string {
  return meaning[language][zone];
}

/** The letter for `facts`, in its language. */
export function parentLetter(f: LetterFacts): Letter {
  const da = f.language === 'da';
  const child = f.childGivenName ?? (da ? 'jeres barn' : 'your child');
  const on = longDate(f.assessedOn, f.language);
  const zone = zoneNames[f.language][f.zone];
  const what =
    f.reason === 'zone_change' && f.previousZone !== null
      ? da
        ? `Den ${on} har vi vurderet ${child}s trivsel med ${f.ruler}. Vurderingen er nu ${zone}; ` +
          `sidst var den ${zoneNames.da[f.previousZone]}.`
        : `On ${on} we assessed ${child}'s well-being with ${f.ruler}. The assessment is now ` +
          `${zone}; last time it was ${zoneNames.en[f.previousZone]}.`
      : da
        ? `Den ${on} har vi vurderet ${child}s trivsel med ${f.ruler}, som vi bruger for alle ` +
          `børn i ${f.unit} et par gange om året. Vurderingen er ${zone}.`
        : `On ${on} we assessed ${child}'s well-being with ${f.ruler}, which we use for all ` +
          `children at ${f.unit} a few times a year. The assessment is ${zone}.`;
  const next = f.steps.map((s) =>
    da
      ? `${s.title} (senest ${longDate(s.dueOn, 'da')})`
      : `${s.title} (by ${longDate(s.dueOn, 'en')})`,
  );
  const nothingNext = da
    ? 'Der skal ikke ske mere nu. Vi vurderer igen ved næste runde, og I er altid velkomne til ' +
      'at tale med os.'
    : 'Nothing more needs to happen now. We will assess again in the next round, and you are ' +
      'always welcome to talk with us.';
  const sections: LetterSection[] = [
    {
      heading: da ? 'Hvad vi har vurderet' : 'What we assessed',
      paragraphs: [what, meaning[f.language][f.zone]],
      bullets: [],
    },
    {
      heading: da ? 'Hvad der sker nu' : 'What happens next',
      paragraphs: next.length > 0 ? [] : [nothingNext],
      bullets: next,
    },
    {
      heading: da ? 'Hvad vi registrerer, og hvorfor' : 'What we record, and why',
      paragraphs: da
        ? [
            'Vi registrerer vores vurdering af barnets trivsel (grøn, gul eller rød), datoen, ' +
              'hvem der vurderede, og de opgaver, der følger af vurderingen, fx en samtale med jer.',
            'Formålet er at opdage tidligt, hvis et barn har brug for støtte, så vi kan hjælpe i ' +
              'tide. Retsgrundlaget er databeskyttelsesforordningens artikel 6, stk. 1, litra e ' +
              '(opgaver i samfundets interesse), databeskyttelseslovens § 7, stk. 4, og ' +
              'dagtilbudsloven.',
          ]
        : [
            "We record our assessment of the child's well-being (green, yellow or red), the " +
              'date, who assessed, and the tasks that follow from it, such as a talk with you.',
            'The purpose is to notice early when a child needs support, so that we can help in ' +
              'time. The legal basis is Article 6(1)(e) of the General Data Protection ' +
              'Regulation (a task in the public interest), section 7(4) of the Danish Data ' +
              'Protection Act, and the Danish Day Care Act.',
          ],
      bullets: [],
    },
    {
      heading: da ? 'Hvem kan se oplysningerne' : 'Who can see the information',
      paragraphs: [
        da
          ? `Personalet og lederen i ${f.unit}. Andre fagpersoner, fx PPR, sundhedsplejen eller ` +
            'en socialrådgiver, ser dem kun, når de inddrages i arbejdet med barnet. Ved skift ' +
            'til et nyt tilbud følger oplysningerne kun med jeres samtykke eller efter ' +
            `${f.municipality}s retningslinjer. Hver gang nogen ser eller ændrer oplysningerne, ` +
            'bliver det logget, og I kan få at vide hvem og hvornår.'
          : `The staff and the leader of ${f.unit}. Other professionals, such as the ` +
            'pedagogical-psychological counselling (PPR), the health visitor or a social worker, ' +
            'see them only when they are involved in the work with the child. When the child ' +
            'moves to another unit, the information goes along only with your consent or under ' +
            `the guidelines of ${f.municipality}. Every time someone reads or changes the ` +
            'information, it is logged, and you can find out who and when.',
      ],
      bullets: [],
    },
    {
      heading: da ? 'Hvor længe vi gemmer dem' : 'How long we keep it',
      paragraphs: [
        da
          ? `Oplysningerne slettes ${f.retentionYears} år efter, at barnet har forladt ` +
            `${f.municipality}s dagtilbud og skoler.`
          : `The information is deleted ${f.retentionYears} years after the child has left the ` +
            `day care and schools of ${f.municipality}.`,
      ],
      bullets: [],
    },
    {
      heading: da ? 'Jeres rettigheder' : 'Your rights',
      paragraphs: [
        da
          ? 'I har ret til at se, hvad der er registreret om jeres barn, og hvem der har set det, ' +
            'til at få rettet forkerte oplysninger og til at gøre indsigelse. Kontakt ' +
            `${f.unit} eller ${f.municipality}. I kan klage til Datatilsynet ` +
            '(www.datatilsynet.dk).'
          : 'You have the right to see what is recorded about your child and who has seen it, ' +
            'to have wrong information corrected, and to object. Contact ' +
            `${f.unit} or ${f.municipality}. You can complain to the Danish Data Protection ` +
            'Agency (www.datatilsynet.dk).',
      ],
      bullets: [],
    },
  ];
  return {
    language: f.language,
    title: da ? `Om ${child}s trivsel` : `About ${child}'s well-being`,
    from: `${f.unit}, ${f.municipality} · ${longDate(f.today, f.language)}`,
    greeting: da ? `Kære forældre til ${child}` : `Dear parents of ${child}`,
    sections,
    closing: da ? `Venlig hilsen\n${f.unit}` : `Kind regards\n${f.unit}`,
  };
}
