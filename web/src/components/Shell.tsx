// The frame of every signed-in page: a skip link, the product name, the navigation
// (each link marks the current page with aria-current), who is signed in and the sign
// out button, then the page itself in <main>. At phone width the navigation wraps
// under the name (styles.css); nothing is hidden behind a menu button.
import type { ComponentChildren } from 'preact';
import { useApp } from '../app_context';

const kLinks = [
  ['/send', 'nav.send'],
  ['/outbox', 'nav.outbox'],
  ['/inbox', 'nav.inbox'],
  ['/preferences', 'nav.preferences'],
] as const;
// Shown to administrators only (the server refuses the API to anyone else anyway).
const kAdminLinks = [
  ['/admin/dashboard', 'nav.dashboard'],
  ['/admin/users', 'nav.users'],
  ['/admin/groups', 'nav.groups'],
  ['/admin/routes', 'nav.routes'],
  ['/admin/settings', 'nav.settings'],
  ['/admin/cover-pages', 'nav.covers'],
  ['/admin/tokens', 'nav.tokens'],
  ['/admin/audit', 'nav.audit'],
] as const;

export function Shell(props: { path: string; onSignOut: () => void; children: ComponentChildren }) {
  const { me, t } = useApp();
  const current = props.path === '/' ? '/send' : props.path === '/admin' ? '/admin/users'
    : props.path.startsWith('/admin/settings') ? '/admin/settings' : props.path;
  const links = me.level >= 10 ? [...kLinks, ...kAdminLinks] : kLinks;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => {
        // Focus, not just scroll: the next Tab goes on from the page's content.
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        {t('app.skip')}
      </a>
      <header class="top">
        <span class="brand">{t('app.name')}</span>
        {me.level >= 2 && (
          <nav aria-label={t('nav.label')}>
            <ul>
              {links.map(([href, key]) => (
                <li key={href}>
                  <a href={href} aria-current={current === href ? 'page' : undefined}>
                    {t(key)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div class="who">
          <span>{t('nav.signed_in_as', { name: me.name || me.username })}</span>
          <button type="button" class="link" onClick={props.onSignOut}>
            {t('nav.sign_out')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  );
}
