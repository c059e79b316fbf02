/**
 * The parent view (/parents/): a parent opens the link the child's unit handed out
 * (`/parents/#lnpl_…`). The page exchanges the one-time code for a session of an hour (the
 * fragment never reaches a server), removes it from the address bar, keeps the session token in
 * this tab only (sessionStorage) and shows the child as shared with the parents: assessments,
 * the steps that involve them, the consents (which they can revoke) and who read or changed the
 * child's data. Danish first, English as a choice.
 */
import type { Schemas } from '../../../clients/typescript/index.js';
import './parents.css';

type Lang = 'da' | 'en';
type Text = { da: string; en: string };
type Child = Schemas['ParentChild'];
type Assessment = Schemas['ParentAssessment'];
type Step = Schemas['ParentStep'];
type Consent = Schemas['ParentConsent'];
type LogEntry = Schemas['AccessLogEntry'];
type OwnReport = Schemas['ParentSelfReport'];

const TOKEN = 'lineal.parents.session';
const LANG = 'lineal.parents.language';
const CODE = 'lineal.parents.code';

const messages = {
  title: { da: 'Jeres barns trivsel', en: "Your child's well-being" },
  other: { da: 'English', en: 'Dansk' },
  signOut: { da: 'Log ud', en: 'Sign out' },
  opening: { da: 'Åbner linket …', en: 'Opening the link …' },
  ready: {
    da: 'Du har fået et link til at se jeres barns oplysninger. Det kan bruges én gang.',
    en: "You were given a link to see your child's information. It can be used once.",
  },
  open: { da: 'Se oplysningerne', en: 'See the information' },
  loading: { da: 'Henter …', en: 'Loading …' },
  badLink: {
    da: 'Linket virker ikke: det er måske brugt, udløbet eller trukket tilbage. Bed institutionen om et nyt.',
    en: 'The link does not work: it may have been used, have expired or been revoked. Ask the unit for a new one.',
  },
  ended: {
    da: 'Du er logget ud, eller sessionen er udløbet. Bed institutionen om et nyt link.',
    en: 'You are signed out, or the session has ended. Ask the unit for a new link.',
  },
  noLink: {
    da: 'Åbn det link, I har fået af institutionen.',
    en: 'Open the link you were given by the unit.',
  },
  failed: {
    da: 'Noget gik galt. Prøv igen om lidt.',
    en: 'Something went wrong. Try again shortly.',
  },
  child: { da: 'Barnet', en: 'The child' },
  born: { da: 'født', en: 'born' },
  attends: { da: 'Går i', en: 'Attends' },
  until: { da: 'Du er logget ind til', en: 'You are signed in until' },
  assessments: { da: 'Trivselsvurderinger', en: 'Well-being assessments' },
  noAssessments: {
    da: 'Der er ingen vurderinger at vise.',
    en: 'There are no assessments to show.',
  },
  own: { da: 'Barnets egen vurdering', en: "The child's own view" },
  ownIntro: {
    da: 'Barnet har selv svaret på nogle spørgsmål om sin trivsel og sagt ja til, at I må se det.',
    en: 'The child answered a few questions about their own well-being and agreed that you may see it.',
  },
  steps: { da: 'Det næste, der skal ske med jer', en: 'What happens next with you' },
  noSteps: { da: 'Der er ingen aftaler, der involverer jer.', en: 'No steps involve you.' },
  by: { da: 'senest', en: 'by' },
  consents: { da: 'Samtykker', en: 'Consents' },
  noConsents: { da: 'Der er ikke givet samtykker.', en: 'No consents were given.' },
  given: { da: 'givet', en: 'given' },
  revokedOn: { da: 'trukket tilbage', en: 'revoked' },
  revoke: { da: 'Træk samtykket tilbage', en: 'Revoke the consent' },
  yourName: { da: 'Dit navn', en: 'Your name' },
  relation: { da: 'Du er', en: 'You are' },
  parent: { da: 'forælder', en: 'parent' },
  guardian: { da: 'værge', en: 'guardian' },
  confirm: { da: 'Træk tilbage', en: 'Revoke' },
  log: { da: 'Hvem har set eller ændret oplysninger', en: 'Who has seen or changed the data' },
  logIntro: {
    da: 'Hver gang nogen læser eller ændrer oplysninger om jeres barn, bliver det logget. Her ser I rolle, enhed og tidspunkt.',
    en: "Every time someone reads or changes your child's data, it is logged. Here you see the role, unit and time.",
  },
  more: { da: 'Vis flere', en: 'Show more' },
  you: { da: 'Dig (forælder)', en: 'You (parent)' },
  service: { da: 'lineal selv (automatisk)', en: 'lineal itself (automatic)' },
  wholeMunicipality: { da: 'hele kommunen', en: 'the whole municipality' },
  footer: {
    da: 'Oplysningerne behandles af kommunen efter databeskyttelsesforordningens art. 6, stk. 1, litra e, og art. 9. I har ret til indsigt, berigtigelse og til at klage til Datatilsynet.',
    en: 'The municipality processes the data under GDPR art. 6(1)(e) and art. 9. You have the right of access and rectification, and may complain to Datatilsynet.',
  },
} satisfies Record<string, Text>;

const zones: Record<'green' | 'yellow' | 'red', Text> = {
  green: { da: 'Grøn', en: 'Green' },
  yellow: { da: 'Gul', en: 'Yellow' },
  red: { da: 'Rød', en: 'Red' },
};
const roleNames: Record<string, Text> = {
  municipality_admin: { da: 'kommunens administrator', en: "the municipality's administrator" },
  unit_leader: { da: 'leder', en: 'leader' },
  unit_staff: { da: 'medarbejder', en: 'staff member' },
  social_worker: { da: 'socialrådgiver', en: 'social worker' },
  analyst: { da: 'analytiker', en: 'analyst' },
  integration: { da: 'fagsystem', en: 'integrated system' },
  parents: { da: 'jer forældre', en: 'you, the parents' },
  ppr: { da: 'PPR', en: 'educational psychology (PPR)' },
  health_visitor: { da: 'sundhedsplejerske', en: 'health visitor' },
};
const actionNames: Record<string, Text> = {
  read: { da: 'læste', en: 'read' },
  create: { da: 'registrerede', en: 'recorded' },
  update: { da: 'ændrede', en: 'changed' },
  withdraw: { da: 'trak tilbage', en: 'withdrew' },
  delete: { da: 'slettede', en: 'deleted' },
  export: { da: 'udtrak', en: 'exported' },
  search: { da: 'søgte i', en: 'searched' },
};
const whatNames: Record<LogEntry['what'], Text> = {
  child: { da: 'stamoplysninger', en: 'basic data' },
  enrolment: { da: 'en indskrivning', en: 'an enrolment' },
  handover: { da: 'en overlevering til et nyt tilbud', en: 'a handover to a new unit' },
  dossier: { da: 'en aktindsigt', en: 'an access request' },
  assessment: { da: 'en vurdering', en: 'an assessment' },
  recommendation: { da: 'en handleplan', en: 'a plan' },
  step: { da: 'en aftale', en: 'a step' },
  consent: { da: 'et samtykke', en: 'a consent' },
  parent_session: { da: 'et forældrelink', en: 'a parent link' },
  parent_link: { da: 'et forældrelink', en: 'a parent link' },
  parent_notice: { da: 'orientering af forældre', en: 'parent information' },
};

let lang: Lang = sessionStorage.getItem(LANG) === 'en' ? 'en' : 'da';
let token = sessionStorage.getItem(TOKEN);
let logCursor: string | null = null;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const t = (m: Text) => m[lang];
const el = (tag: string, text?: string, cls?: string) => {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
};
const date = (iso: string) =>
  new Intl.DateTimeFormat(lang === 'da' ? 'da-DK' : 'en-GB', { dateStyle: 'long' }).format(
    new Date(iso.length === 10 ? `${iso}T12:00:00Z` : iso),
  );
const dateTime = (iso: string) =>
  new Intl.DateTimeFormat(lang === 'da' ? 'da-DK' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'Europe/Copenhagen',
  }).format(new Date(iso));

class Ended extends Error {}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 401) throw new Ended();
  if (!res.ok) throw new Error(`${res.status}`);
  return (res.status === 204 ? null : await res.json()) as T;
}

function showError(message: Text) {
  const box = $('error');
  box.textContent = t(message);
  box.hidden = false;
  $('view').hidden = true;
  $('status').textContent = '';
}

function list(container: HTMLElement, items: HTMLElement[], empty: Text) {
  container.replaceChildren(
    items.length ? el('ul', undefined, 'items') : el('p', t(empty), 'note'),
  );
  const ul = container.firstElementChild as HTMLElement;
  for (const item of items) ul.append(item);
}

function assessmentItem(a: Assessment): HTMLElement {
  const li = el('li');
  const head = el('p');
  head.append(el('strong', date(a.assessedOn)), ` · ${a.unit} · ${a.ruler} `);
  if (a.zone) head.append(el('span', t(zones[a.zone]), `zone zone-${a.zone}`));
  li.append(head);
  if (a.levelLabel) li.append(el('p', t(a.levelLabel as Text), 'meta'));
  if (a.meaning) li.append(el('p', t(a.meaning as Text)));
  return li;
}

function ownItem(r: OwnReport): HTMLElement {
  const li = el('li');
  const head = el('p');
  head.append(el('strong', date(r.reportedOn)), ' ');
  if (r.zone) head.append(el('span', t(zones[r.zone]), `zone zone-${r.zone}`));
  li.append(head);
  return li;
}

function stepItem(s: Step): HTMLElement {
  const li = el('li');
  li.append(el('p', t(s.title as Text)), el('p', t(s.description as Text), 'meta'));
  li.append(el('p', `${t(messages.by)} ${date(s.dueOn)}`, 'meta'));
  return li;
}

function consentItem(c: Consent): HTMLElement {
  const li = el('li');
  const to = [
    c.recipient.unit,
    c.recipient.role
      ? t(roleNames[c.recipient.role] ?? { da: c.recipient.role, en: c.recipient.role })
      : null,
  ]
    .filter(Boolean)
    .join(', ');
  li.append(
    el(
      'p',
      `${c.purpose === 'transition_handover' ? (lang === 'da' ? 'Overgang' : 'Transition') : lang === 'da' ? 'Tværfagligt samarbejde' : 'Interdisciplinary work'}${to ? ` · ${to}` : ''}`,
    ),
  );
  li.append(
    el(
      'p',
      `${t(messages.given)} ${date(c.givenOn)} · ${c.givenBy.name}${c.revokedAt ? ` · ${t(messages.revokedOn)} ${date(c.revokedAt)}` : ''}`,
      'meta',
    ),
  );
  if (!c.revokedAt) {
    const open = el('button', t(messages.revoke)) as HTMLButtonElement;
    open.type = 'button';
    open.addEventListener('click', () => {
      open.hidden = true;
      li.append(revokeForm(c));
    });
    li.append(open);
  }
  return li;
}

function revokeForm(c: Consent): HTMLElement {
  const form = el('form', undefined, 'revoke') as HTMLFormElement;
  const nameId = `name-${c.id}`;
  const relationId = `relation-${c.id}`;
  const name = el('input') as HTMLInputElement;
  name.id = nameId;
  name.required = true;
  name.maxLength = 200;
  name.autocomplete = 'name';
  const nameLabel = el('label', t(messages.yourName));
  nameLabel.setAttribute('for', nameId);
  const relation = el('select') as HTMLSelectElement;
  relation.id = relationId;
  for (const r of ['parent', 'guardian'] as const) {
    const option = el('option', t(messages[r])) as HTMLOptionElement;
    option.value = r;
    relation.append(option);
  }
  const relationLabel = el('label', t(messages.relation));
  relationLabel.setAttribute('for', relationId);
  const submit = el('button', t(messages.confirm), 'primary') as HTMLButtonElement;
  submit.type = 'submit';
  form.append(nameLabel, name, relationLabel, relation, submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void run(async () => {
      await api('POST', `/v1/parent/consents/${c.id}/revoke`, {
        revokedBy: { name: name.value.trim(), relation: relation.value },
      });
      await load();
    });
  });
  return form;
}

function logItem(e: LogEntry): HTMLElement {
  const li = el('li');
  const who =
    e.who.kind === 'parent'
      ? t(messages.you)
      : e.who.kind === 'service'
        ? t(messages.service)
        : `${t(roleNames[e.who.role] ?? { da: e.who.role, en: e.who.role })} · ${
            e.who.units ? e.who.units.join(', ') : t(messages.wholeMunicipality)
          }`;
  const action = actionNames[e.action] ?? { da: e.action, en: e.action };
  const what = whatNames[e.what];
  const did =
    e.what === 'parent_session' && e.action === 'create'
      ? t({ da: 'åbnede linket', en: 'opened the link' })
      : `${t(action)} ${t(what)}`;
  li.append(el('p', `${who} ${did}`), el('p', dateTime(e.at), 'meta'));
  return li;
}

async function loadLog(more: boolean) {
  const query = `?limit=20${more && logCursor ? `&cursor=${encodeURIComponent(logCursor)}` : ''}`;
  const page = await api<{ items: LogEntry[]; nextCursor: string | null }>(
    'GET',
    `/v1/parent/access-log${query}`,
  );
  logCursor = page.nextCursor;
  const items = page.items.map(logItem);
  if (more) {
    const ul = $('log').querySelector('ul');
    for (const item of items) ul?.append(item);
  } else {
    list($('log'), items, { da: 'Ingen registreringer.', en: 'No entries.' });
  }
  const button = $('log-more');
  button.textContent = t(messages.more);
  button.hidden = logCursor === null;
}

async function load() {
  $('status').textContent = t(messages.loading);
  const [child, assessments, steps, consents, own] = await Promise.all([
    api<Child>('GET', '/v1/parent/child'),
    api<{ items: Assessment[] }>('GET', '/v1/parent/assessments'),
    api<{ items: Step[] }>('GET', '/v1/parent/steps'),
    api<{ items: Consent[] }>('GET', '/v1/parent/consents'),
    api<{ items: OwnReport[] }>('GET', '/v1/parent/self-reports'),
  ]);
  $('own-section').hidden = own.items.length === 0;
  list($('own'), own.items.map(ownItem), messages.noAssessments);
  $('own').prepend(el('p', t(messages.ownIntro), 'note'));
  $('h-child').textContent = child.givenName ?? t(messages.child);
  $('child').textContent =
    `${t(messages.born)} ${date(child.birthDate)}` +
    (child.units.length
      ? ` · ${t(messages.attends)} ${child.units.map((u) => u.name).join(', ')}`
      : '') +
    ` · ${t(messages.until)} ${dateTime(child.sessionExpiresAt)}`;
  list($('assessments'), assessments.items.map(assessmentItem), messages.noAssessments);
  list($('steps'), steps.items.map(stepItem), messages.noSteps);
  list($('consents'), consents.items.map(consentItem), messages.noConsents);
  await loadLog(false);
  $('view').hidden = false;
  $('sign-out').hidden = false;
  $('status').textContent = '';
}

async function run(work: () => Promise<void>) {
  try {
    await work();
  } catch (error) {
    if (error instanceof Ended) {
      sessionStorage.removeItem(TOKEN);
      token = null;
      $('sign-out').hidden = true;
      showError(messages.ended);
    } else {
      showError(messages.failed);
    }
  }
}

function label() {
  document.documentElement.lang = lang;
  document.title = `lineal · ${lang === 'da' ? 'for forældre' : 'for parents'}`;
  $('title').textContent = t(messages.title);
  const switcher = $('language');
  switcher.textContent = t(messages.other);
  switcher.lang = lang === 'da' ? 'en' : 'da';
  $('sign-out').textContent = t(messages.signOut);
  $('open-link').textContent = t(messages.open);
  $('h-assessments').textContent = t(messages.assessments);
  $('h-steps').textContent = t(messages.steps);
  $('h-own').textContent = t(messages.own);
  $('h-consents').textContent = t(messages.consents);
  $('h-log').textContent = t(messages.log);
  $('log-intro').textContent = t(messages.logIntro);
  $('footer').textContent = t(messages.footer);
}

/**
 * Exchanges the link's code for a session when the parent asks (a button): a link scanner that
 * runs the page spends nothing. The code is kept in this tab until the exchange answers, so a
 * failed attempt can be tried again; a refused code is forgotten.
 */
async function exchange(code: string) {
  $('open-link').hidden = true;
  $('status').textContent = t(messages.opening);
  let res: Response;
  try {
    res = await fetch('/v1/parent-sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
  } catch {
    res = new Response(null, { status: 503 });
  }
  if (!res.ok) {
    if (res.status === 401) sessionStorage.removeItem(CODE);
    showError(res.status === 401 ? messages.badLink : messages.failed);
    if (res.status !== 401) $('open-link').hidden = false;
    return;
  }
  sessionStorage.removeItem(CODE);
  $('error').hidden = true;
  token = ((await res.json()) as { token: string }).token;
  sessionStorage.setItem(TOKEN, token);
  await run(load);
}

async function start() {
  label();
  const fromLink = location.hash.slice(1);
  if (fromLink.startsWith('lnpl_')) {
    // Out of the address bar and the history at once; kept in this tab until it is used.
    sessionStorage.setItem(CODE, fromLink);
    history.replaceState(null, '', location.pathname);
  }
  const code = sessionStorage.getItem(CODE);
  if (code) {
    const button = $('open-link');
    button.hidden = false;
    $('status').textContent = t(messages.ready);
    return;
  }
  if (!token) {
    showError(messages.noLink);
    return;
  }
  await run(load);
}

$('open-link').addEventListener('click', () => {
  const code = sessionStorage.getItem(CODE);
  if (code) void exchange(code);
});
$('language').addEventListener('click', () => {
  lang = lang === 'da' ? 'en' : 'da';
  sessionStorage.setItem(LANG, lang);
  label();
  if (token && !$('view').hidden) void run(load);
});
$('sign-out').addEventListener('click', () => {
  void run(async () => {
    await api('POST', '/v1/parent/session/end').catch(() => undefined);
    throw new Ended();
  });
});
$('log-more').addEventListener('click', () => void run(() => loadLog(true)));
void start();
