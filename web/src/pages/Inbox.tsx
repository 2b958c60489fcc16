// The faxes the user received: unread first, then newest (the API's order), each with
// its first page as a thumbnail (GET /inbox/{id}/pages/{n}/preview; the others on
// demand), the PDF to download
// (a plain link: the browser sends the cookie), and mark read / unread. Polled every
// 10 s, so a fax that arrives appears without a reload; a search by reference number,
// caller's number and days; older pages on demand (lib/paged.ts).
// Opening the PDF marks the fax read, as opening a mail does.
import { useState } from 'preact/hooks';
import { api, ApiError, links, type InboxFax } from '../api/client';
import { useApp } from '../app_context';
import { useTitle } from '../components/useTitle';
import { SearchForm } from '../components/SearchForm';
import { formatTime } from '../lib/i18n';
import { usePagedList } from '../lib/paged';
import { inboxQuery, isFiltered, noFilters } from '../lib/search';

const kPollMs = 10000;
// Thumbnails of the first pages only, as in the outbox.
const kMaxThumbnails = 6;

export function Inbox() {
  const { t, lang } = useApp();
  useTitle(t('inbox.title'));
  const [filters, setFilters] = useState(noFilters);
  const [error, setError] = useState('');
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const toggle = (id: number) =>
    setOpen((o) => {
      const n = new Set(o);
      if (!n.delete(id)) n.add(id);
      return n;
    });
  const list = usePagedList<InboxFax>(
    async (cursor) => {
      const page = await api.inbox({ ...inboxQuery(filters), limit: 50, cursor });
      return { items: page.faxes, next: page.next_cursor };
    },
    kPollMs,
    [JSON.stringify(filters)],
  );
  const faxes = list.items;
  const shownError = error || (list.error ? (list.error instanceof ApiError ? list.error.detail : String(list.error)) : '');

  const mark = async (f: InboxFax, read: boolean) => {
    try {
      list.replace(await api.markRead(f.id, read));
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : String(err));
    }
  };

  return (
    <section>
      <h1>{t('inbox.title')}</h1>
      <SearchForm id="inbox-search" numberLabel={t('search.from_number')} onSearch={setFilters} />
      <p role="alert" class="error">{shownError}</p>
      {faxes === null && <p>{t('common.loading')}</p>}
      {faxes?.length === 0 && <p>{isFiltered(filters) ? t('common.no_match') : t('common.none')}</p>}
      <ul class="faxes inbox" aria-label={t('inbox.title')}>
        {faxes?.map((f) => {
          const from = f.from || t('inbox.unknown_caller');
          return (
            <li key={f.id} class={'fax' + (f.read ? '' : ' unread')} data-id={f.id} data-reference={f.reference ?? ''}
              data-read={String(f.read)}>
              {f.pages > 0 ? (
                <img class="thumb" loading="lazy" width={96} src={links.inboxPreview(f.id, 1, 192)}
                  alt={t('inbox.preview', { from })} />
              ) : (
                <span class="thumb" />
              )}
              <div class="summary">
                {!f.read && <span class="badge busy">{t('inbox.new')}</span>}
                <span class="reference">{f.reference}</span>
                <span class="from">
                  {t('inbox.from')} {from}
                  {f.remote_station_id && ` · ${t('inbox.station', { id: f.remote_station_id })}`}
                </span>
                <span class="pages">{f.pages === 1 ? t('inbox.page') : t('inbox.pages', { n: f.pages })}</span>
                <span class="time">{formatTime(f.received_at, lang)}</span>
                <span class="actions">
                  {f.pages > 0 && (
                    <a class="button secondary" href={links.inboxPdf(f.id)} download
                      onClick={() => !f.read && void mark(f, true)}>
                      {t('inbox.download')}
                    </a>
                  )}
                  {f.pages > 1 && (
                    <button type="button" class="secondary" aria-expanded={open.has(f.id)}
                      aria-controls={`inbox-${f.id}-pages`} onClick={() => toggle(f.id)}>
                      {open.has(f.id) ? t('inbox.hide_pages') : t('inbox.show_pages')}
                    </button>
                  )}
                  <button type="button" class="secondary" onClick={() => mark(f, !f.read)}>
                    {f.read ? t('inbox.mark_unread') : t('inbox.mark_read')}
                  </button>
                </span>
                {f.failure && <p class="error">{t('inbox.failed', { detail: f.failure.detail })}</p>}
                {open.has(f.id) && (
                  <div id={`inbox-${f.id}-pages`} class="thumbs">
                    {Array.from({ length: Math.min(f.pages, kMaxThumbnails) }, (_, i) => (
                      <img key={i} loading="lazy" width={120} src={links.inboxPreview(f.id, i + 1)}
                        alt={t('inbox.page_preview', { n: i + 1, from })} />
                    ))}
                  </div>
                )}
              </div>
            </li>
          );
        })}
      </ul>
      {list.hasMore && (
        <button type="button" class="secondary more" onClick={list.loadMore}>{t('common.more')}</button>
      )}
    </section>
  );
}
