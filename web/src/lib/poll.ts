// Live data without a reload: the API has no event stream yet, so pages poll. A poll
// runs every `everyMs` while the page is visible (a hidden tab costs the server
// nothing), once at once when it becomes visible again, and never overlaps itself.
import { useEffect, useRef } from 'preact/hooks';

export function usePoll(task: () => Promise<void>, everyMs: number, deps: unknown[]): void {
  const latest = useRef(task);
  latest.current = task;
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    let running = false;
    const run = async () => {
      if (stopped || running) return;
      running = true;
      try {
        await latest.current();
      } catch {
        // The page shows its own error from the task; polling goes on.
      } finally {
        running = false;
        if (!stopped) timer = window.setTimeout(tick, everyMs);
      }
    };
    const tick = () => {
      if (document.visibilityState === 'visible') void run();
      else timer = window.setTimeout(tick, everyMs);
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') {
        window.clearTimeout(timer);
        void run();
      }
    };
    document.addEventListener('visibilitychange', onVisible);
    void run();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, deps);
}
