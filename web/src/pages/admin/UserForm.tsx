// One user's every field, as the seed's user page has them (name, email, fax number,
// phone, permission level, send/receive, fax-to-email with its address and attachment,
// cover page, language, company, disabled), for a new user or an existing one. Only
// the fields that changed are sent on an edit (PATCH), so a field the administrator did
// not touch keeps what another administrator may have set meanwhile.
import { useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { admin, type AdminUser } from '../../api/admin';
import { draftOf, fieldsOf, type Draft } from '../../lib/user_draft';
import { useApp } from '../../app_context';

export function UserForm(props: { user: AdminUser | null; onDone: (u: AdminUser | null) => void }) {
  const { t } = useApp();
  const before = props.user ? draftOf(props.user) : null;
  const [d, setD] = useState<Draft>(draftOf(props.user));
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const set = (p: Partial<Draft>) => setD({ ...d, ...p });
  const id = (f: string) => `user-${f}`;
  const text = (f: keyof Draft, label: string, type = 'text', extra: Record<string, unknown> = {}) => (
    <>
      <label for={id(f)}>{label}</label>
      <input id={id(f)} type={type} value={d[f] as string} {...extra}
        onInput={(e) => set({ [f]: e.currentTarget.value } as Partial<Draft>)} />
    </>
  );
  const check = (f: keyof Draft, label: string) => (
    <div class="check">
      <input id={id(f)} type="checkbox" checked={d[f] as boolean}
        onChange={(e) => set({ [f]: e.currentTarget.checked } as Partial<Draft>)} />
      <label for={id(f)}>{label}</label>
    </div>
  );
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const f = fieldsOf(d, before);
      props.onDone(props.user ? await admin.updateUser(props.user.id, f) : await admin.createUser(f));
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card user-form" onSubmit={save} aria-labelledby="user-form-title">
      <h2 id="user-form-title">{props.user ? t('users.edit_title', { name: props.user.username }) : t('users.add_title')}</h2>
      <div class="row">
        <div class="col">{text('username', t('users.username'), 'text', { required: true, pattern: '[A-Za-z0-9._@+\\-]{1,64}', autocomplete: 'off' })}</div>
        <div class="col">{text('password', props.user ? t('users.new_password') : t('users.password'), 'password', { minLength: 10, autocomplete: 'new-password' })}</div>
        <div class="col">{text('name', t('users.name'), 'text', { maxLength: 200 })}</div>
        <div class="col">{text('email', t('users.email'), 'email', { maxLength: 254 })}</div>
        <div class="col">{text('fax_number', t('users.fax_number'), 'tel', { maxLength: 40 })}</div>
        <div class="col">{text('phone', t('users.phone'), 'tel', { maxLength: 40 })}</div>
        <div class="col">{text('company', t('users.company'), 'text', { maxLength: 200 })}</div>
        <div class="col">{text('cover_page', t('users.cover_page'), 'text', { maxLength: 64, pattern: '[A-Za-z0-9._\\-]*' })}</div>
        <div class="col">
          <label for={id('level')}>{t('users.level')}</label>
          <select id={id('level')} value={d.level} onChange={(e) => set({ level: e.currentTarget.value as Draft['level'] })}>
            <option value="">{t('users.level_default')}</option>
            <option value="0">{t('level.0')}</option>
            <option value="2">{t('level.2')}</option>
            <option value="10">{t('level.10')}</option>
          </select>
        </div>
        <div class="col">
          <label for={id('language')}>{t('prefs.language')}</label>
          <select id={id('language')} value={d.language} onChange={(e) => set({ language: e.currentTarget.value })}>
            <option value="en" lang="en">English</option>
            <option value="it" lang="it">Italiano</option>
          </select>
        </div>
      </div>
      {check('enable_send', t('users.enable_send'))}
      {check('enable_receive', t('users.enable_receive'))}
      {check('fax_to_email', t('prefs.fax_to_email'))}
      {text('fax_to_email_address', t('prefs.address'), 'email', { maxLength: 254, disabled: !d.fax_to_email })}
      {check('fax_to_email_attach', t('prefs.attach'))}
      {check('disabled', t('users.disabled'))}
      <p role="alert" class="error">{error}</p>
      <div class="buttons">
        <button type="submit" disabled={busy}>{t('users.save')}</button>
        <button type="button" class="secondary" onClick={() => props.onDone(null)}>{t('users.cancel')}</button>
      </div>
    </form>
  );
}
