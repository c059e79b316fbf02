import { useMemo, useState } from 'preact/hooks';
import { todayInCopenhagen } from '../../shared/i18n.js';
import type { Problem, Schemas } from '../api.js';
import { childName, ErrorNotice, Loading, Notice, OfflineNotice } from '../components.js';
import { useApp } from '../context.js';
import type { MessageKey } from '../messages.js';
import { submit } from '../outbox.js';
import { type ChildRef, href, navigate } from '../router.js';
import { useLoad } from '../use-load.js';
import { fetchRuler, rulerKey } from './Home.js';
import { useRoster } from './Roster.js';
import { rememberResult } from './results.js';

type Definition = Schemas['RulerDefinition'];
type RaterRole = Schemas['RaterInput']['role'];
type Answer = number | 'na';

const RATER_ROLES: RaterRole[] = [
  'unit_staff',
  'unit_leader',
  'teacher',
  'health_visitor',
  'ppr',
  'school_social_worker',
  'other',
];

interface RaterDraft {
  name: string;
  role: RaterRole;
  level: number | undefined;
}

const RATERS_KEY = 'lineal.lastRaters';

/** The raters of the previous assessment on this device: a round is usually rated by the same people. */
function lastRaters(count: number): RaterDraft[] {
  let saved: RaterDraft[] = [];
  try {
    saved = JSON.parse(localStorage.getItem(RATERS_KEY) ?? '[]') as RaterDraft[];
  } catch {
    saved = [];
  }
  const raters = saved.map((r) => ({ name: r.name, role: r.role, level: undefined }));
  while (raters.length < count) raters.push({ name: '', role: 'unit_staff', level: undefined });
  return raters;
}

/** Field errors by the API's paths (`body.rating.answers.x`) and the form's own checks. */
type Errors = Record<string, string>;

function fieldErrors(problem: Problem): Errors {
  const errors: Errors = {};
  for (const e of problem.errors ?? []) {
    const path = e.path.replace(/^body\./, '');
    const key = path.startsWith('raters')
      ? 'raters'
      : path.startsWith('redFlags')
        ? 'redFlags'
        : path;
    errors[key] = errors[key] ? `${errors[key]} ${e.message}` : e.message;
  }
  return errors;
}

function LevelChoice({
  name,
  legend,
  hint,
  definition,
  value,
  allowNa,
  allowNone,
  error,
  onChange,
}: {
  name: string;
  legend: string;
  hint?: string;
  definition: Definition;
  value: Answer | undefined;
  allowNa: boolean;
  allowNone: boolean;
  error: string | undefined;
  onChange(value: Answer | undefined): void;
}) {
  const { i18n } = useApp();
  const t = i18n.t;
  const errorId = `${name}-error`;
  const hintId = `${name}-hint`;
  const describedBy = [hint ? hintId : '', error ? errorId : ''].filter(Boolean).join(' ');
  return (
    <fieldset
      class={`levels ${error ? 'invalid' : ''}`}
      id={name}
      {...(describedBy ? { 'aria-describedby': describedBy } : {})}
    >
      <legend>{legend}</legend>
      {hint ? (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      <div class="choices">
        {definition.levels.map((level) => (
          <label key={level.value} class={`choice choice-${level.zone}`}>
            <input
              type="radio"
              name={name}
              value={String(level.value)}
              checked={value === level.value}
              onChange={() => onChange(level.value)}
            />
            <span>
              {level.value} {level.label[i18n.lang]}
            </span>
          </label>
        ))}
        {allowNa ? (
          <label class="choice choice-na">
            <input
              type="radio"
              name={name}
              value="na"
              checked={value === 'na'}
              onChange={() => onChange('na')}
            />
            <span>{t('assess.na')}</span>
          </label>
        ) : null}
        {allowNone ? (
          <label class="choice choice-none">
            <input
              type="radio"
              name={name}
              value=""
              checked={value === undefined}
              onChange={() => onChange(undefined)}
            />
            <span>{t('assess.notRated')}</span>
          </label>
        ) : null}
      </div>
      {error ? (
        <p class="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

export function Assess({ roundId, unitId, childId }: ChildRef) {
  const { api, i18n } = useApp();
  const t = i18n.t;
  const roster = useRoster(roundId, unitId);
  const versionId = roster.status === 'ready' ? roster.data.round.rulerVersionId : undefined;
  const ruler = useLoad(
    versionId ? rulerKey(versionId) : 'ruler:none',
    () => (versionId ? fetchRuler(api, versionId) : Promise.reject(new Error('no ruler'))),
    [versionId],
  );
  if (roster.status === 'loading' || (versionId && ruler.status === 'loading')) return <Loading />;
  if (roster.status === 'error') return <ErrorNotice error={roster.error} />;
  if (ruler.status === 'error') return <ErrorNotice error={ruler.error} />;
  if (ruler.status !== 'ready') return <Loading />;
  const child = roster.data.roster.children.find((c) => c.childId === childId);
  if (!child) return <ErrorNotice error={new Error(t('error.notFound'))} />;
  return (
    <AssessForm
      key={childId}
      roundId={roundId}
      unitId={unitId}
      child={child}
      version={ruler.data}
      offline={roster.offline || ruler.offline}
      storedAt={roster.storedAt}
    />
  );
}

function AssessForm({
  roundId,
  unitId,
  child,
  version,
  offline,
  storedAt,
}: {
  roundId: string;
  unitId: string;
  child: Schemas['RoundRoster']['children'][number];
  version: Schemas['RulerVersion'];
  offline: boolean;
  storedAt: string | undefined;
}) {
  const { i18n } = useApp();
  const t = i18n.t;
  const definition = version.definition;
  const rated = (definition.items ?? []).filter((i) => !i.redFlag);
  const flags = (definition.items ?? []).filter((i) => i.redFlag);
  const needsOverall = definition.rule.kind === 'assessor_position';
  const name = childName(child);

  const [assessedOn, setAssessedOn] = useState(todayInCopenhagen());
  const [answers, setAnswers] = useState<Record<string, Answer | undefined>>({});
  const [redFlags, setRedFlags] = useState<string[]>([]);
  const [overall, setOverall] = useState<number | undefined>(undefined);
  const [raters, setRaters] = useState<RaterDraft[]>(() =>
    lastRaters(Math.max(definition.ratersRequired ?? 1, 1)),
  );
  const [justification, setJustification] = useState('');
  const [perspective, setPerspective] = useState('');
  const [parentsInformed, setParentsInformed] = useState(false);
  const [errors, setErrors] = useState<Errors>({});
  const [problem, setProblem] = useState<Problem | undefined>();
  const [busy, setBusy] = useState(false);

  const disagreement = useMemo(() => {
    const levels = raters.map((r) => r.level).filter((l): l is number => l !== undefined);
    return new Set(levels).size > 1 ? levels : undefined;
  }, [raters]);

  function setRater(index: number, patch: Partial<RaterDraft>) {
    setRaters((all) => all.map((r, i) => (i === index ? { ...r, ...patch } : r)));
  }

  function check(): Errors {
    const found: Errors = {};
    if (!assessedOn) found.assessedOn = t('assess.required');
    if (raters.some((r) => !r.name.trim())) found.raters = t('assess.required');
    if (raters.length < (definition.ratersRequired ?? 1)) {
      found.raters = t('assess.ratersHint', { count: definition.ratersRequired ?? 1 });
    }
    return found;
  }

  async function save(event: Event) {
    event.preventDefault();
    const found = check();
    setErrors(found);
    setProblem(undefined);
    if (Object.keys(found).length > 0) {
      document
        .getElementById(Object.keys(found)[0] === 'raters' ? 'raters' : 'assessedOn')
        ?.focus();
      return;
    }
    const rating: { overallLevel?: number; answers: Record<string, Answer> } = { answers: {} };
    if (overall !== undefined) rating.overallLevel = overall;
    for (const [key, value] of Object.entries(answers)) {
      if (value !== undefined) rating.answers[key] = value;
    }
    const body = {
      childId: child.childId,
      unitId,
      roundId,
      assessedOn,
      raters: raters.map((r) => ({
        name: r.name.trim(),
        role: r.role,
        ...(r.level !== undefined ? { rating: { overallLevel: r.level } } : {}),
      })),
      rating,
      redFlags,
      ...(justification.trim() ? { justification: justification.trim() } : {}),
      ...(perspective.trim() ? { childPerspective: perspective.trim() } : {}),
      parentsInformed,
    };
    setBusy(true);
    try {
      const result = await submit({
        kind: 'assessment',
        method: 'POST',
        path: '/v1/assessments',
        body,
        label: name,
        childId: child.childId,
      });
      localStorage.setItem(
        RATERS_KEY,
        JSON.stringify(raters.map((r) => ({ ...r, level: undefined }))),
      );
      if (result.kind === 'refused') {
        const p = result.item.problem;
        setProblem(p);
        if (p) setErrors(fieldErrors(p));
        return;
      }
      rememberResult(child.childId, result.kind === 'sent' ? result.data : 'queued');
      navigate({ name: 'child', roundId, unitId, childId: child.childId });
    } finally {
      setBusy(false);
    }
  }

  const err = (key: string) =>
    errors[key] ? (
      <p class="field-error" id={`${key}-error`}>
        {errors[key]}
      </p>
    ) : null;
  const described = (key: string, hint?: string) => {
    const ids = [hint ?? '', errors[key] ? `${key}-error` : ''].filter(Boolean).join(' ');
    return ids ? { 'aria-describedby': ids } : {};
  };

  return (
    <main id="main">
      <h1>{t('assess.title', { child: name })}</h1>
      <p class="muted">{t('assess.ruler', { ruler: `${version.rulerKey} v${version.version}` })}</p>
      {offline ? <OfflineNotice storedAt={storedAt} /> : null}
      {problem ? (
        <Notice kind="error">
          {problem.type.endsWith(':assessment-exists') ? (
            <>
              {t('assess.exists')}{' '}
              <a href={href({ name: 'child', roundId, unitId, childId: child.childId })}>{name}</a>
            </>
          ) : (
            <>
              {t('assess.fixErrors')} {problem.detail}
            </>
          )}
        </Notice>
      ) : Object.keys(errors).length > 0 ? (
        <Notice kind="error">{t('assess.fixErrors')}</Notice>
      ) : null}
      <form
        class="assess"
        onSubmit={save}
        noValidate
        onKeyDown={(event) => {
          // Ctrl+Enter (⌘+Enter) saves from any field: no tabbing to the button.
          if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
            event.preventDefault();
            event.currentTarget.requestSubmit();
          }
        }}
        aria-describedby="save-hint"
      >
        <div class="field">
          <label for="assessedOn">{t('assess.date')}</label>
          <input
            id="assessedOn"
            type="date"
            required
            max={todayInCopenhagen()}
            value={assessedOn}
            onInput={(e) => setAssessedOn(e.currentTarget.value)}
            {...described('assessedOn')}
          />
          {err('assessedOn')}
        </div>

        {needsOverall ? (
          <LevelChoice
            name="overallLevel"
            legend={t('assess.overall')}
            hint={t('assess.overallHint')}
            definition={definition}
            value={overall}
            allowNa={false}
            allowNone
            error={errors['rating.overallLevel']}
            onChange={(v) => setOverall(typeof v === 'number' ? v : undefined)}
          />
        ) : null}

        {rated.length > 0 ? (
          <section aria-labelledby="items-h">
            <h2 id="items-h">{t('assess.items')}</h2>
            <p class="hint">{t('assess.itemsHint')}</p>
            {rated.map((item) => (
              <LevelChoice
                key={item.key}
                name={`item-${item.key}`}
                legend={item.label[i18n.lang]}
                definition={definition}
                value={answers[item.key]}
                allowNa={item.allowNotApplicable ?? false}
                allowNone
                error={errors[`rating.answers.${item.key}`]}
                onChange={(v) => setAnswers((a) => ({ ...a, [item.key]: v }))}
              />
            ))}
          </section>
        ) : null}

        {flags.length > 0 ? (
          <fieldset
            class={`flags ${errors.redFlags ? 'invalid' : ''}`}
            id="redFlags"
            aria-describedby="redFlags-hint"
          >
            <legend>{t('assess.redFlags')}</legend>
            <p class="hint" id="redFlags-hint">
              {t('assess.redFlagsHint')}
            </p>
            {flags.map((item) => (
              <label key={item.key} class="check">
                <input
                  type="checkbox"
                  name="redFlags"
                  value={item.key}
                  checked={redFlags.includes(item.key)}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    setRedFlags((all) =>
                      on ? [...all, item.key] : all.filter((k) => k !== item.key),
                    );
                  }}
                />
                <span>{item.label[i18n.lang]}</span>
              </label>
            ))}
            {err('redFlags')}
          </fieldset>
        ) : null}

        <fieldset class={`raters ${errors.raters ? 'invalid' : ''}`} id="raters" tabIndex={-1}>
          <legend>{t('assess.raters')}</legend>
          <p class="hint">{t('assess.ratersHint', { count: definition.ratersRequired ?? 1 })}</p>
          {raters.map((rater, index) => {
            const n = index + 1;
            return (
              <div class="rater" key={index}>
                <div class="field">
                  <label for={`rater-${n}-name`}>
                    {t('assess.rater', { n })}: {t('assess.raterName')}
                  </label>
                  <input
                    id={`rater-${n}-name`}
                    required
                    maxLength={200}
                    autocomplete="name"
                    value={rater.name}
                    onInput={(e) => setRater(index, { name: e.currentTarget.value })}
                  />
                </div>
                <div class="field">
                  <label for={`rater-${n}-role`}>
                    {t('assess.rater', { n })}: {t('assess.raterRole')}
                  </label>
                  <select
                    id={`rater-${n}-role`}
                    value={rater.role}
                    onChange={(e) => setRater(index, { role: e.currentTarget.value as RaterRole })}
                  >
                    {RATER_ROLES.map((role) => (
                      <option key={role} value={role}>
                        {t(`raterRole.${role}` as MessageKey)}
                      </option>
                    ))}
                  </select>
                </div>
                {needsOverall ? (
                  <div class="field">
                    <label for={`rater-${n}-level`}>
                      {t('assess.rater', { n })}: {t('assess.raterLevel')}
                    </label>
                    <select
                      id={`rater-${n}-level`}
                      value={rater.level === undefined ? '' : String(rater.level)}
                      onChange={(e) => {
                        const v = e.currentTarget.value;
                        setRater(index, { level: v === '' ? undefined : Number(v) });
                      }}
                    >
                      <option value="">–</option>
                      {definition.levels.map((level) => (
                        <option key={level.value} value={String(level.value)}>
                          {level.value} {level.label[i18n.lang]}
                        </option>
                      ))}
                    </select>
                  </div>
                ) : null}
                {raters.length > (definition.ratersRequired ?? 1) ? (
                  <button
                    type="button"
                    class="secondary small"
                    onClick={() => setRaters((all) => all.filter((_, i) => i !== index))}
                  >
                    {t('assess.removeRater', { n })}
                  </button>
                ) : null}
              </div>
            );
          })}
          {raters.length < 10 ? (
            <button
              type="button"
              class="secondary"
              onClick={() =>
                setRaters((all) => [...all, { name: '', role: 'unit_staff', level: undefined }])
              }
            >
              {t('assess.addRater')}
            </button>
          ) : null}
          {disagreement ? (
            <Notice kind="info">
              {t('assess.disagreement', { levels: disagreement.join(' / ') })}
            </Notice>
          ) : null}
          {err('raters')}
        </fieldset>

        <div class="field">
          <label for="justification">{t('assess.justification')}</label>
          <textarea
            id="justification"
            maxLength={4000}
            rows={4}
            value={justification}
            onInput={(e) => setJustification(e.currentTarget.value)}
            {...described('justification', 'justification-hint')}
          />
          <p class="hint" id="justification-hint">
            {t('assess.justificationHint')}
          </p>
          {err('justification')}
        </div>
        <div class="field">
          <label for="childPerspective">{t('assess.childPerspective')}</label>
          <textarea
            id="childPerspective"
            maxLength={4000}
            rows={3}
            value={perspective}
            onInput={(e) => setPerspective(e.currentTarget.value)}
            {...described('childPerspective', 'childPerspective-hint')}
          />
          <p class="hint" id="childPerspective-hint">
            {t('assess.childPerspectiveHint')}
          </p>
          {err('childPerspective')}
        </div>
        <label class="check">
          <input
            type="checkbox"
            id="parentsInformed"
            checked={parentsInformed}
            onChange={(e) => setParentsInformed(e.currentTarget.checked)}
          />
          <span>{t('assess.parentsInformed')}</span>
        </label>
        <div class="actions sticky-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? t('assess.saving') : t('assess.save')}
          </button>
          <a class="button secondary" href={href({ name: 'roster', roundId, unitId })}>
            {t('assess.cancel')}
          </a>
          <span class="hint" id="save-hint">
            {t('assess.saveHint')}
          </span>
        </div>
      </form>
    </main>
  );
}
