// A list that is live at its top and grows at its bottom: the first page (newest) is
// polled (lib/poll.ts), older pages are fetched once each with the API's cursor when
// the user asks for more. A fax that moves from one page to another while the list is
// open is shown once: the live first page wins.
import { useEffect, useState } from 'preact/hooks';
import { usePoll } from './poll';

export interface Page<T> {
  items: T[];
  next: string | null; // the API's next_cursor
}

export function usePagedList<T extends { id: number }>(
  load: (cursor?: string) => Promise<Page<T>>,
  everyMs: number,
  deps: unknown[],
) {
  const [first, setFirst] = useState<Page<T> | null>(null);
  const [older, setOlder] = useState<Page<T>>({ items: [], next: null });
  const [error, setError] = useState<unknown>(null);

  const refresh = usePoll(
    async () => {
      try {
        setFirst(await load());
        setError(null);
      } catch (e) {
        setError(e);
        throw e;
      }
    },
    everyMs,
    deps,
  );
  // New filters: the older pages belong to the old list (the poll reloads the first).
  const key = JSON.stringify(deps);
  useEffect(() => setOlder({ items: [], next: null }), [key]);

  const cursor = older.items.length > 0 ? older.next : (first?.next ?? null);
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await load(cursor);
      setOlder((o) => ({ items: [...o.items, ...page.items], next: page.next }));
    } catch (e) {
      setError(e);
    }
  };
  // One item changed by the user (marked read): shown at once, before the next poll.
  const replace = (item: T) => {
    const swap = (p: Page<T>) => ({ ...p, items: p.items.map((x) => (x.id === item.id ? item : x)) });
    setFirst((f) => f && swap(f));
    setOlder(swap);
  };
  const items = first === null ? null : merge(first.items, older.items);
  return { items, error, hasMore: cursor !== null, loadMore, replace, refresh };
}

export function merge<T extends { id: number }>(live: T[], older: T[]): T[] {
  const seen = new Set(live.map((x) => x.id));
  return [...live, ...older.filter((x) => !seen.has(x.id))];
}
