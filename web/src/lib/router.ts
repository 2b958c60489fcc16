// A router of a handful of pages: the path is the state (history.pushState), links are
// ordinary <a href> (so they work with the keyboard, open in a new tab, and reload to
// the same page, which web-api serves as index.html), and a click on one is turned into
// a pushState instead of a page load.
import { useEffect, useState } from 'preact/hooks';

export function navigate(path: string, replace = false): void {
  if (path === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path;
}

// One listener for the whole document: same-origin links without a target or a
// modifier key become client navigations.
export function interceptLinks(): void {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest?.('a');
    if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
    if (a.pathname.startsWith('/api/')) return;
    if (a.hash && a.pathname === location.pathname) return; // a link within the page
    e.preventDefault();
    navigate(a.pathname + a.search);
  });
}
