import { useState } from 'preact/hooks';
import { LANGS, type Lang, type Translator } from '../../shared/i18n.js';
import { apiClient, isUnreachable, LinealProblemError, unwrap } from '../api.js';
import type { MessageKey } from '../messages.js';
import type { SignInConfig } from '../oidc.js';
import type { SignedIn } from '../session.js';

/** Sign-in: the municipality's identity provider (when configured), or a pasted API key. */
export function SignIn({
  i18n,
  config,
  initialError,
  onSignedIn,
  onOidc,
  onLang,
}: {
  i18n: Translator<MessageKey>;
  config: SignInConfig | undefined;
  initialError?: string | undefined;
  onSignedIn(session: SignedIn): void;
  onOidc(): void;
  onLang(lang: Lang): void;
}) {
  const t = i18n.t;
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | undefined>(initialError);
  const [busy, setBusy] = useState(false);

  async function submitKey(event: Event) {
    event.preventDefault();
    const token = key.trim();
    if (!token) return;
    setBusy(true);
    setError(undefined);
    try {
      unwrap(await apiClient(token).GET('/v1/me'));
      onSignedIn({ kind: 'api_key', token });
    } catch (e) {
      if (e instanceof LinealProblemError && !isUnreachable(e)) {
        setError(t('signIn.invalid', { detail: e.problem.detail }));
      } else {
        setError(t('signIn.offline'));
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="sign-in">
      <div class="sign-in-top">
        <span class="brand">lineal</span>
        <label class="visually-hidden" for="lang">
          {t('nav.language')}
        </label>
        <select id="lang" value={i18n.lang} onChange={(e) => onLang(e.currentTarget.value as Lang)}>
          {LANGS.map((l) => (
            <option key={l} value={l}>
              {t(`lang.${l}` as MessageKey)}
            </option>
          ))}
        </select>
      </div>
      <h1>{t('signIn.title')}</h1>
      <p>{t('signIn.intro')}</p>
      {error ? (
        <div class="notice notice-error" role="alert">
          {error}
        </div>
      ) : null}
      {config?.oidc ? (
        <>
          <button type="button" class="primary wide" onClick={onOidc}>
            {t('signIn.oidc')}
          </button>
          <p class="or">{t('signIn.or')}</p>
        </>
      ) : null}
      <form onSubmit={submitKey} autocomplete="off">
        <label for="api-key">{t('signIn.apiKey')}</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          spellcheck={false}
          required
          aria-describedby="api-key-hint"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
        />
        <p id="api-key-hint" class="hint">
          {t('signIn.apiKeyHint')}
        </p>
        <button type="submit" disabled={busy}>
          {busy ? t('signIn.working') : t('signIn.submit')}
        </button>
      </form>
    </main>
  );
}
