// Administration: everybody's API tokens (never their text), newest first, with their
// owner, last use and expiry; revoke one; make one for a user (an integration account,
// say), whose text is shown once, here, and never again.
import { useState } from 'preact/hooks';
import { ApiError, query, request, type Ok, type Schemas } from '../../api/client';
import { useApp } from '../../app_context';
import { useTitle } from '../../components/useTitle';
import { formatTime } from '../../lib/i18n';
import { usePoll } from '../../lib/poll';

type Page = Ok<'/api/v1/admin/tokens', 'get', 200>;
const message = (err: unknown) => (err instanceof ApiError ? err.detail : String(err));

export function TokensPage() {
  const { t, lang } = useApp();
  useTitle(t('tokens.title'));
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState('');
  const [draft, setDraft] = useState({ username: '', name: '', days: '' });
  const [made, setMade] = useState('');
  const load = async () => {
    try {
      setPage(await request<Page>('GET', '/api/v1/admin/tokens' + query({ limit: 200 })));
    } catch (e) {
      setError(message(e));
    }
  };
  const refresh = usePoll(load, 30_000, []);
  const revoke = async (id: number) => {
    setError('');
    try {
      await request('DELETE', `/api/v1/admin/tokens/${id}`);
      refresh();
    } catch (e) {
      setError(message(e));
    }
  };
  const make = async (e: Event) => {
    e.preventDefault();
    setError('');
    setMade('');
    try {
      const users = await request<{ users: Schemas['AdminUser'][] }>('GET', '/api/v1/admin/users' + query({ q: draft.username }));
      const user = users.users.find((u) => u.username === draft.username);
      if (!user) throw new Error(t('tokens.no_user', { name: draft.username }));
      const body = { name: draft.name, ...(draft.days ? { expires_in_days: Number(draft.days) } : {}) };
      const tok = await request<{ token: string }>('POST', `/api/v1/admin/users/${user.id}/tokens`, body);
      setMade(tok.token);
      setDraft({ username: '', name: '', days: '' });
      refresh();
    } catch (err) {
      setError(err instanceof Error && !(err instanceof ApiError) ? err.message : message(err));
    }
  };
  return (
    <section>
      <h1>{t('tokens.title')}</h1>
      <form class="card" onSubmit={make} aria-labelledby="token-new-title">
        <h2 id="token-new-title" class="small">{t('tokens.make')}</h2>
        <label for="token-user">{t('users.username')}</label>
        <input id="token-user" required value={draft.username} onInput={(e) => setDraft({ ...draft, username: e.currentTarget.value })} />
        <label for="token-name">{t('tokens.name')}</label>
        <input id="token-name" required maxLength={100} value={draft.name} onInput={(e) => setDraft({ ...draft, name: e.currentTarget.value })} />
        <label for="token-days">{t('tokens.days')}</label>
        <input id="token-days" type="number" min={1} max={3650} value={draft.days} onInput={(e) => setDraft({ ...draft, days: e.currentTarget.value })} />
        <p role="alert" class="error">{error}</p>
        {made && (
          <div role="status" class="done">
            <p>{t('tokens.made')}</p>
            <code class="token-text">{made}</code>
          </div>
        )}
        <button type="submit">{t('tokens.make')}</button>
      </form>
      {!page ? <p>{t('common.loading')}</p> : page.tokens.length === 0 ? <p>{t('common.none')}</p> : (
        <div class="table-wrap">
          <table class="tokens">
            <caption class="visually-hidden">{t('tokens.title')}</caption>
            <thead><tr>
              <th scope="col">{t('tokens.name')}</th><th scope="col">{t('tokens.owner')}</th><th scope="col">{t('tokens.last_used')}</th>
              <th scope="col">{t('tokens.expires')}</th><th scope="col"><span class="visually-hidden">{t('users.actions')}</span></th>
            </tr></thead>
            <tbody>
              {page.tokens.map((tok) => (
                <tr key={tok.id} data-name={tok.name} data-revoked={String(tok.revoked_at !== null)}>
                  <td>{tok.name}</td>
                  <td>{tok.user.username}</td>
                  <td>{tok.last_used_at ? formatTime(tok.last_used_at, lang) : '—'}</td>
                  <td>{tok.expires_at ? formatTime(tok.expires_at, lang) : t('tokens.never')}</td>
                  <td>
                    {tok.revoked_at ? t('tokens.revoked', { time: formatTime(tok.revoked_at, lang) }) : (
                      <button type="button" class="link" onClick={() => revoke(tok.id)} aria-label={t('tokens.revoke_named', { name: tok.name })}>
                        {t('tokens.revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
