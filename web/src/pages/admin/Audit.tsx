// Administration: the audit log (who changed what, when and from where), newest first,
// filtered by actor and by an action prefix (`user.` is every user change), a page at a
// time. Each event's details are shown as the API records them.
import { useRef, useState } from 'preact/hooks';
import { ApiError, query, request, type Ok } from '../../api/client';
import { useApp } from '../../app_context';
import { useTitle } from '../../components/useTitle';
import { formatTime } from '../../lib/i18n';
import { usePoll } from '../../lib/poll';

type Page = Ok<'/api/v1/admin/audit', 'get', 200>;

export function AuditPage() {
  const { t, lang } = useApp();
  useTitle(t('audit.title'));
  const [filter, setFilter] = useState({ actor: '', action: '' });
  const [shown, setShown] = useState({ actor: '', action: '' });
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState('');
  const latest = useRef(0); // an answer to an older filter that arrives late is dropped
  const load = async (f = shown, cursor?: string) => {
    const mine = ++latest.current;
    try {
      const next = await request<Page>('GET', '/api/v1/admin/audit' + query({ ...f, cursor, limit: 50 }));
      if (mine !== latest.current) return;
      setPage(cursor && page ? { events: [...page.events, ...next.events], next_cursor: next.next_cursor } : next);
      setError('');
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  };
  usePoll(() => load(shown), 30_000, [shown]); // a new filter runs at once
  return (
    <section>
      <h1>{t('audit.title')}</h1>
      <form class="search" role="search" onSubmit={(e) => { e.preventDefault(); setShown({ ...filter }); }}>
        <div class="field">
          <label for="audit-actor">{t('audit.actor')}</label>
          <input id="audit-actor" value={filter.actor} onInput={(e) => setFilter({ ...filter, actor: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="audit-action">{t('audit.action')}</label>
          <input id="audit-action" value={filter.action} placeholder="user." onInput={(e) => setFilter({ ...filter, action: e.currentTarget.value })} />
        </div>
        <div class="buttons"><button type="submit">{t('common.search')}</button></div>
      </form>
      <p role="alert" class="error">{error}</p>
      {!page ? <p>{t('common.loading')}</p> : page.events.length === 0 ? <p>{t('common.none')}</p> : (
        <div class="table-wrap">
          <table class="audit">
            <caption class="visually-hidden">{t('audit.title')}</caption>
            <thead><tr>
              <th scope="col">{t('audit.when')}</th><th scope="col">{t('audit.actor')}</th><th scope="col">{t('audit.action')}</th>
              <th scope="col">{t('audit.object')}</th><th scope="col">{t('audit.details')}</th>
            </tr></thead>
            <tbody>
              {page.events.map((ev) => (
                <tr key={ev.id} data-action={ev.action}>
                  <td>{formatTime(ev.at, lang)}</td>
                  <td>{ev.actor.name}{ev.ip && <span class="hint"> · {ev.ip}</span>}</td>
                  <td>{ev.action}</td>
                  <td>{ev.object_type} {ev.object_id}</td>
                  <td class="details"><code>{JSON.stringify(ev.details)}</code></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page?.next_cursor && <button type="button" class="secondary more" onClick={() => load(shown, page.next_cursor!)}>{t('common.more')}</button>}
    </section>
  );
}
