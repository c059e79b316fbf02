import { useEffect, useMemo, useState } from 'preact/hooks';
import { createTranslator, LANGS, type Lang } from '../shared/i18n.js';
import { apiClient, LinealProblemError, load, type Schemas, SESSION_ENDED, unwrap } from './api.js';
import { ErrorNotice, Loading } from './components.js';
import { AppContext, type AppContextValue, I18nContext, useApp } from './context.js';
import { catalogues, type MessageKey } from './messages.js';
import {
  completeOidcSignIn,
  endSessionUrl,
  fetchSignInConfig,
  type SignInConfig,
  startOidcSignIn,
} from './oidc.js';
import { configureOutbox, refresh } from './outbox.js';
import { href, useRoute } from './router.js';
import { Assess } from './screens/Assess.js';
import { ChildPage } from './screens/Child.js';
import { Home } from './screens/Home.js';
import { Outbox } from './screens/Outbox.js';
import { Roster } from './screens/Roster.js';
import { SignIn } from './screens/SignIn.js';
import { Worklist } from './screens/Worklist.js';
import { forgetSession, loadSession, type SignedIn, saveSession, signOut } from './session.js';
import { cacheClear, cachePut } from './storage.js';
import { useOutbox } from './use-outbox.js';

function initialLang(): Lang {
  const saved = localStorage.getItem('lineal.lang');
  return LANGS.includes(saved as Lang) ? (saved as Lang) : 'da';
}

let currentToken: string | undefined;
let currentOwner: string | undefined;
/** Who last signed in on this device (kept over an expired sign-in, removed by sign-out). */
const OWNER_KEY = 'lineal.owner';

export function App() {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const i18n = useMemo(() => createTranslator<MessageKey>(lang, catalogues), [lang]);
  const [session, setSession] = useState<SignedIn | undefined>(loadSession);
  const [config, setConfig] = useState<SignInConfig | undefined>();
  const [signInError, setSignInError] = useState<string | undefined>();
  const [me, setMe] = useState<
    | { status: 'loading' }
    | { status: 'ready'; me: Schemas['Me'] }
    | { status: 'error'; error: unknown }
  >({ status: 'loading' });
  const [revision, setRevision] = useState(0);
  currentToken = session?.token;

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = i18n.t('app.title');
  }, [lang, i18n]);

  useEffect(() => {
    configureOutbox({
      token: () => currentToken,
      owner: () => currentOwner,
      onSent: () => setRevision((n) => n + 1),
    });
    fetchSignInConfig().then(setConfig, () => setConfig(undefined));
    // Back from the identity provider: exchange the code for tokens.
    completeOidcSignIn().then(
      (signedIn) => {
        if (signedIn) {
          saveSession(signedIn);
          setSession(signedIn);
        }
      },
      (error: unknown) =>
        setSignInError(
          i18n.t('signIn.oidcFailed', {
            detail: error instanceof Error ? error.message : String(error),
          }),
        ),
    );
  }, []);

  const api = useMemo(() => (session ? apiClient(session.token) : undefined), [session]);

  // Any screen that gets a 401 (the sign-in expired, the key was revoked): back to sign-in.
  // The outbox stays, so signing in again sends what waits.
  useEffect(() => {
    const ended = (event: Event) => {
      forgetSession();
      setSession(undefined);
      setSignInError(
        i18n.t('signIn.ended', { detail: String((event as CustomEvent).detail ?? '') }),
      );
    };
    window.addEventListener(SESSION_ENDED, ended);
    return () => window.removeEventListener(SESSION_ENDED, ended);
  }, [i18n]);

  useEffect(() => {
    if (!api) return;
    setMe({ status: 'loading' });
    load('me', async () => unwrap(await api.GET('/v1/me'))).then(
      async (loaded) => {
        const id = `${loaded.data.principal.kind}:${loaded.data.principal.id}`;
        // Another user than the last one on this device: forget the stored answers (rosters
        // and children of units this user may not see); their outbox waits for them.
        if (localStorage.getItem(OWNER_KEY) !== id) {
          await cacheClear();
          await cachePut('me', loaded.data);
        }
        localStorage.setItem(OWNER_KEY, id);
        currentOwner = id;
        setMe({ status: 'ready', me: loaded.data });
        await refresh();
      },
      (error: unknown) => {
        // A 401 ended the session: `load` said so (SESSION_ENDED), handled above.
        if (error instanceof LinealProblemError && error.status === 401) return;
        setMe({ status: 'error', error });
      },
    );
  }, [api]);

  const setLang = (next: Lang) => {
    localStorage.setItem('lineal.lang', next);
    document.documentElement.lang = next;
    setLangState(next);
  };

  return <I18nContext.Provider value={i18n}>{body()}</I18nContext.Provider>;

  function body() {
    if (!session || !api) {
      return (
        <SignIn
          i18n={i18n}
          config={config}
          initialError={signInError}
          onSignedIn={(signedIn) => {
            saveSession(signedIn);
            setSignInError(undefined);
            setSession(signedIn);
          }}
          onOidc={() => {
            if (!config?.oidc) return;
            startOidcSignIn(config.oidc).catch((error: unknown) =>
              setSignInError(
                i18n.t('signIn.oidcFailed', {
                  detail: error instanceof Error ? error.message : String(error),
                }),
              ),
            );
          }}
          onLang={setLang}
        />
      );
    }
    if (me.status === 'loading') return <Loading />;
    if (me.status === 'error') {
      return (
        <main id="main">
          <h1>{i18n.t('app.title')}</h1>
          <ErrorNotice error={me.error} />
        </main>
      );
    }
    const context: AppContextValue = { api, me: me.me, i18n, setLang, revision };
    return (
      <AppContext.Provider value={context}>
        <Shell
          onSignOut={async () => {
            // Where the identity provider ends its session, asked before the id token is gone.
            const leave =
              session.kind === 'oidc' && config?.oidc
                ? await endSessionUrl(config.oidc, session.idToken).catch(() => undefined)
                : undefined;
            await signOut();
            setSession(undefined);
            setMe({ status: 'loading' });
            if (leave) location.assign(leave);
          }}
        />
      </AppContext.Provider>
    );
  }
}

function Shell({ onSignOut }: { onSignOut(): Promise<void> }) {
  const { i18n, setLang } = useApp();
  const t = i18n.t;
  const route = useRoute();
  const outbox = useOutbox();
  const online = useOnline();
  const waiting = outbox.filter((i) => i.state === 'waiting').length;
  const conflicts = outbox.length - waiting;

  useEffect(() => {
    // Move focus to the new screen's heading, so keyboard and screen-reader users follow.
    const heading = document.querySelector<HTMLElement>('main h1');
    heading?.setAttribute('tabindex', '-1');
    heading?.focus();
  }, [route]);

  return (
    <>
      <a class="skip" href="#main">
        {t('app.skip')}
      </a>
      <header class="top">
        <a class="brand" href={href({ name: 'home' })}>
          lineal
        </a>
        <nav aria-label={t('nav.main')}>
          <a
            class="nav-link"
            href={href({ name: 'home' })}
            aria-current={route.name === 'home' ? 'page' : undefined}
          >
            {t('nav.home')}
          </a>
          <a
            class="nav-link"
            href={href({ name: 'worklist' })}
            aria-current={route.name === 'worklist' ? 'page' : undefined}
          >
            {t('nav.worklist')}
          </a>
          <a
            class="nav-link"
            href={href({ name: 'outbox' })}
            aria-current={route.name === 'outbox' ? 'page' : undefined}
          >
            {t('nav.outbox')}
            {outbox.length > 0 ? <span class="count">{outbox.length}</span> : null}
          </a>
        </nav>
        <div class="top-tools">
          <label class="visually-hidden" for="lang">
            {t('nav.language')}
          </label>
          <select
            id="lang"
            value={i18n.lang}
            onChange={(e) => setLang(e.currentTarget.value as Lang)}
          >
            {LANGS.map((l) => (
              <option key={l} value={l}>
                {t(`lang.${l}` as MessageKey)}
              </option>
            ))}
          </select>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              if (waiting > 0 && !confirm(t('signOut.confirmPending', { count: waiting }))) return;
              void onSignOut();
            }}
          >
            {t('nav.signOut')}
          </button>
        </div>
      </header>
      <div class="status-bar" role="status" aria-live="polite">
        {!online ? <span class="pill pill-offline">{t('status.offlineNoTime')}</span> : null}
        {waiting > 0 ? (
          <a class="pill pill-queued" href={href({ name: 'outbox' })}>
            {waiting === 1 ? t('status.waitingOne') : t('status.waiting', { count: waiting })}
          </a>
        ) : null}
        {conflicts > 0 ? (
          <a class="pill pill-conflict" href={href({ name: 'outbox' })}>
            {t('status.conflicts', { count: conflicts })}
          </a>
        ) : null}
      </div>
      <Screen />
    </>
  );
}

function Screen() {
  const route = useRoute();
  switch (route.name) {
    case 'roster':
      return (
        <Roster
          key={`${route.roundId}:${route.unitId}`}
          roundId={route.roundId}
          unitId={route.unitId}
        />
      );
    case 'assess':
      return <Assess key={route.childId} {...route} />;
    case 'child':
      return <ChildPage key={route.childId} {...route} />;
    case 'worklist':
      return <Worklist />;
    case 'outbox':
      return <Outbox />;
    default:
      return <Home />;
  }
}

function useOnline(): boolean {
  const [online, setOnline] = useState(navigator.onLine);
  useEffect(() => {
    const on = () => setOnline(true);
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, []);
  return online;
}
