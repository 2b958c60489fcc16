// Send a fax: documents (dropped or picked; each uploaded at once with POST /files, so
// the form knows its type was accepted and, for a PDF, its pages), one or more numbers
// checked as they are typed (lib/numbers.ts, the server's rules), the recipient's name
// and company (on the cover page of each fax), the cover page drop-down (shown only when
// the server has cover pages, as the seed says), subject, note and an optional time to
// send at. Sending is one
// POST /faxes with an Idempotency-Key: one fax per number, all or none.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, links, type CoverPages, type NewFax, type UploadedFile } from '../api/client';
import { useApp } from '../app_context';
import { useTitle } from '../components/useTitle';
import { parseNumbers, type CheckedNumber } from '../lib/numbers';
import type { Translate } from '../lib/i18n';

interface Upload {
  key: number;
  name: string;
  state: 'uploading' | 'ready' | 'error';
  file?: UploadedFile;
  error?: string;
}

// The drop-down's value for "whatever the sender's preference or the server's default
// is": the field is left out of the request.
const kPreferred = ':preferred'; // no cover page name has a colon

// 128 random bits as hex: crypto.randomUUID exists only in secure contexts, and a
// fax server on a LAN is often reached over plain http.
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function numberMessage(n: CheckedNumber, t: Translate): string {
  const p = n.problem;
  if (!p) return t('send.number_ok', { raw: n.raw, canonical: n.canonical ?? '' });
  switch (p.kind) {
    case 'empty': return t('send.number_empty');
    case 'letter': return t('send.number_letter', { raw: n.raw, char: p.char });
    case 'character': return t('send.number_character', { raw: n.raw, char: p.char });
    case 'plus': return t('send.number_plus', { raw: n.raw });
    case 'prefix_only': return t('send.number_prefix_only', { raw: n.raw });
    case 'too_long': return t('send.number_too_long', { raw: n.raw, digits: p.digits });
  }
}

export function Send() {
  const { t } = useApp();
  useTitle(t('send.title'));
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [numbersText, setNumbersText] = useState('');
  const [name, setName] = useState('');
  const [company, setCompany] = useState('');
  const [covers, setCovers] = useState<CoverPages | null>(null);
  const [cover, setCover] = useState(kPreferred);
  const [subject, setSubject] = useState('');
  const [note, setNote] = useState('');
  const [sendAt, setSendAt] = useState(''); // datetime-local: the browser's time zone
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const nextKey = useRef(1);
  // One key per filled-in form: a retried click after a lost answer is the same request.
  const idempotencyKey = useRef(newKey());

  useEffect(() => {
    api.coverPages().then(setCovers, () => setCovers(null));
  }, []);
  const numbers = useMemo(() => parseNumbers(numbersText), [numbersText]);
  const badNumbers = numbers.some((n) => n.problem);

  const addFiles = (files: FileList | null) => {
    if (!files) return;
    for (const f of Array.from(files)) {
      const key = nextKey.current++;
      setUploads((u) => [...u, { key, name: f.name, state: 'uploading' }]);
      api.upload(f).then(
        (file) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, state: 'ready', file } : x))),
        (err) =>
          setUploads((u) =>
            u.map((x) => (x.key === key ? { ...x, state: 'error', error: err instanceof ApiError ? err.detail : String(err) } : x)),
          ),
      );
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError('');
    setDone('');
    if (numbers.length === 0 || badNumbers) return setError(t('send.need_number'));
    if (uploads.some((u) => u.state === 'uploading')) return setError(t('send.wait_uploads'));
    const files = uploads.filter((u) => u.state === 'ready').map((u) => u.file!.id);
    if (files.length === 0 && note.trim() === '') return setError(t('send.need_file'));
    const fax: NewFax = {
      to: numbers.map((n) => ({
        number: n.raw,
        ...(name ? { name } : {}),
        ...(company ? { company } : {}),
      })),
      files,
      ...(subject ? { subject } : {}),
      ...(note ? { note } : {}),
      ...(sendAt ? { send_at: new Date(sendAt).toISOString() } : {}),
      ...(covers && covers.cover_pages.length > 0 && cover !== kPreferred ? { cover_page: cover } : {}),
    };
    setBusy(true);
    try {
      const made = await api.send(fax, idempotencyKey.current);
      setDone(t('send.done', { refs: made.faxes.map((f) => f.reference ?? `#${f.id}`).join(', ') }));
      idempotencyKey.current = newKey();
      setUploads([]);
      setNumbersText('');
      setName('');
      setCompany('');
      setSubject('');
      setNote('');
      setSendAt('');
    } catch (err) {
      setError(err instanceof ApiError ? err.detail : String(err));
    } finally {
      setBusy(false);
    }
  };

  const hasCovers = covers !== null && covers.cover_pages.length > 0;
  // The page the fax will start with: the one chosen, or the default one (the sender's
  // own preference is not known here; the server applies it).
  const coverShown = !hasCovers || cover === '' ? null : cover === kPreferred ? covers!.default : cover;
  return (
    <section>
      <h1>{t('send.title')}</h1>
      <form onSubmit={submit} class="card send" noValidate>
        <fieldset>
          <legend>{t('send.files')}</legend>
          <div
            class={'drop' + (dragging ? ' over' : '')}
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={(e) => {
              e.preventDefault();
              setDragging(false);
              addFiles(e.dataTransfer?.files ?? null);
            }}
          >
            <p>{t('send.drop')}</p>
            <label class="button secondary" for="files">{t('send.choose')}</label>
            <input id="files" class="visually-hidden" type="file" multiple
              onChange={(e) => {
                addFiles(e.currentTarget.files);
                e.currentTarget.value = '';
              }} />
            <p class="hint">{t('send.types')}</p>
          </div>
          {uploads.length > 0 && (
            <ul class="uploads" aria-live="polite">
              {uploads.map((u) => (
                <li key={u.key} data-state={u.state}>
                  <span class="name">{u.name}</span>{' '}
                  <span class="state">
                    {u.state === 'uploading' && t('send.uploading')}
                    {u.state === 'ready' &&
                      (u.file?.pages === 1
                        ? t('send.uploaded_page')
                        : u.file?.pages
                          ? t('send.uploaded_pages', { n: u.file.pages })
                          : t('send.uploaded'))}
                    {u.state === 'error' && <span class="error">{u.error}</span>}
                  </span>{' '}
                  <button type="button" class="link" aria-label={t('send.remove', { name: u.name })}
                    onClick={() => setUploads((all) => all.filter((x) => x.key !== u.key))}>
                    ✕
                  </button>
                </li>
              ))}
            </ul>
          )}
        </fieldset>

        <label for="numbers">{t('send.numbers')}</label>
        <textarea id="numbers" rows={2} value={numbersText} aria-describedby="numbers-help numbers-check"
          aria-invalid={badNumbers ? 'true' : undefined} autocomplete="off"
          onInput={(e) => setNumbersText(e.currentTarget.value)} />
        <p id="numbers-help" class="hint">{t('send.numbers_help')}</p>
        <ul id="numbers-check" class="checks" aria-live="polite">
          {numbers.map((n) => (
            <li key={n.raw} class={n.problem ? 'error' : 'ok'} data-valid={n.problem ? 'false' : 'true'}>
              {numberMessage(n, t)}
            </li>
          ))}
        </ul>

        <div class="row">
          <div>
            <label for="contact">{t('send.contact')}</label>
            <input id="contact" maxLength={200} value={name} autocomplete="off" onInput={(e) => setName(e.currentTarget.value)} />
          </div>
          <div>
            <label for="company">{t('send.company')}</label>
            <input id="company" maxLength={200} value={company} autocomplete="organization"
              onInput={(e) => setCompany(e.currentTarget.value)} />
          </div>
        </div>

        {hasCovers && (
          <>
            <label for="cover">{t('send.cover')}</label>
            <select id="cover" value={cover} onChange={(e) => setCover(e.currentTarget.value)}>
              <option value={kPreferred}>
                {covers!.default ? t('send.cover_default', { name: covers!.default }) : t('send.cover_preference')}
              </option>
              {covers!.cover_pages.map((c) => (
                <option key={c.name} value={c.name}>{c.name}</option>
              ))}
              <option value="">{t('send.cover_none')}</option>
            </select>
            {coverShown && (
              <img class="cover-preview" width={200} src={links.coverPreview(coverShown)}
                alt={t('send.cover_preview', { name: coverShown })} />
            )}
          </>
        )}

        <label for="subject">{t('send.subject')}</label>
        <input id="subject" maxLength={200} value={subject} onInput={(e) => setSubject(e.currentTarget.value)} />
        <label for="note">{t('send.note')}</label>
        <textarea id="note" rows={4} maxLength={2000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />

        <label for="send-at">{t('send.send_at')}</label>
        <input id="send-at" type="datetime-local" value={sendAt} aria-describedby="send-at-help"
          onInput={(e) => setSendAt(e.currentTarget.value)} />
        <p id="send-at-help" class="hint">{t('send.send_at_help')}</p>

        <p role="alert" class="error">{error}</p>
        <p role="status" class="done">
          {done && (
            <>
              {done} <a href="/outbox">{t('nav.outbox')}</a>
            </>
          )}
        </p>
        <button type="submit" disabled={busy}>
          {busy ? t('send.busy') : numbers.length > 1 ? t('send.submit_many', { n: numbers.length }) : t('send.submit')}
        </button>
      </form>
    </section>
  );
}
