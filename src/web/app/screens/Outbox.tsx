import { Notice } from '../components.js';
import { useApp } from '../context.js';
import type { MessageKey } from '../messages.js';
import { discard, flush } from '../outbox.js';
import { useOutbox } from '../use-outbox.js';

/** What waits to be sent, and what lineal refused (kept until the user has seen it). */
export function Outbox() {
  const { i18n } = useApp();
  const t = i18n.t;
  const items = useOutbox();
  return (
    <main id="main">
      <h1>{t('outbox.title')}</h1>
      <p class="hint">{t('outbox.intro')}</p>
      {items.length === 0 ? <Notice kind="success">{t('outbox.empty')}</Notice> : null}
      {items.some((i) => i.state === 'waiting') ? (
        <button type="button" onClick={() => void flush()}>
          {t('outbox.sendNow')}
        </button>
      ) : null}
      <ul class="plain outbox">
        {items.map((item) => (
          <li key={item.id} class={`panel outbox-${item.state}`}>
            <div class="step-head">
              <strong>{t(`outbox.kind.${item.kind}` as MessageKey, { label: item.label })}</strong>
              <span class={`pill pill-${item.state}`}>
                {t(`outbox.state.${item.state}` as MessageKey)}
              </span>
            </div>
            <p class="muted small">
              {t('outbox.created', { time: i18n.dateTime(item.createdAt) })}
            </p>
            {item.problem ? <Notice kind="error">{item.problem.detail}</Notice> : null}
            {item.state !== 'waiting' ? (
              <button type="button" class="secondary" onClick={() => void discard(item.id)}>
                {t('outbox.discard')}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </main>
  );
}
