// A part of the UI in its own chunk: imported on first render, "Loading…" meanwhile,
// the error said if the chunk cannot be fetched (a release replaced it: reload).
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useApp } from '../app_context';

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  return function Lazy(props: P) {
    const { t } = useApp();
    const [C, setC] = useState<ComponentType<P> | null>(() => loaded);
    const [error, setError] = useState('');
    useEffect(() => {
      if (!C) load().then((c) => { loaded = c; setC(() => c); }, (e) => setError(String(e)));
    }, []);
    if (error) return <p role="alert" class="error">{t('common.error', { detail: error })}</p>;
    return C ? <C {...props} /> : <p>{t('common.loading')}</p>;
  };
}
