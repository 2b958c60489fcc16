// What every page needs: the signed-in user, their language and its strings.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me } from './api/client';
import { translator, type Language, type Translate } from './lib/i18n';

export interface AppState {
  me: Me;
  lang: Language;
  t: Translate;
  setLanguage: (l: Language) => void;
}

export const AppContext = createContext<AppState>({
  me: null as unknown as Me,
  lang: 'en',
  t: translator('en'),
  setLanguage: () => {},
});

export const useApp = () => useContext(AppContext);
