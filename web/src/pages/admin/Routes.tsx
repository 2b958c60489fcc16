// Administration: the outbound IP routes (the seed's "IP routes"). The default route
// first, then by prefix; each with its gateway addresses in the order they are tried
// and each address's health from the media gateways' SIP OPTIONS pings (up with its
// round trip, down with the last SIP status, or not pinged yet). Add a route, change
// its addresses or T.38 policy, enable or disable it, delete it. The list refreshes
// every 10 s so that health changes show up.
import { useState } from 'preact/hooks';
import { ApiError, request, type Schemas } from '../../api/client';
import { useApp } from '../../app_context';
import { useTitle } from '../../components/useTitle';
import { usePoll } from '../../lib/poll';
import { gatewaysText, parseGateways } from '../../lib/routes';

type Route = Schemas['Route'];
const message = (err: unknown) => (err instanceof ApiError ? err.detail : String(err instanceof Error ? err.message : err));
const kPolicies = ['auto', 'require', 'off'] as const;

function Health(props: { h: Schemas['GatewayHealth'] }) {
  const { t } = useApp();
  const { h } = props;
  const cls = h.state === 'up' ? 'ok' : h.state === 'down' ? 'bad' : 'busy';
  const text = h.state === 'up' ? t('routes.up', { ms: h.rtt_ms ?? '?' })
    : h.state === 'down' ? t('routes.down', { status: h.last_status ?? '?' }) : t('routes.unknown');
  return <span class={`badge ${cls}`} data-health={h.state} title={h.detail}>{text}</span>;
}

function RouteForm(props: { route: Route | null; onDone: (changed: boolean) => void }) {
  const { t } = useApp();
  const r = props.route;
  const [prefix, setPrefix] = useState(r?.prefix ?? '');
  const [description, setDescription] = useState(r?.description ?? '');
  const [policy, setPolicy] = useState<Route['t38_policy']>(r?.t38_policy ?? 'auto');
  const [addresses, setAddresses] = useState(r ? gatewaysText(r.gateways) : '');
  const [error, setError] = useState('');
  const key = r ? `route-${r.id}` : 'route-new';
  const save = async (e: Event) => {
    e.preventDefault();
    const { gateways, errors } = parseGateways(addresses);
    if (errors.length > 0) {
      setError(errors.join('; '));
      return;
    }
    setError('');
    try {
      const body = { description, t38_policy: policy, gateways, ...(r?.default ? {} : { prefix }) };
      if (r) await request('PATCH', `/api/v1/admin/routes/${r.id}`, body);
      else await request('POST', '/api/v1/admin/routes', body);
      props.onDone(true);
    } catch (err) {
      setError(message(err));
    }
  };
  return (
    <form class="card route-form" onSubmit={save} aria-labelledby={`${key}-title`}>
      <h2 id={`${key}-title`} class="small">{r ? t('routes.edit_title', { name: r.default ? t('routes.default') : r.prefix }) : t('routes.add')}</h2>
      {!r?.default && (
        <>
          <label for={`${key}-prefix`}>{t('routes.prefix')}</label>
          <input id={`${key}-prefix`} required pattern="\+?[0-9]{1,20}" value={prefix} aria-describedby={`${key}-prefix-help`}
            onInput={(e) => setPrefix(e.currentTarget.value)} />
          <p id={`${key}-prefix-help`} class="hint">{t('routes.prefix_help')}</p>
        </>
      )}
      <label for={`${key}-description`}>{t('routes.description')}</label>
      <input id={`${key}-description`} maxLength={200} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      <label for={`${key}-policy`}>{t('routes.t38')}</label>
      <select id={`${key}-policy`} value={policy} onChange={(e) => setPolicy(e.currentTarget.value as Route['t38_policy'])}>
        {kPolicies.map((p) => <option key={p} value={p}>{t(`routes.t38_${p}` as const)}</option>)}
      </select>
      <label for={`${key}-gateways`}>{t('routes.gateways')}</label>
      <textarea id={`${key}-gateways`} rows={3} required value={addresses} aria-describedby={`${key}-gateways-help`}
        onInput={(e) => setAddresses(e.currentTarget.value)} />
      <p id={`${key}-gateways-help`} class="hint">{t('routes.gateways_help')}</p>
      <p role="alert" class="error">{error}</p>
      <div class="buttons">
        <button type="submit">{t('routes.save')}</button>
        <button type="button" class="secondary" onClick={() => props.onDone(false)}>{t('users.cancel')}</button>
      </div>
    </form>
  );
}

export function RoutesPage() {
  const { t } = useApp();
  useTitle(t('routes.title'));
  const [routes, setRoutes] = useState<Route[] | null>(null);
  const [editing, setEditing] = useState<Route | 'new' | null>(null);
  const [error, setError] = useState('');
  const load = () => request<{ routes: Route[] }>('GET', '/api/v1/admin/routes').then((r) => setRoutes(r.routes), (e) => setError(message(e)));
  usePoll(load, 10_000, []);
  const act = async (f: () => Promise<unknown>) => {
    setError('');
    try {
      await f();
      await load();
    } catch (e) {
      setError(message(e));
    }
  };
  return (
    <section>
      <h1>{t('routes.title')}</h1>
      <p class="hint">{t('routes.help')}</p>
      <p role="alert" class="error">{error}</p>
      {editing === 'new' ? <RouteForm route={null} onDone={(c) => { setEditing(null); if (c) void load(); }} />
        : <button type="button" class="secondary" onClick={() => setEditing('new')}>{t('routes.add')}</button>}
      {routes === null ? <p>{t('common.loading')}</p> : (
        <ul class="routes">
          {routes.map((r) => (
            <li key={r.id} class="card route" data-prefix={r.default ? 'default' : r.prefix} data-enabled={String(r.enabled)}>
              {editing !== 'new' && editing?.id === r.id ? (
                <RouteForm route={r} onDone={(c) => { setEditing(null); if (c) void load(); }} />
              ) : (
                <>
                  <h2 class="small">
                    {r.default ? t('routes.default') : r.prefix}
                    {r.description && <span class="hint"> · {r.description}</span>}
                    {!r.enabled && <span class="badge bad"> {t('routes.disabled')}</span>}
                  </h2>
                  <p class="hint">{t('routes.t38')}: {t(`routes.t38_${r.t38_policy}` as const)}</p>
                  <ol class="gateways">
                    {r.gateways.map((g, i) => (
                      <li key={i} data-address={g.address}>
                        <span class="address">{g.address}</span> <span class="hint">{g.transport}</span> <Health h={g.health} />
                      </li>
                    ))}
                  </ol>
                  <div class="buttons">
                    <button type="button" class="link" onClick={() => setEditing(r)}>{t('users.edit')}</button>
                    {!r.default && (
                      <>
                        <button type="button" class="link" onClick={() => act(() => request('PATCH', `/api/v1/admin/routes/${r.id}`, { enabled: !r.enabled }))}>
                          {r.enabled ? t('users.disable') : t('users.enable')}
                        </button>
                        <button type="button" class="link" onClick={() => act(() => request('DELETE', `/api/v1/admin/routes/${r.id}`))}>
                          {t('groups.delete')}
                        </button>
                      </>
                    )}
                  </div>
                </>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
