// The user's own preferences (GET/PATCH /me/preferences), as the seed's User
// Preferences: fax-to-email on or off, the address it goes to, whether the fax is
// attached; and the language, which changes these pages at once (and the user's mails
// and localized cover pages on the server). The attachment's format is the server's
// (set by the administrator), so it is said, not offered.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, type Preferences } from '../api/client';
import { useApp } from '../app_context';
import { useTitle } from '../components/useTitle';
import { pickLanguage } from '../lib/i18n';

export function PreferencesPage() {
  const { t, setLanguage } = useApp();
  useTitle(t('prefs.title'));
  const [prefs, setPrefs] = useState<Preferences | null>(null);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.preferences().then(setPrefs, (err) => setError(err instanceof ApiError ? err.detail : String(err)));
  }, []);
  if (!prefs) return <section><h1>{t('prefs.title')}</h1><p role="alert" class="error">{error}</p></section>;

  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setSaved(false);
    try {
      const next = await api.updatePreferences({
        fax_to_email: prefs.fax_to_email,
        fax_to_email_address: prefs.fax_to_email_address,
        attach_fax: prefs.attach_fax,
        language: prefs.language,
      });
      setPrefs(next);
      setLanguage(pickLanguage(next.language));
      setSaved(true); // said in the new language when it changed
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : String(err));
    } finally {
      setBusy(false);
    }
  };
  const set = (p: Partial<Preferences>) => setPrefs({ ...prefs, ...p });
  return (
    <section>
      <h1>{t('prefs.title')}</h1>
      <form class="card" onSubmit={save}>
        <div class="check">
          <input id="fax-to-email" type="checkbox" checked={prefs.fax_to_email}
            onChange={(e) => set({ fax_to_email: e.currentTarget.checked })} />
          <label for="fax-to-email">{t('prefs.fax_to_email')}</label>
        </div>
        <label for="fax-to-email-address">{t('prefs.address')}</label>
        <input id="fax-to-email-address" type="email" autocomplete="email" maxLength={254}
          value={prefs.fax_to_email_address} disabled={!prefs.fax_to_email} aria-describedby="address-help"
          onInput={(e) => set({ fax_to_email_address: e.currentTarget.value })} />
        <p id="address-help" class="hint">{t('prefs.address_help', { address: prefs.fax_to_email_delivers_to })}</p>
        <div class="check">
          <input id="attach-fax" type="checkbox" checked={prefs.attach_fax} disabled={!prefs.fax_to_email}
            aria-describedby="attach-help" onChange={(e) => set({ attach_fax: e.currentTarget.checked })} />
          <label for="attach-fax">{t('prefs.attach')}</label>
        </div>
        <p id="attach-help" class="hint">{t('prefs.attach_help')}</p>
        <label for="language">{t('prefs.language')}</label>
        <select id="language" value={pickLanguage(prefs.language)} onChange={(e) => set({ language: e.currentTarget.value })}>
          <option value="en" lang="en">English</option>
          <option value="it" lang="it">Italiano</option>
        </select>
        <p role="alert" class="error">{error}</p>
        <p role="status" class="done">{saved ? t('prefs.saved') : ''}</p>
        <button type="submit" disabled={busy}>{t('prefs.save')}</button>
      </form>
    </section>
  );
}
