// Pages that only say something: no fax access (level 0), and an unknown path.
import { useApp } from '../app_context';
import { useTitle } from '../components/useTitle';

export function NoAccess() {
  const { t } = useApp();
  useTitle(t('noaccess.title'));
  return (
    <section>
      <h1>{t('noaccess.title')}</h1>
      <p>{t('noaccess.body')}</p>
    </section>
  );
}

export function NotFound() {
  const { t } = useApp();
  useTitle(t('notfound.title'));
  return (
    <section>
      <h1>{t('notfound.title')}</h1>
      <p>
        <a href="/send">{t('nav.send')}</a>
      </p>
    </section>
  );
}
