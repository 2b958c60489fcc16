// The UI's entry: find out who is signed in (GET /me), pick their language (their
// preference, else the browser's), then render the shell and the page of the path.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, setCsrfToken, whenSignedOut, type Me } from './api/client';
import { AppContext } from './app_context';
import { pickLanguage, translator, type Language } from './lib/i18n';
import { interceptLinks, navigate, usePath } from './lib/router';
import { Shell } from './components/Shell';
import { SignIn } from './pages/SignIn';
import { Send } from './pages/Send';
import { Outbox } from './pages/Outbox';
import { Inbox } from './pages/Inbox';
import { PreferencesPage } from './pages/Preferences';
import { NoAccess, NotFound } from './pages/Messages';
import { lazy } from './components/Lazy';
import './styles.css';

type Session = { state: 'loading' } | { state: 'out' } | { state: 'in'; me: Me; lang: Language };

async function languageOf(me: Me): Promise<Language> {
  if (me.level < 2) return pickLanguage(null, navigator.languages);
  try {
    return pickLanguage((await api.preferences()).language, navigator.languages);
  } catch {
    return pickLanguage(null, navigator.languages);
  }
}

function App() {
  const [session, setSession] = useState<Session>({ state: 'loading' });
  const path = usePath();

  const signedIn = async (me: Me) => {
    setCsrfToken(me.csrf_token);
    setSession({ state: 'in', me, lang: await languageOf(me) });
  };
  useEffect(() => {
    whenSignedOut(() => setSession({ state: 'out' }));
    api.me().then(signedIn, () => setSession({ state: 'out' }));
  }, []);
  const lang = session.state === 'in' ? session.lang : pickLanguage(null, navigator.languages);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);

  if (session.state === 'loading') return null;
  if (session.state === 'out') {
    return (
      <SignIn
        t={translator(lang)}
        onSignedIn={async (me) => {
          await signedIn(me);
          if (path === '/sign-in') navigate('/', true);
        }}
      />
    );
  }
  const state = {
    me: session.me,
    lang: session.lang,
    t: translator(session.lang),
    setLanguage: (l: Language) => setSession({ ...session, lang: l }),
  };
  const signOut = async () => {
    try {
      await api.signOut();
    } finally {
      setCsrfToken('');
      setSession({ state: 'out' });
    }
  };
  return (
    <AppContext.Provider value={state}>
      <Shell path={path} onSignOut={signOut}>
        {page(path, session.me)}
      </Shell>
    </AppContext.Provider>
  );
}

const Admin = lazy(() => import('./pages/admin/index').then((m) => m.AdminPage));

function page(path: string, me: Me) {
  if (me.level < 2) return <NoAccess />;
  if (path === '/admin' || path.startsWith('/admin/')) return me.level >= 10 ? <Admin path={path} /> : <NotFound />;
  switch (path) {
    case '/':
    case '/sign-in':
    case '/send':
      return <Send />;
    case '/outbox':
      return <Outbox />;
    case '/inbox':
      return <Inbox />;
    case '/preferences':
      return <PreferencesPage />;
    default:
      return <NotFound />;
  }
}

interceptLinks();
render(<App />, document.getElementById('app')!);
