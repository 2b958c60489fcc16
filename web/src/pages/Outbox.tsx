// The faxes the user sent, newest first, with their status kept live by polling
// (lib/poll.ts: every 3 s while the tab is visible), a search by reference number,
// recipient's number and days, older pages on demand (lib/paged.ts), and
// per fax its details on demand: each call attempt in words (lib/status.ts), the page
// thumbnails once converted (GET /faxes/{id}/pages/{n}/preview), and cancel or send
// again where the state allows.
import { useState } from 'preact/hooks';
import { api, ApiError, links, type Fax, type FaxWithAttempts } from '../api/client';
import { useApp } from '../app_context';
import { useTitle } from '../components/useTitle';
import { SearchForm } from '../components/SearchForm';
import { formatTime } from '../lib/i18n';
import { usePagedList } from '../lib/paged';
import { usePoll } from '../lib/poll';
import { isFiltered, noFilters, outboxQuery } from '../lib/search';
import { canCancel, canResend, describeAttempt, isFinal, statusLabel, statusTone } from '../lib/status';

const kPollMs = 3000;
// Thumbnails of the first pages only: a 17-page fax need not load 17 images.
const kMaxThumbnails = 6;

export function Outbox() {
  const { t, lang } = useApp();
  useTitle(t('outbox.title'));
  const [filters, setFilters] = useState(noFilters);
  const [open, setOpen] = useState<Record<number, FaxWithAttempts | null>>({});
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const list = usePagedList<Fax>(
    async (cursor) => {
      const page = await api.faxes({ ...outboxQuery(filters), limit: 50, cursor });
      return { items: page.faxes, next: page.next_cursor };
    },
    kPollMs,
    [JSON.stringify(filters)],
  );
  const faxes = list.items;
  // The faxes whose details are open, polled as often as the list.
  const openIds = Object.keys(open).map(Number);
  usePoll(
    async () => {
      const details = await Promise.all(openIds.map((id) => api.fax(id).catch(() => null)));
      setOpen((o) => {
        const n = { ...o };
        openIds.forEach((id, i) => {
          if (id in n && details[i]) n[id] = details[i];
        });
        return n;
      });
    },
    kPollMs,
    [openIds.join(',')],
  );
  const shownError = error || (list.error ? (list.error instanceof ApiError ? list.error.detail : String(list.error)) : '');

  const toggle = (id: number) =>
    setOpen((o) => {
      const n = { ...o };
      if (id in n) delete n[id];
      else n[id] = null;
      return n;
    });
  const act = async (f: () => Promise<unknown>, message = '') => {
    try {
      await f();
      setNotice(message);
      setError('');
      list.refresh();
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : String(err));
    }
  };
  const fmt = (iso: string) => formatTime(iso, lang);

  return (
    <section>
      <h1>{t('outbox.title')}</h1>
      <SearchForm id="outbox-search" numberLabel={t('search.to_number')} onSearch={setFilters} />
      <p role="alert" class="error">{shownError}</p>
      <p role="status" class="done">{notice}</p>
      {faxes === null && <p>{t('common.loading')}</p>}
      {faxes?.length === 0 && <p>{isFiltered(filters) ? t('common.no_match') : t('common.none')}</p>}
      <ul class="faxes" aria-label={t('outbox.title')}>
        {faxes?.map((f) => {
          const details = open[f.id];
          return (
            <li key={f.id} class="fax" data-id={f.id} data-reference={f.reference ?? ''}>
              <div class="summary">
                <span class="reference">{f.reference}</span>
                <span class="to">
                  {f.to}
                  {f.recipient_name && ` · ${f.recipient_name}`}
                  {f.recipient_company && ` · ${f.recipient_company}`}
                </span>
                <span class={`badge ${statusTone(f.status)}`} data-status={f.status}>
                  {statusLabel(f.status, t)}
                </span>
                {f.send_at && !isFinal(f.status) && Date.parse(f.send_at) > Date.now() && (
                  <span class="scheduled">{t('outbox.scheduled', { time: fmt(f.send_at) })}</span>
                )}
                <span class="pages">
                  {f.pages_total !== null && t('outbox.pages_done', { done: f.pages_confirmed, total: f.pages_total })}
                </span>
                <span class="time">{fmt(f.created_at)}</span>
                <span class="actions">
                  <button type="button" class="secondary" aria-expanded={f.id in open}
                    aria-controls={`fax-${f.id}-details`} onClick={() => toggle(f.id)}>
                    {f.id in open ? t('outbox.hide') : t('outbox.details')}
                  </button>
                  {canCancel(f.status, f.cancel_requested) && (
                    <button type="button" class="secondary" onClick={() => act(() => api.cancel(f.id))}>
                      {t('outbox.cancel')}
                    </button>
                  )}
                  {f.cancel_requested && !canResend(f.status) && <span>{t('outbox.cancel_requested')}</span>}
                  {canResend(f.status) && (
                    <button type="button" class="secondary" onClick={() => act(() => api.resend(f.id), t('outbox.resent'))}>
                      {t('outbox.resend')}
                    </button>
                  )}
                </span>
              </div>
              {f.failure && <p class="error">{t('outbox.failure', { detail: f.failure.detail })}</p>}
              {f.id in open && (
                <div id={`fax-${f.id}-details`} class="details">
                  {details === null || details === undefined ? (
                    <p>{t('common.loading')}</p>
                  ) : (
                    <>
                      <h2 class="small">{t('outbox.attempts')}</h2>
                      {details.attempts.length === 0 && <p>{t('outbox.no_attempts')}</p>}
                      <ol class="attempts">
                        {details.attempts.map((a) => (
                          <li key={a.number}>{describeAttempt(a, t, fmt).join(' ')}</li>
                        ))}
                      </ol>
                      {details.pages_total !== null && (
                        <div class="thumbs">
                          {Array.from({ length: Math.min(details.pages_total, kMaxThumbnails) }, (_, i) => (
                            <img key={i} loading="lazy" width={120} src={links.faxPreview(f.id, i + 1)}
                              alt={t('outbox.page_preview', { n: i + 1, to: f.to })} />
                          ))}
                        </div>
                      )}
                    </>
                  )}
                </div>
              )}
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
