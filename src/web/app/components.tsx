/** Small pieces the screens share: zone badge, messages, the step list with its actions. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { isUnreachable, LinealProblemError, OfflineError, type Schemas } from './api.js';
import { useI18n } from './context.js';
import type { MessageKey } from './messages.js';
import { submit } from './outbox.js';

type Zone = Schemas['Zone'];
type Step = Schemas['Step'];

export function ZoneBadge({ zone }: { zone: Zone | null | undefined }) {
  const i18n = useI18n();
  const name = zone ?? 'none';
  return <span class={`zone zone-${name}`}>{i18n.t(`zone.${name}` as MessageKey)}</span>;
}

export function Notice({
  kind,
  children,
}: {
  kind: 'info' | 'error' | 'offline' | 'success';
  children: ComponentChildren;
}) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

/** A refused write in words: the problem's detail and its field errors. */
export function problemText(error: unknown): string {
  if (error instanceof LinealProblemError) {
    const fields = (error.problem.errors ?? []).map((e) => `${e.path}: ${e.message}`);
    return [error.problem.detail, ...fields].join(' ');
  }
  return String(error);
}

/** A load or request failure in words: no connection, no access, or the problem's detail. */
export function ErrorNotice({ error }: { error: unknown }) {
  const i18n = useI18n();
  if (error instanceof OfflineError || isUnreachable(error)) {
    return <Notice kind="offline">{i18n.t('status.noData')}</Notice>;
  }
  if (error instanceof LinealProblemError) {
    if (error.status === 403) return <Notice kind="error">{i18n.t('error.forbidden')}</Notice>;
    if (error.status === 404) return <Notice kind="error">{i18n.t('error.notFound')}</Notice>;
    return (
      <Notice kind="error">{i18n.t('error.generic', { detail: error.problem.detail })}</Notice>
    );
  }
  return <Notice kind="error">{i18n.t('error.generic', { detail: String(error) })}</Notice>;
}

export function OfflineNotice({ storedAt }: { storedAt?: string | undefined }) {
  const i18n = useI18n();
  return (
    <Notice kind="offline">
      {storedAt
        ? i18n.t('status.offline', { time: i18n.dateTime(storedAt) })
        : i18n.t('status.offlineNoTime')}
    </Notice>
  );
}

export function Loading() {
  const i18n = useI18n();
  return (
    <p class="muted" role="status">
      {i18n.t('status.loading')}
    </p>
  );
}

export function roleList(roles: readonly string[], t: (key: MessageKey) => string): string {
  return roles.map((r) => t(`role.${r}` as MessageKey)).join(', ');
}

/** One step of an action plan: what, whom to involve, who is responsible, by when; its actions. */
function StepItem({ step, label }: { step: Step; label: string }) {
  const i18n = useI18n();
  const t = i18n.t;
  const [status, setStatus] = useState(step.status);
  const [pending, setPending] = useState(false);
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | undefined>();
  const reasonId = `reason-${step.id}`;

  async function change(to: 'done' | 'not_applicable', why?: string) {
    setError(undefined);
    const result = await submit({
      kind: 'step',
      method: 'PATCH',
      path: `/v1/steps/${step.id}`,
      body: why ? { status: to, reason: why } : { status: to },
      label,
      childId: step.childId,
    });
    if (result.kind === 'refused') {
      setError(result.item.problem?.detail ?? t('error.generic', { detail: '' }));
      return;
    }
    setStatus(to);
    setPending(result.kind === 'queued');
    setAsking(false);
  }

  const title = step.title[i18n.lang] ?? step.title.da;
  const description = step.description[i18n.lang] ?? step.description.da;
  const open = status === 'open';
  return (
    <li class={`step ${step.overdue && open ? 'step-overdue' : ''}`} data-step-key={step.stepKey}>
      <div class="step-head">
        <strong>{title}</strong>
        <span class={`pill pill-${status}`}>{t(`step.status.${status}` as MessageKey)}</span>
        {step.overdue && open ? <span class="pill pill-overdue">{t('step.overdue')}</span> : null}
        {pending ? <span class="pill pill-queued">{t('childStatus.queued')}</span> : null}
      </div>
      <p>{description}</p>
      <dl class="step-facts">
        <div>
          <dt>{t('result.involve')}</dt>
          <dd>{roleList(step.involve, t)}</dd>
        </div>
        <div>
          <dt>{t('result.responsible')}</dt>
          <dd>{roleList([step.responsible], t)}</dd>
        </div>
        <div>
          <dt>{t('result.due')}</dt>
          <dd>{i18n.date(step.dueOn)}</dd>
        </div>
        {step.legalReference ? (
          <div>
            <dt>{t('result.legal')}</dt>
            <dd>{step.legalReference}</dd>
          </div>
        ) : null}
      </dl>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {open && !asking ? (
        <div class="actions">
          <button type="button" onClick={() => void change('done')}>
            {t('step.markDone')}
          </button>
          {step.mandatory ? null : (
            <button type="button" class="secondary" onClick={() => setAsking(true)}>
              {t('step.markNa')}
            </button>
          )}
        </div>
      ) : null}
      {open && asking ? (
        <form
          class="inline-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (reason.trim()) void change('not_applicable', reason.trim());
          }}
        >
          <label for={reasonId}>{t('step.naReason')}</label>
          <textarea
            id={reasonId}
            required
            maxLength={2000}
            value={reason}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          <div class="actions">
            <button type="submit">{t('step.confirmNa')}</button>
            <button type="button" class="secondary" onClick={() => setAsking(false)}>
              {t('step.cancel')}
            </button>
          </div>
        </form>
      ) : null}
    </li>
  );
}

export function StepList({ steps, label }: { steps: readonly Step[]; label: string }) {
  const i18n = useI18n();
  const shown = steps.filter((s) => s.status !== 'superseded');
  if (shown.length === 0) return <p class="muted">{i18n.t('result.noSteps')}</p>;
  return (
    <ol class="steps">
      {shown.map((step) => (
        <StepItem key={step.id} step={step} label={label} />
      ))}
    </ol>
  );
}

export function childName(c: {
  givenName: string | null;
  familyName: string | null;
  externalRef: string;
}): string {
  const name = [c.givenName, c.familyName].filter(Boolean).join(' ');
  return name || c.externalRef;
}

/** A round's progress: the sentence, and the same as a bar (labelled with it). */
export function RoundProgress({
  text,
  assessed,
  enrolled,
  as: Tag = 'span',
}: {
  text: string;
  assessed: number;
  enrolled: number;
  as?: 'span' | 'p';
}) {
  return (
    <>
      <Tag>{text}</Tag>
      <progress max={Math.max(enrolled, 1)} value={assessed} aria-label={text} />
    </>
  );
}
