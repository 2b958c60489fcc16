// Administration: the users. The default permission level (the seed's "level 2 is the
// default"), a search, the list (a page at a time), a form to add or edit a user with
// every field, Disable/Enable on each row, and a bulk import from a CSV file (one POST
// per row, lib/csv.ts; each row's outcome is listed by its line).
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import { admin, type AdminUser, type Level } from '../../api/admin';
import { useApp } from '../../app_context';
import { useTitle } from '../../components/useTitle';
import { kCsvColumns, usersFromCsv } from '../../lib/csv';
import type { StringKey } from '../../lib/i18n';
import { UserForm } from './UserForm';

const message = (err: unknown) => (err instanceof ApiError ? err.detail : String(err instanceof Error ? err.message : err));

function DefaultLevel() {
  const { t } = useApp();
  const [level, setLevel] = useState<Level | null>(null);
  const [status, setStatus] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    admin.defaultLevel().then((d) => setLevel(d.level), (e) => setError(message(e)));
  }, []);
  const change = async (next: Level) => {
    setError('');
    setStatus('');
    try {
      setLevel((await admin.setDefaultLevel(next)).level);
      setStatus(t('users.default_saved'));
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <div class="card default-level">
      <label for="default-level">{t('users.default_level')}</label>
      <select id="default-level" value={level === null ? '' : String(level)} disabled={level === null}
        aria-describedby="default-level-help" onChange={(e) => change(Number(e.currentTarget.value) as Level)}>
        {([0, 2, 10] as const).map((l) => <option key={l} value={String(l)}>{t(`level.${l}` as StringKey)}</option>)}
      </select>
      <p id="default-level-help" class="hint">{t('users.default_level_help')}</p>
      <p role="alert" class="error">{error}</p>
      <p role="status" class="done">{status}</p>
    </div>
  );
}

function CsvImport(props: { onImported: () => void }) {
  const { t } = useApp();
  const [lines, setLines] = useState<{ line: number; ok: boolean; text: string }[]>([]);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const run = async (file: File) => {
    setError('');
    setLines([]);
    let rows;
    try {
      rows = usersFromCsv(await file.text());
    } catch (e) {
      setError(t('users.import_bad_file', { detail: message(e) }));
      return;
    }
    setBusy(true);
    const out: typeof lines = [];
    for (const r of rows) {
      if ('error' in r) out.push({ line: r.line, ok: false, text: r.error });
      else {
        try {
          const u = await admin.createUser(r.user);
          out.push({ line: r.line, ok: true, text: t('users.import_added', { name: u.username }) });
        } catch (e) {
          out.push({ line: r.line, ok: false, text: `${r.user.username}: ${message(e)}` });
        }
      }
      setLines([...out]);
    }
    setBusy(false);
    props.onImported();
  };
  const added = lines.filter((l) => l.ok).length;
  return (
    <div class="card csv-import">
      <h2 class="small">{t('users.import')}</h2>
      <label for="users-csv">{t('users.import_file')}</label>
      <input id="users-csv" type="file" accept=".csv,text/csv" disabled={busy} aria-describedby="users-csv-help"
        onChange={(e) => {
          const f = e.currentTarget.files?.[0];
          if (f) void run(f);
          e.currentTarget.value = '';
        }} />
      <p id="users-csv-help" class="hint">{t('users.import_help', { columns: kCsvColumns.join(', ') })}</p>
      <p role="alert" class="error">{error}</p>
      {lines.length > 0 && (
        <>
          <p role="status" class="import-summary">{t('users.import_summary', { added, failed: lines.length - added })}</p>
          <ul class="checks import-lines">
            {lines.map((l) => (
              <li key={l.line} class={l.ok ? 'ok' : 'error'} data-ok={String(l.ok)}>
                {t('users.import_line', { line: l.line })}: {l.text}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export function UsersPage() {
  const { t, me } = useApp();
  useTitle(t('users.title'));
  const [users, setUsers] = useState<AdminUser[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [q, setQ] = useState('');
  const [editing, setEditing] = useState<AdminUser | 'new' | null>(null);
  const [error, setError] = useState('');

  const load = async (search = q, cursor?: string) => {
    try {
      const page = await admin.users({ q: search, cursor, limit: 100 });
      setUsers(cursor ? [...(users ?? []), ...page.users] : page.users);
      setNext(page.next_cursor);
    } catch (e) {
      setError(message(e));
    }
  };
  useEffect(() => void load(''), []);
  const replace = (u: AdminUser) => setUsers((users ?? []).map((x) => (x.id === u.id ? u : x)));
  const toggle = async (u: AdminUser) => {
    setError('');
    try {
      replace(await admin.updateUser(u.id, { disabled: !u.disabled }));
    } catch (e) {
      setError(message(e));
    }
  };

  return (
    <section>
      <h1>{t('users.title')}</h1>
      <DefaultLevel />
      <form class="search" role="search" onSubmit={(e) => { e.preventDefault(); void load(q); }}>
        <div class="field">
          <label for="users-search">{t('users.search')}</label>
          <input id="users-search" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} />
        </div>
        <div class="buttons">
          <button type="submit">{t('common.search')}</button>
          <button type="button" class="secondary" onClick={() => setEditing('new')}>{t('users.add')}</button>
        </div>
      </form>
      {editing && (
        <UserForm user={editing === 'new' ? null : editing} onDone={(u) => {
          setEditing(null);
          if (u) void load(q);
        }} />
      )}
      <p role="alert" class="error">{error}</p>
      {users === null ? <p>{t('common.loading')}</p> : (
        <div class="table-wrap">
          <table class="users">
            <caption class="visually-hidden">{t('users.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('users.username')}</th>
                <th scope="col">{t('users.name')}</th>
                <th scope="col">{t('users.fax_number')}</th>
                <th scope="col">{t('users.level')}</th>
                <th scope="col">{t('users.state')}</th>
                <th scope="col"><span class="visually-hidden">{t('users.actions')}</span></th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} data-username={u.username} data-disabled={String(u.disabled)}>
                  <td>{u.username}</td>
                  <td>{u.name}{u.email && <span class="hint"> · {u.email}</span>}</td>
                  <td>{u.fax_number ?? ''}</td>
                  <td>{t(`level.${u.level}` as StringKey)}{u.level_inherited ? ` (${t('users.inherited')})` : ''}</td>
                  <td>{u.disabled ? t('users.is_disabled') : t('users.is_enabled')}</td>
                  <td class="actions">
                    <button type="button" class="link" aria-label={t('users.edit_title', { name: u.username })}
                      onClick={() => setEditing(u)}>{t('users.edit')}</button>
                    {u.id !== me.id && (
                      <button type="button" class="link" onClick={() => toggle(u)}
                        aria-label={`${u.disabled ? t('users.enable') : t('users.disable')} ${u.username}`}>
                        {u.disabled ? t('users.enable') : t('users.disable')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && <button type="button" class="secondary more" onClick={() => load(q, next)}>{t('common.more')}</button>}
      <CsvImport onImported={() => void load(q)} />
    </section>
  );
}
