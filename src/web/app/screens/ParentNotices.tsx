import { useState } from 'preact/hooks';
import type { LinealClient } from '../../../../clients/typescript/index.js';
import { todayInCopenhagen } from '../../shared/i18n.js';
import { type Schemas, unwrap } from '../api.js';
import {
  ErrorNotice,
  Loading,
  Notice,
  OfflineNotice,
  problemText,
  ZoneBadge,
} from '../components.js';
import { useApp } from '../context.js';
import type { MessageKey } from '../messages.js';
import { useLoad } from '../use-load.js';

type ParentNotice = Schemas['ParentNotice'];
type Method = ParentNotice['method'] & string;
const METHODS: Method[] = ['meeting', 'phone', 'letter', 'digital_post'];

async function fetchNotices(
  api: LinealClient,
  overdue: boolean,
  names: (ids: { childId: string; unitId: string }[]) => Promise<Record<string, string>>,
) {
  const page = unwrap(
    await api.GET('/v1/parent-notices', {
      params: { query: { limit: 200, status: 'open', ...(overdue ? { overdue: 'true' } : {}) } },
    }),
  );
  return { items: page.items, names: await names(page.items) };
}

/**
 * The parents still to be informed in the caller's units (a first assessment or a zone change),
 * by due date: record how and when they were, or get the letter to them. Writes need a
 * connection (like consents and concern reports).
 */
export function ParentNotices({
  overdue,
  names,
}: {
  overdue: boolean;
  names: (ids: { childId: string; unitId: string }[]) => Promise<Record<string, string>>;
}) {
  const { api, i18n, revision } = useApp();
  const t = i18n.t;
  const state = useLoad(`parent-notices:${overdue}`, () => fetchNotices(api, overdue, names), [
    overdue,
    revision,
  ]);
  return (
    <section class="panel" aria-labelledby="parents-heading">
      <h2 id="parents-heading">{t('parents.title')}</h2>
      <p class="hint">{t('parents.intro')}</p>
      {state.status === 'loading' ? <Loading /> : null}
      {state.status === 'error' ? <ErrorNotice error={state.error} /> : null}
      {state.status === 'ready' ? (
        <>
          {state.offline ? <OfflineNotice storedAt={state.storedAt} /> : null}
          {state.data.items.length === 0 ? <p>{t('parents.empty')}</p> : null}
          <ul class="notices">
            {state.data.items.map((notice) => (
              <NoticeItem
                key={notice.id}
                notice={notice}
                name={state.data.names[notice.childId] ?? notice.childId.slice(0, 8)}
              />
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function NoticeItem({ notice, name }: { notice: ParentNotice; name: string }) {
  const { api, i18n, me } = useApp();
  const t = i18n.t;
  const risk = notice.riskCategories.length > 0;
  const leader = me.principal.role === 'unit_leader' || me.principal.role === 'municipality_admin';
  const [withholding, setWithholding] = useState(false);
  const [reason, setReason] = useState('');
  const [informedOn, setInformedOn] = useState(todayInCopenhagen());
  const [method, setMethod] = useState<Method>('meeting');
  const [by, setBy] = useState('');
  const [role, setRole] = useState('');
  const [saved, setSaved] = useState<'informed' | 'withheld' | undefined>();
  const [recording, setRecording] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [link, setLink] = useState<{ url: string; expiresAt: string } | undefined>();
  const [copied, setCopied] = useState(false);
  const id = (field: string) => `${field}-${notice.id}`;
  const why =
    notice.reason === 'zone_change' && notice.previousZone
      ? t('parents.changed', {
          from: t(`zone.${notice.previousZone}` as MessageKey),
          to: t(`zone.${notice.zone}` as MessageKey),
        })
      : t('parents.first');

  async function letter() {
    setError(undefined);
    try {
      const {
        data,
        error: problem,
        response,
      } = await api.GET('/v1/parent-notices/{noticeId}/letter', {
        params: { path: { noticeId: notice.id }, query: { format: 'pdf', language: 'da' } },
        parseAs: 'blob',
      });
      if (!response.ok || !data) throw problem ?? new Error(String(response.status));
      const url = URL.createObjectURL(data as Blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `forældrebrev-${name}.pdf`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(problemText(e));
    }
  }

  /** A one-time link to the parent view (shown once: only its hash is kept). */
  async function makeLink() {
    setError(undefined);
    try {
      const made = unwrap(
        await api.POST('/v1/children/{childId}/parent-links', {
          params: { path: { childId: notice.childId } },
          body: { unitId: notice.unitId, validDays: 14 },
        }),
      );
      setLink({ url: `${location.origin}${made.path}`, expiresAt: made.expiresAt });
    } catch (e) {
      setError(problemText(e));
    }
  }

  return (
    <li class={`notice-item ${notice.overdue ? 'step-overdue' : ''}`} data-notice-id={notice.id}>
      <div class="step-head">
        <strong>{name}</strong>
        <ZoneBadge zone={notice.zone} />
        {notice.overdue ? <span class="pill pill-overdue">{t('step.overdue')}</span> : null}
      </div>
      <p>
        {why} {t('result.due')}: {i18n.date(notice.dueOn)}.
      </p>
      {error ? <Notice kind="error">{error}</Notice> : null}
      {saved ? (
        <p class="pill pill-done">
          {t(saved === 'informed' ? 'parents.saved' : 'parents.withheldSaved')}
        </p>
      ) : risk && !leader ? (
        <Notice kind="info">{t('parents.risk')}</Notice>
      ) : (
        <>
          {risk ? <Notice kind="info">{t('parents.riskLeader')}</Notice> : null}
          {recording || withholding ? null : (
            <div class="actions">
              <button type="button" onClick={() => setRecording(true)}>
                {t('parents.recordButton')}
              </button>
              {risk ? (
                <button type="button" class="secondary" onClick={() => setWithholding(true)}>
                  {t('parents.withhold')}
                </button>
              ) : (
                <>
                  <button type="button" class="secondary" onClick={() => void letter()}>
                    {t('parents.letter')}
                  </button>
                  {link ? null : (
                    <button type="button" class="secondary" onClick={() => void makeLink()}>
                      {t('parents.linkButton')}
                    </button>
                  )}
                </>
              )}
            </div>
          )}
          {link ? (
            <div class="inline-form">
              <label for={id('link')}>{t('parents.linkLabel')}</label>
              <input id={id('link')} readOnly value={link.url} class="link-field" />
              <p class="hint">
                {t('parents.linkHint', { date: i18n.date(link.expiresAt.slice(0, 10)) })}
              </p>
              <div class="actions">
                <button
                  type="button"
                  onClick={async () => {
                    await navigator.clipboard?.writeText(link.url).catch(() => undefined);
                    setCopied(true);
                  }}
                >
                  {t(copied ? 'parents.copied' : 'parents.copy')}
                </button>
              </div>
            </div>
          ) : null}
          {withholding ? (
            <form
              class="inline-form"
              aria-label={t('parents.withhold')}
              onSubmit={async (event) => {
                event.preventDefault();
                setError(undefined);
                try {
                  unwrap(
                    await api.POST('/v1/parent-notices/{noticeId}/not-informed', {
                      params: { path: { noticeId: notice.id } },
                      body: { reason: reason.trim() },
                    }),
                  );
                  setSaved('withheld');
                } catch (e) {
                  setError(problemText(e));
                }
              }}
            >
              <label for={id('reason')}>{t('parents.withholdReason')}</label>
              <textarea
                id={id('reason')}
                required
                maxLength={2000}
                value={reason}
                onInput={(e) => setReason(e.currentTarget.value)}
              />
              <div class="actions">
                <button type="submit">{t('parents.withholdConfirm')}</button>
                <button type="button" class="secondary" onClick={() => setWithholding(false)}>
                  {t('step.cancel')}
                </button>
              </div>
            </form>
          ) : null}
          {recording ? (
            <form
              class="inline-form"
              aria-label={t('parents.record', { name })}
              onSubmit={async (event) => {
                event.preventDefault();
                setError(undefined);
                try {
                  unwrap(
                    await api.POST('/v1/parent-notices/{noticeId}/informed', {
                      params: { path: { noticeId: notice.id } },
                      body: {
                        informedOn,
                        method,
                        informedBy: { name: by.trim(), role: role.trim() },
                      },
                    }),
                  );
                  setSaved('informed');
                } catch (e) {
                  setError(problemText(e));
                }
              }}
            >
              <div class="field">
                <label for={id('on')}>{t('parents.on')}</label>
                <input
                  id={id('on')}
                  type="date"
                  required
                  max={todayInCopenhagen()}
                  value={informedOn}
                  onInput={(e) => setInformedOn(e.currentTarget.value)}
                />
              </div>
              <div class="field">
                <label for={id('method')}>{t('parents.method')}</label>
                <select
                  id={id('method')}
                  value={method}
                  onChange={(e) => setMethod(e.currentTarget.value as Method)}
                >
                  {METHODS.map((m) => (
                    <option key={m} value={m}>
                      {t(`parents.method.${m}` as MessageKey)}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field">
                <label for={id('by')}>{t('parents.by')}</label>
                <input
                  id={id('by')}
                  required
                  maxLength={200}
                  value={by}
                  onInput={(e) => setBy(e.currentTarget.value)}
                />
              </div>
              <div class="field">
                <label for={id('role')}>{t('parents.role')}</label>
                <input
                  id={id('role')}
                  required
                  maxLength={100}
                  value={role}
                  onInput={(e) => setRole(e.currentTarget.value)}
                />
              </div>
              <div class="actions">
                <button type="submit">{t('parents.save')}</button>
                <button type="button" class="secondary" onClick={() => setRecording(false)}>
                  {t('step.cancel')}
                </button>
              </div>
            </form>
          ) : null}
        </>
      )}
    </li>
  );
}
