// Live data without a reload: the API has no event stream yet, so pages poll. A poll
// runs every `everyMs` while the page is visible (a hidden tab costs the server
// nothing), once at once when it becomes visible again, and never overlaps itself. The
// function it returns runs the task now (after the user changed something).
import { useEffect, useRef } from 'preact/hooks';

export function usePoll(task: () => Promise<void>, everyMs: number, deps: unknown[]): () => void {
  const latest = useRef(task);
  latest.current = task;
  const trigger = useRef<() => void>(() => {});
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    let running = false;
    let again = false; // asked for while running: run once more, with the newer state
    const run = async () => {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      again = false;
      try {
        await latest.current();
      } catch {
        // The page shows its own error from the task; polling goes on.
      } finally {
        running = false;
        if (!stopped && again) void run();
        else if (!stopped) timer = window.setTimeout(tick, everyMs);
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
    trigger.current = () => {
      window.clearTimeout(timer);
      void run();
    };
    void run();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, deps);
  return () => trigger.current();
}
