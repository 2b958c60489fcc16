// Each page names itself in the tab (and for screen readers, which announce it).
import { useEffect } from 'preact/hooks';

export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Faxbridge`;
  }, [title]);
}
