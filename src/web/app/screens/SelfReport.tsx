import { useState } from 'preact/hooks';
import { todayInCopenhagen } from '../../shared/i18n.js';
import { type Schemas, unwrap } from '../api.js';
import { ErrorNotice, Loading, Notice, problemText, ZoneBadge } from '../components.js';
import { useApp } from '../context.js';
import type { MessageKey } from '../messages.js';
import { useLoad } from '../use-load.js';

type Purpose = Schemas['SelfReportPurpose'];
const PURPOSES: Purpose[] = ['dialogue', 'support', 'statistics_only'];

/** Whole years from `birthDate` to `on` (both YYYY-MM-DD). */
export function ageOn(birthDate: string, on: string): number {
  const years = Number(on.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return on.slice(5) < birthDate.slice(5) ? years - 1 : years;
}

/**
 * The child's own voice (issue 18): a child of 10–16 answers a few questions on five faces, with
 * an adult present, after being told what the answers are for (the purpose decides, for good,
 * who sees them). Shown to the child on the adult's device; needs a connection.
 */
export function SelfReportPanel({
  childId,
  unitId,
  birthDate,
}: {
  childId: string;
  unitId: string;
  birthDate: string;
}) {
  const { api, i18n } = useApp();
  const t = i18n.t;
  const lang = i18n.lang;
  const rulers = useLoad(
    'self-report-rulers',
    async () => unwrap(await api.GET('/v1/self-report-rulers', {})),
    [],
  );
  const [open, setOpen] = useState(false);
  const [purpose, setPurpose] = useState<Purpose>('dialogue');
  const [answers, setAnswers] = useState<Record<string, number | 'na'>>({});
  const [shared, setShared] = useState(false);
  const [adult, setAdult] = useState('');
  const [adultRole, setAdultRole] = useState('');
  const [saved, setSaved] = useState<Schemas['SelfReport'] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const age = ageOn(birthDate, todayInCopenhagen());
  if (rulers.status === 'loading') return <Loading />;
  if (rulers.status === 'error') return <ErrorNotice error={rulers.error} />;
  const ruler = rulers.data.items[0];
  if (!ruler || age < ruler.minAge || age > ruler.maxAge) return null;
  const statement = rulers.data.purposes.find((p) => p.purpose === purpose)?.statement;

  return (
    <section class="panel" aria-labelledby="self-h">
      <h2 id="self-h">{t('self.title')}</h2>
      <p class="hint">{t('self.intro')}</p>
      {saved ? (
        <Notice kind="success">
          {t('self.saved')}{' '}
          {saved.view === 'full' && saved.zone ? <ZoneBadge zone={saved.zone} /> : null}
        </Notice>
      ) : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      {!open ? (
        <button type="button" onClick={() => setOpen(true)}>
          {t('self.start')}
        </button>
      ) : (
        <form
          class="self-report"
          onSubmit={async (event) => {
            event.preventDefault();
            setError(undefined);
            try {
              const report = unwrap(
                await api.POST('/v1/self-reports', {
                  params: { header: { 'idempotency-key': crypto.randomUUID() } },
                  body: {
                    childId,
                    unitId,
                    reportedOn: todayInCopenhagen(),
                    purpose,
                    answers,
                    presentAdult: { name: adult.trim(), role: adultRole.trim() },
                    sharedWithParents: purpose !== 'statistics_only' && shared,
                  },
                }),
              );
              setSaved(report);
              setOpen(false);
              setAnswers({});
            } catch (e) {
              setError(problemText(e));
            }
          }}
        >
          <div class="field">
            <label for="self-purpose">{t('self.purpose')}</label>
            <select
              id="self-purpose"
              value={purpose}
              onChange={(e) => setPurpose(e.currentTarget.value as Purpose)}
            >
              {PURPOSES.map((p) => (
                <option key={p} value={p}>
                  {t(`self.purpose.${p}` as MessageKey)}
                </option>
              ))}
            </select>
          </div>
          {statement ? (
            <p class="say" id="self-statement">
              <strong>{t('self.say')}</strong> {statement[lang]}
            </p>
          ) : null}
          {ruler.questions.map((q) => (
            <fieldset class="field faces" key={q.key}>
              <legend>{q.label[lang]}</legend>
              {ruler.scale.map((s) => (
                <label key={s.value} class="face">
                  <input
                    type="radio"
                    name={`self-${q.key}`}
                    value={String(s.value)}
                    checked={answers[q.key] === s.value}
                    onChange={() => setAnswers((a) => ({ ...a, [q.key]: s.value }))}
                  />
                  <span aria-hidden="true">{s.emoji}</span>
                  <span class="face-label">{s.label[lang]}</span>
                </label>
              ))}
              {q.allowSkip ? (
                <label class="face">
                  <input
                    type="radio"
                    name={`self-${q.key}`}
                    value="na"
                    checked={answers[q.key] === 'na'}
                    onChange={() => setAnswers((a) => ({ ...a, [q.key]: 'na' }))}
                  />
                  <span class="face-label">{t('self.skip')}</span>
                </label>
              ) : null}
            </fieldset>
          ))}
          {purpose === 'statistics_only' ? null : (
            <label class="check">
              <input
                type="checkbox"
                checked={shared}
                onChange={(e) => setShared(e.currentTarget.checked)}
              />
              <span>{t('self.shared')}</span>
            </label>
          )}
          <div class="field">
            <label for="self-adult">{t('self.adult')}</label>
            <input
              id="self-adult"
              required
              maxLength={200}
              value={adult}
              onInput={(e) => setAdult(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="self-role">{t('self.adultRole')}</label>
            <input
              id="self-role"
              required
              maxLength={100}
              value={adultRole}
              onInput={(e) => setAdultRole(e.currentTarget.value)}
            />
          </div>
          <div class="actions">
            <button type="submit">{t('self.save')}</button>
            <button type="button" class="secondary" onClick={() => setOpen(false)}>
              {t('step.cancel')}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

/** The child's own report beside the professionals' assessment, as far as its purpose allows. */
export function SelfReportBeside({ link }: { link: Schemas['SelfReportLink'] }) {
  const { i18n } = useApp();
  const t = i18n.t;
  return (
    <p class="self-beside">
      {t('self.beside', { date: i18n.date(link.reportedOn) })}{' '}
      {link.view === 'full' && link.zone ? (
        <ZoneBadge zone={link.zone} />
      ) : (
        <span class="muted">{t('self.besideHidden')}</span>
      )}
    </p>
  );
}
