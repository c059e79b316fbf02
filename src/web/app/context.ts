import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { LinealClient } from '../../../clients/typescript/index.js';
import type { Lang, Translator } from '../shared/i18n.js';
import type { Schemas } from './api.js';
import type { MessageKey } from './messages.js';

export interface AppContextValue {
  api: LinealClient;
  me: Schemas['Me'];
  i18n: Translator<MessageKey>;
  setLang(lang: Lang): void;
  /** Bumped when the outbox sent something: screens reload their data. */
  revision: number;
}

export const AppContext = createContext<AppContextValue | null>(null);

/** The language, also before sign-in (the sign-in page, loading and error screens). */
export const I18nContext = createContext<Translator<MessageKey> | null>(null);

export function useI18n(): Translator<MessageKey> {
  const value = useContext(I18nContext);
  if (!value) throw new Error('useI18n outside the app');
  return value;
}

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside the signed-in app');
  return value;
}
