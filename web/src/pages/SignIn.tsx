// Sign in with username and password (POST /session sets the cookie and returns the
// CSRF token). A refusal shows the server's sentence (wrong password, disabled account,
// throttled with the wait), announced to screen readers.
import { useState } from 'preact/hooks';
import { api, ApiError, type Me } from '../api/client';
import type { Translate } from '../lib/i18n';
import { useTitle } from '../components/useTitle';

export function SignIn(props: { t: Translate; onSignedIn: (me: Me) => void }) {
  const { t } = props;
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  useTitle(t('signin.title'));

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const signed = await api.signIn(username, password);
      props.onSignedIn({ ...signed.user, auth: 'session', csrf_token: signed.csrf_token });
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : String(err));
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <h1>{t('app.name')}</h1>
      <form onSubmit={submit} class="card" aria-labelledby="signin-title">
        <h2 id="signin-title">{t('signin.title')}</h2>
        <label for="username">{t('signin.username')}</label>
        <input id="username" name="username" autocomplete="username" required value={username}
          onInput={(e) => setUsername(e.currentTarget.value)} />
        <label for="password">{t('signin.password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required
          value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <p role="alert" class="error">{error}</p>
        <button type="submit" disabled={busy}>{busy ? t('signin.busy') : t('signin.submit')}</button>
      </form>
    </main>
  );
}
