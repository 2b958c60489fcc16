// Administration: the cover page templates. Each with its preview (drawn by the server
// with sample fields), whether it is the default, built in, and its language for a
// localized copy (`it_urgent`); upload an SVG to add or replace one (the server checks
// that it is a static drawing that renders and says why not), make one the default,
// delete one.
import { useState } from 'preact/hooks';
import { ApiError, request, type Ok, type Schemas } from '../../api/client';
import { useApp } from '../../app_context';
import { useTitle } from '../../components/useTitle';
import { usePoll } from '../../lib/poll';

type List = Ok<'/api/v1/admin/cover-pages', 'get', 200>;
type Cover = Schemas['CoverPage'];
const message = (err: unknown) => (err instanceof ApiError ? err.detail : String(err));
const url = (name: string) => `/api/v1/admin/cover-pages/${encodeURIComponent(name)}`;

export function CoverPagesPage() {
  const { t } = useApp();
  useTitle(t('covers.title'));
  const [list, setList] = useState<List | null>(null);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [makeDefault, setMakeDefault] = useState(false);
  const [version, setVersion] = useState(0); // new preview URLs after a replace
  const refresh = usePoll(async () => {
    try {
      setList(await request<List>('GET', '/api/v1/admin/cover-pages'));
    } catch (e) {
      setError(message(e));
    }
  }, 60_000, []);
  const act = async (f: () => Promise<unknown>, done: string) => {
    setError('');
    setStatus('');
    try {
      await f();
      setStatus(done);
      setVersion(version + 1);
      refresh();
    } catch (e) {
      setError(message(e));
    }
  };
  const upload = (e: Event) => {
    e.preventDefault();
    if (!file) return;
    const form = new FormData();
    form.append('file', file, file.name);
    void act(() => request<Cover>('PUT', url(name) + (makeDefault ? '?default=true' : ''), form), t('covers.uploaded', { name }));
  };
  return (
    <section>
      <h1>{t('covers.title')}</h1>
      <p role="alert" class="error">{error}</p>
      <p role="status" class="done">{status}</p>
      {!list ? <p>{t('common.loading')}</p> : (
        <ul class="covers">
          {list.cover_pages.map((c) => (
            <li key={c.name} class="card cover" data-name={c.name} data-default={String(c.default)}>
              <img src={`${url(c.name)}/preview?width=240&v=${version}`} width={240} alt={t('covers.preview', { name: c.name })} />
              <div>
                <h2 class="small">{c.name}</h2>
                <p class="hint">
                  {c.language ? t('covers.localized', { lang: c.language, name: c.base_name }) : t('covers.every_language')}
                  {c.builtin && ` · ${t('covers.builtin')}`}
                </p>
                {c.default && <span class="badge ok">{t('covers.default')}</span>}
                <div class="buttons">
                  {!c.default && (
                    <button type="button" class="link" aria-label={t('covers.make_default_named', { name: c.name })}
                      onClick={() => act(() => request('PATCH', url(c.name), { default: true }), t('covers.now_default', { name: c.name }))}>
                      {t('covers.make_default')}
                    </button>
                  )}
                  <button type="button" class="link" aria-label={t('covers.delete_named', { name: c.name })}
                    onClick={() => act(() => request('DELETE', url(c.name)), t('covers.deleted', { name: c.name }))}>
                    {t('groups.delete')}
                  </button>
                </div>
              </div>
            </li>
          ))}
        </ul>
      )}
      <form class="card" onSubmit={upload} aria-labelledby="cover-upload-title">
        <h2 id="cover-upload-title" class="small">{t('covers.upload')}</h2>
        <label for="cover-name">{t('covers.name')}</label>
        <input id="cover-name" required pattern="[A-Za-z0-9._\-]{1,64}" value={name} aria-describedby="cover-name-help"
          onInput={(e) => setName(e.currentTarget.value)} />
        <p id="cover-name-help" class="hint">{t('covers.name_help')}</p>
        <label for="cover-file">{t('covers.file')}</label>
        <input id="cover-file" type="file" accept=".svg,image/svg+xml" required onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        <div class="check">
          <input id="cover-default" type="checkbox" checked={makeDefault} onChange={(e) => setMakeDefault(e.currentTarget.checked)} />
          <label for="cover-default">{t('covers.make_default')}</label>
        </div>
        <button type="submit">{t('covers.upload')}</button>
      </form>
    </section>
  );
}
