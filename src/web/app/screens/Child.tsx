import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { LinealClient } from '../../../../clients/typescript/index.js';
import { todayInCopenhagen } from '../../shared/i18n.js';
import { type Schemas, unwrap } from '../api.js';
import {
  childName,
  ErrorNotice,
  Loading,
  Notice,
  OfflineNotice,
  problemText,
  StepList,
  ZoneBadge,
} from '../components.js';
import { useApp } from '../context.js';
import { explain } from '../explain.js';
import type { MessageKey } from '../messages.js';
import { type ChildRef, href } from '../router.js';
import { useLoad } from '../use-load.js';
import { useOutbox } from '../use-outbox.js';
import { fetchRuler, rulerKey } from './Home.js';
import { nextMissing, useRoster } from './Roster.js';
import { takeResult } from './results.js';
import { SelfReportBeside, SelfReportPanel } from './SelfReport.js';

type Assessment = Schemas['AssessmentView'];
type Recommendation = Schemas['Recommendation'];
type RosterChild = Schemas['RoundRoster']['children'][number];

interface ChildData {
  assessment: Assessment | null;
  recommendation: Recommendation | null;
  flags: Schemas['Flag'][];
}

async function fetchChild(
  api: LinealClient,
  child: RosterChild,
  unitId: string,
): Promise<ChildData> {
  const assessmentId = child.assessment?.id;
  const [assessment, recommendation, flags] = await Promise.all([
    assessmentId
      ? api
          .GET('/v1/assessments/{assessmentId}', { params: { path: { assessmentId } } })
          .then(unwrap)
      : null,
    assessmentId
      ? api
          .GET('/v1/assessments/{assessmentId}/recommendation', {
            params: { path: { assessmentId } },
          })
          .then(unwrap)
      : null,
    api
      .GET('/v1/flags', { params: { query: { childId: child.childId, unitId, limit: 200 } } })
      .then(unwrap),
  ]);
  return { assessment, recommendation, flags: flags.items };
}

/** A write made while online (not queued): with its own Idempotency-Key, so a retry is safe. */
async function post<T>(
  call: (headers: { 'idempotency-key': string }) => Promise<{
    data?: T;
    error?: unknown;
    response: Response;
  }>,
): Promise<T> {
  return unwrap(await call({ 'idempotency-key': crypto.randomUUID() }));
}

export function ChildPage({ roundId, unitId, childId }: ChildRef) {
  const { i18n } = useApp();
  const t = i18n.t;
  const roster = useRoster(roundId, unitId);
  const outbox = useOutbox();
  const [justSaved] = useState(() => takeResult(childId));

  if (roster.status === 'loading') return <Loading />;
  if (roster.status === 'error') return <ErrorNotice error={roster.error} />;
  const child = roster.data.roster.children.find((c) => c.childId === childId);
  if (!child) return <ErrorNotice error={new Error(t('error.notFound'))} />;
  const name = childName(child);
  const queuedIds = new Set(
    outbox.filter((i) => i.kind === 'assessment' && i.state === 'waiting').map((i) => i.childId),
  );
  const next =
    roster.data.round.status === 'open'
      ? nextMissing(roster.data.roster.children, childId, queuedIds)
      : undefined;
  const isQueued = justSaved === 'queued' || queuedIds.has(childId);

  return (
    <main id="main">
      <h1>{t('child.title', { child: name })}</h1>
      <p class="muted">
        {roster.data.round.name} · {roster.data.unit.name} ·{' '}
        {t('roster.born', { date: i18n.date(child.birthDate) })}
      </p>
      {roster.offline ? <OfflineNotice storedAt={roster.storedAt} /> : null}
      {isQueued ? <Notice kind="offline">{t('result.queued')}</Notice> : null}
      <div class="actions">
        {next ? (
          <a
            class="button primary"
            href={href({ name: 'assess', roundId, unitId, childId: next.childId })}
          >
            {t('result.next')}: {childName(next)}
          </a>
        ) : null}
        <a class="button secondary" href={href({ name: 'roster', roundId, unitId })}>
          {t('result.back')}
        </a>
      </div>
      {isQueued ? null : (
        <ChildDetails
          child={child}
          unitId={unitId}
          roundId={roundId}
          rulerVersionId={roster.data.round.rulerVersionId}
          roundOpen={roster.data.round.status === 'open'}
          justSaved={
            justSaved && typeof justSaved === 'object'
              ? (justSaved as Schemas['AssessmentWithRecommendation'])
              : undefined
          }
        />
      )}
    </main>
  );
}

function ChildDetails({
  child,
  unitId,
  roundId,
  rulerVersionId,
  roundOpen,
  justSaved,
}: {
  child: RosterChild;
  unitId: string;
  roundId: string;
  rulerVersionId: string;
  roundOpen: boolean;
  justSaved: Schemas['AssessmentWithRecommendation'] | undefined;
}) {
  const { api, i18n, revision } = useApp();
  const t = i18n.t;
  const name = childName(child);
  const data = useLoad(`child:${unitId}:${child.childId}`, () => fetchChild(api, child, unitId), [
    child.assessment?.id,
    revision,
  ]);
  const ruler = useLoad(rulerKey(rulerVersionId), () => fetchRuler(api, rulerVersionId), [
    rulerVersionId,
  ]);
  if (data.status === 'loading') return <Loading />;
  if (data.status === 'error') return <ErrorNotice error={data.error} />;
  const assessment = justSaved ?? data.data.assessment;
  const recommendation = justSaved?.recommendation ?? data.data.recommendation;
  const definition = ruler.status === 'ready' ? ruler.data.definition : undefined;

  return (
    <>
      <section class="panel" aria-labelledby="result-h">
        <h2 id="result-h">{justSaved ? t('result.title', { child: name }) : t('child.latest')}</h2>
        {assessment ? (
          <>
            <p class="result-zone">
              <ZoneBadge zone={assessment.zone} />{' '}
              <span class="muted">
                {t('child.assessedOn', { date: i18n.date(assessment.assessedOn) })}
                {assessment.version > 1
                  ? ` · ${t('child.version', { version: assessment.version })}`
                  : ''}
              </span>
            </p>
            {data.data.assessment?.selfReport ? (
              <SelfReportBeside link={data.data.assessment.selfReport} />
            ) : null}
            <h3>{t('result.why')}</h3>
            <ul class="explanation">
              {(definition
                ? explain(assessment.explanation, assessment.zone, definition, i18n)
                : [assessment.explanation.summary]
              ).map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
            {recommendation && recommendation.flags.length > 0 ? (
              <>
                <h3>{t('result.flags')}</h3>
                <ul>
                  {recommendation.flags.map((f) => (
                    <li key={f.kind}>{t(`child.flagKind.${f.kind}` as MessageKey)}</li>
                  ))}
                </ul>
              </>
            ) : null}
            <h3>{t('result.steps')}</h3>
            {recommendation ? <StepList steps={recommendation.steps} label={name} /> : null}
          </>
        ) : (
          <>
            <p>{t('child.none')}</p>
            {roundOpen ? (
              <a
                class="button primary"
                href={href({ name: 'assess', roundId, unitId, childId: child.childId })}
              >
                {t('child.assessNow')}
              </a>
            ) : null}
          </>
        )}
      </section>
      <FlagsPanel flags={data.data.flags} offline={data.offline} storedAt={data.storedAt} />
      <ConcernPanel childId={child.childId} />
      <ConsentPanel childId={child.childId} unitId={unitId} />
      <SelfReportPanel childId={child.childId} unitId={unitId} birthDate={child.birthDate} />
      <HandoverPanel childId={child.childId} />
    </>
  );
}

function FlagsPanel({
  flags,
  offline,
  storedAt,
}: {
  flags: Schemas['Flag'][];
  offline: boolean;
  storedAt: string | undefined;
}) {
  const { i18n } = useApp();
  const t = i18n.t;
  return (
    <section class="panel" aria-labelledby="flags-h">
      <h2 id="flags-h">{t('child.flags')}</h2>
      {offline ? <OfflineNotice storedAt={storedAt} /> : null}
      {flags.length === 0 ? <p class="muted">{t('child.noFlags')}</p> : null}
      <ul class="plain">
        {flags.map((flag) => (
          <FlagItem key={flag.id} flag={flag} />
        ))}
      </ul>
    </section>
  );
}

function FlagItem({ flag }: { flag: Schemas['Flag'] }) {
  const { api, i18n } = useApp();
  const t = i18n.t;
  const [note, setNote] = useState('');
  const [done, setDone] = useState(flag.status === 'acknowledged');
  const [error, setError] = useState<string | undefined>();
  const noteId = `ack-${flag.id}`;
  return (
    <li class="flag">
      <strong>{t(`child.flagKind.${flag.kind}` as MessageKey)}</strong>{' '}
      <span class="muted">{i18n.dateTime(flag.raisedAt)}</span>
      <p>
        {t(`child.flagWhy.${flag.kind}` as MessageKey)}
        {i18n.lang === 'en' ? ` ${flag.reason}` : null}
      </p>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {done ? (
        <p class="pill pill-done">{t('status.saved')}</p>
      ) : (
        <form
          class="inline-form"
          onSubmit={async (event) => {
            event.preventDefault();
            setError(undefined);
            try {
              unwrap(
                await api.POST('/v1/flags/{flagId}/acknowledge', {
                  params: { path: { flagId: flag.id } },
                  body: { note: note.trim() },
                }),
              );
              setDone(true);
            } catch (e) {
              setError(problemText(e));
            }
          }}
        >
          <label for={noteId}>{t('child.ackNote')}</label>
          <textarea
            id={noteId}
            required
            maxLength={2000}
            value={note}
            onInput={(e) => setNote(e.currentTarget.value)}
          />
          <button type="submit">{t('child.acknowledge')}</button>
        </form>
      )}
    </li>
  );
}

/**
 * A panel with one form that writes while online: its title and intro, the fields, and the
 * outcome (the success text `save` answers, or the API's problem) above the form.
 */
function FormPanel({
  id,
  title,
  intro,
  submitLabel,
  save,
  children,
}: {
  id: string;
  title: string;
  intro: string;
  submitLabel: string;
  save(): Promise<string>;
  children: ComponentChildren;
}) {
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  return (
    <section class="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{title}</h2>
      <p class="hint">{intro}</p>
      {message ? <Notice kind={message.ok ? 'success' : 'error'}>{message.text}</Notice> : null}
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          try {
            setMessage({ ok: true, text: await save() });
          } catch (e) {
            setMessage({ ok: false, text: problemText(e) });
          }
        }}
      >
        <div class="grid-2">{children}</div>
        <button type="submit">{submitLabel}</button>
      </form>
    </section>
  );
}

const INVOLVED = [
  'unit_staff',
  'unit_leader',
  'health_visitor',
  'ppr',
  'school_social_worker',
  'child_services',
  'gp',
] as const;

function ConcernPanel({ childId }: { childId: string }) {
  const { api, i18n } = useApp();
  const t = i18n.t;
  const [reportedOn, setReportedOn] = useState(todayInCopenhagen());
  const [by, setBy] = useState('');
  const [role, setRole] = useState<(typeof INVOLVED)[number]>('unit_leader');
  const [reference, setReference] = useState('');
  return (
    <FormPanel
      id="concern"
      title={t('child.concern')}
      intro={t('child.concernIntro')}
      submitLabel={t('child.concernSave')}
      save={async () => {
        await post((headers) =>
          api.POST('/v1/children/{childId}/concern-reports', {
            params: { path: { childId }, header: headers },
            body: {
              reportedOn,
              reportedBy: { name: by.trim(), role },
              ...(reference.trim() ? { reference: reference.trim() } : {}),
            },
          }),
        );
        return t('child.concernSaved');
      }}
    >
      <div class="field">
        <label for="concern-date">{t('child.concernDate')}</label>
        <input
          id="concern-date"
          type="date"
          required
          value={reportedOn}
          onInput={(e) => setReportedOn(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="concern-by">{t('child.concernBy')}</label>
        <input
          id="concern-by"
          required
          maxLength={200}
          value={by}
          onInput={(e) => setBy(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="concern-role">{t('child.concernRole')}</label>
        <select
          id="concern-role"
          value={role}
          onChange={(e) => setRole(e.currentTarget.value as (typeof INVOLVED)[number])}
        >
          {INVOLVED.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}` as MessageKey)}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="concern-ref">{t('child.concernRef')}</label>
        <input
          id="concern-ref"
          maxLength={200}
          value={reference}
          onInput={(e) => setReference(e.currentTarget.value)}
        />
      </div>
    </FormPanel>
  );
}

const CATEGORIES = ['assessments', 'recommendations', 'notes'] as const;

function ConsentPanel({ childId, unitId }: { childId: string; unitId: string }) {
  const { api, i18n } = useApp();
  const t = i18n.t;
  const [purpose, setPurpose] = useState<Schemas['ConsentPurpose']>('interdisciplinary_sharing');
  const [categories, setCategories] = useState<string[]>(['assessments', 'recommendations']);
  const [givenBy, setGivenBy] = useState('');
  const [relation, setRelation] = useState<'parent' | 'guardian' | 'child'>('parent');
  const [givenOn, setGivenOn] = useState(todayInCopenhagen());
  const [validUntil, setValidUntil] = useState('');
  return (
    <FormPanel
      id="consent"
      title={t('child.consent')}
      intro={t('child.consentIntro')}
      submitLabel={t('child.consentSave')}
      save={async () => {
        await post((headers) =>
          api.POST('/v1/children/{childId}/consents', {
            params: { path: { childId }, header: headers },
            body: {
              purpose,
              recipient: { unitId },
              categories: categories as Schemas['DataCategory'][],
              givenBy: { name: givenBy.trim(), relation },
              givenOn,
              ...(validUntil ? { validUntil } : {}),
            },
          }),
        );
        return t('child.consentSaved');
      }}
    >
      <div class="field">
        <label for="consent-purpose">{t('child.consentPurpose')}</label>
        <select
          id="consent-purpose"
          value={purpose}
          onChange={(e) => setPurpose(e.currentTarget.value as Schemas['ConsentPurpose'])}
        >
          {(['interdisciplinary_sharing', 'transition_handover'] as const).map((p) => (
            <option key={p} value={p}>
              {t(`child.purpose.${p}` as MessageKey)}
            </option>
          ))}
        </select>
      </div>
      <fieldset class="field">
        <legend>{t('child.consentCategories')}</legend>
        {CATEGORIES.map((c) => (
          <label key={c} class="check">
            <input
              type="checkbox"
              checked={categories.includes(c)}
              onChange={(e) => {
                const on = e.currentTarget.checked;
                setCategories((all) => (on ? [...all, c] : all.filter((x) => x !== c)));
              }}
            />
            <span>{t(`child.category.${c}` as MessageKey)}</span>
          </label>
        ))}
      </fieldset>
      <div class="field">
        <label for="consent-by">{t('child.consentGivenBy')}</label>
        <input
          id="consent-by"
          required
          maxLength={200}
          value={givenBy}
          onInput={(e) => setGivenBy(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="consent-relation">{t('child.consentRelation')}</label>
        <select
          id="consent-relation"
          value={relation}
          onChange={(e) => setRelation(e.currentTarget.value as 'parent' | 'guardian' | 'child')}
        >
          {(['parent', 'guardian', 'child'] as const).map((r) => (
            <option key={r} value={r}>
              {t(`child.relation.${r}` as MessageKey)}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="consent-on">{t('child.consentGivenOn')}</label>
        <input
          id="consent-on"
          type="date"
          required
          value={givenOn}
          onInput={(e) => setGivenOn(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="consent-until">{t('child.consentValidUntil')}</label>
        <input
          id="consent-until"
          type="date"
          value={validUntil}
          onInput={(e) => setValidUntil(e.currentTarget.value)}
        />
      </div>
    </FormPanel>
  );
}

function HandoverPanel({ childId }: { childId: string }) {
  const { api, i18n } = useApp();
  const t = i18n.t;
  const [state, setState] = useState<
    | { kind: 'idle' }
    | { kind: 'ready'; data: Schemas['Handover'] }
    | { kind: 'error'; text: string }
  >({ kind: 'idle' });
  return (
    <section class="panel" aria-labelledby="handover-h">
      <h2 id="handover-h">{t('child.handover')}</h2>
      <p class="hint">{t('child.handoverIntro')}</p>
      {state.kind === 'idle' ? (
        <button
          type="button"
          class="secondary"
          onClick={async () => {
            try {
              const data = unwrap(
                await api.GET('/v1/children/{childId}/handover', {
                  params: { path: { childId } },
                }),
              );
              setState({ kind: 'ready', data });
            } catch (e) {
              setState({ kind: 'error', text: problemText(e) });
            }
          }}
        >
          {t('child.handoverShow')}
        </button>
      ) : null}
      {state.kind === 'error' ? <Notice kind="error">{state.text}</Notice> : null}
      {state.kind === 'ready' ? (
        <div class="handover">
          {state.data.latest ? (
            <p>
              <ZoneBadge zone={state.data.latest.zone} />{' '}
              {t('child.assessedOn', { date: i18n.date(state.data.latest.assessedOn) })} ·{' '}
              {state.data.latest.rulerKey}
            </p>
          ) : (
            <p>{t('child.handoverNone')}</p>
          )}
          {state.data.latest?.justification ? <p>{state.data.latest.justification}</p> : null}
          {state.data.openSteps.length > 0 ? (
            <ul>
              {state.data.openSteps.map((s) => (
                <li key={s.id}>
                  {s.title[i18n.lang]} · {t('result.due')} {i18n.date(s.dueOn)}
                </li>
              ))}
            </ul>
          ) : null}
          {state.data.withheld ? (
            <p class="muted">
              {t('child.handoverWithheld', {
                count:
                  state.data.withheld.assessments +
                  state.data.withheld.steps +
                  state.data.withheld.flags,
              })}
            </p>
          ) : null}
          <p class="muted small">{state.data.basis.explanation}</p>
        </div>
      ) : null}
    </section>
  );
}
