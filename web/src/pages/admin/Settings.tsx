// Administration: the settings, one page per seed settings page (lib/settings.ts
// groups the catalog's keys), each field drawn from its catalog entry (a checkbox, a
// number with its bounds, a drop-down of choices, text with its length, a password
// field for a secret, which is never shown). Save sends the changed keys in one PATCH
// (all or nothing; the server's reasons are shown by key). The outgoing faxes mailbox
// and the SMTP server have the seed's Test button: it tries the values on the form
// for real and saves them only when they work.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, request } from '../../api/client';
import { useApp } from '../../app_context';
import { useTitle } from '../../components/useTitle';
import type { StringKey } from '../../lib/i18n';
import { changesOf, groupOf, kSettingGroups, textOf, type Setting, type SettingGroup, type SettingValue } from '../../lib/settings';

type List = { settings: Setting[]; version: number };
const kTests: Partial<Record<SettingGroup, string>> = {
  mailbox: '/api/v1/admin/settings/mailbox/test',
  incoming: '/api/v1/admin/settings/smtp/test',
};
const fieldId = (key: string) => 'setting-' + key.replace(/[^a-z0-9]/g, '-');

function Field(props: { s: Setting; text: string | boolean; error?: string; onChange: (v: string | boolean) => void }) {
  const { t } = useApp();
  const { s } = props;
  const id = fieldId(s.key);
  const help = `${id}-help`;
  const c = s.constraints ?? {};
  const described = { 'aria-describedby': help, 'aria-invalid': props.error ? 'true' : undefined } as const;
  let input;
  if (s.type === 'boolean') {
    return (
      <div class="setting" data-key={s.key}>
        <div class="check">
          <input id={id} type="checkbox" checked={Boolean(props.text)} {...described}
            onChange={(e) => props.onChange(e.currentTarget.checked)} />
          <label for={id}>{s.key}</label>
        </div>
        <p id={help} class="hint">{s.description}</p>
      </div>
    );
  } else if (s.type === 'choice') {
    input = (
      <select id={id} value={String(props.text)} {...described} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {(c.choices ?? []).map((v) => <option key={v} value={v}>{v}</option>)}
      </select>
    );
  } else {
    input = (
      <input id={id} type={s.secret ? 'password' : s.type === 'integer' ? 'number' : s.type === 'email' ? 'email' : 'text'}
        value={String(props.text)} min={c.minimum} max={c.maximum} maxLength={c.max_length} autocomplete={s.secret ? 'new-password' : 'off'}
        placeholder={s.secret ? (s.set ? t('settings.secret_set') : t('settings.secret_unset')) : undefined}
        {...described} onInput={(e) => props.onChange(e.currentTarget.value)} />
    );
  }
  return (
    <div class="setting" data-key={s.key}>
      <label for={id}>{s.key}</label>
      {input}
      <p id={help} class="hint">
        {s.description}
        {!s.secret && s.default !== null && ` ${t('settings.default', { value: String(s.default) })}`}
      </p>
      {props.error && <p class="error">{props.error}</p>}
    </div>
  );
}

export function SettingsPage(props: { group: string }) {
  const { t } = useApp();
  const group = (kSettingGroups as readonly string[]).includes(props.group) ? (props.group as SettingGroup) : 'mailbox';
  useTitle(t(`settings.${group}` as StringKey));
  const [list, setList] = useState<List | null>(null);
  const [edits, setEdits] = useState<Record<string, string | boolean>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const load = () => request<List>('GET', '/api/v1/admin/settings').then(setList, (e) => setError(String(e)));
  useEffect(() => void load(), []);
  useEffect(() => {
    setEdits({});
    setErrors({});
    setStatus('');
    setError('');
  }, [group]);

  const shown = (list?.settings ?? []).filter((s) => groupOf(s.key) === group);
  const submit = async (test: boolean) => {
    setError('');
    setStatus('');
    const { values, errors: bad } = changesOf(shown, edits);
    setErrors(bad);
    if (Object.keys(bad).length > 0) {
      setError(t('settings.invalid'));
      return;
    }
    if (!test && Object.keys(values).length === 0) {
      setStatus(t('settings.nothing'));
      return;
    }
    setBusy(true);
    try {
      if (test) {
        const r = await request<{ server: string }>('POST', kTests[group]!, values);
        setStatus(t('settings.test_ok', { server: r.server }));
      } else {
        await request<List>('PATCH', '/api/v1/admin/settings', values as Record<string, SettingValue>);
        setStatus(t('settings.saved'));
      }
      setEdits({});
      await load();
    } catch (e) {
      if (e instanceof ApiError) {
        // The 422 names every refused key: a JSON pointer per field ("/fax.max_attempts").
        const byKey: Record<string, string> = {};
        for (const it of e.problem?.errors ?? []) {
          byKey[it.field.replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~')] = it.detail;
        }
        setErrors(byKey);
        setError(e.detail);
      } else setError(String(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>{t('settings.title')}</h1>
      <nav aria-label={t('settings.pages')} class="tabs">
        <ul>
          {kSettingGroups.map((g) => (
            <li key={g}>
              <a href={`/admin/settings/${g}`} aria-current={g === group ? 'page' : undefined}>{t(`settings.${g}` as StringKey)}</a>
            </li>
          ))}
        </ul>
      </nav>
      {!list ? <p>{error || t('common.loading')}</p> : (
        <form class="card settings" noValidate onSubmit={(e) => { e.preventDefault(); void submit(false); }} aria-labelledby="settings-group-title">
          <h2 id="settings-group-title">{t(`settings.${group}` as StringKey)}</h2>
          {shown.map((s) => (
            <Field key={s.key} s={s} error={errors[s.key]}
              text={s.key in edits ? edits[s.key] : s.type === 'boolean' ? Boolean(s.value) : s.secret ? '' : textOf(s)}
              onChange={(v) => setEdits({ ...edits, [s.key]: v })} />
          ))}
          <p role="alert" class="error">{error}</p>
          <p role="status" class="done">{status}</p>
          <div class="buttons">
            <button type="submit" disabled={busy}>{t('settings.save')}</button>
            {kTests[group] && (
              <button type="button" class="secondary" disabled={busy} onClick={() => submit(true)}>
                {t(group === 'mailbox' ? 'settings.test_mailbox' : 'settings.test_smtp')}
              </button>
            )}
          </div>
        </form>
      )}
    </section>
  );
}
