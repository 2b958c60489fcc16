// The live operations dashboard (administrators), meant to be left on a wall screen:
// big figures (channels in use against the limit, faxes waiting, the job waiting
// longest), sent and failed per hour over the last 24 hours as a uPlot chart (bundled,
// drawn on a canvas; the figures are also in a table for screen readers), queue depth
// by state as bars, failures by cause and each gateway address's health. It polls GET
// /stats every 5 s while visible (lib/poll.ts); the chart's data is set in place, so
// the page never reloads. The chart element keeps its uPlot instance (`__uplot`) so a
// test reads the data drawn rather than pixels.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ApiError, request, type Schemas } from '../../api/client';
import { useApp } from '../../app_context';
import { useTitle } from '../../components/useTitle';
import { formatTime } from '../../lib/i18n';
import { usePoll } from '../../lib/poll';
import { age, channelUse, hourlySeries, queueRows, totals, type Stats } from '../../lib/dashboard';

const kRefreshMs = 5000;

function HourlyChart(props: { stats: Stats; label: string; sent: string; failed: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  useEffect(() => {
    const el = box.current!;
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 260,
      series: [
        {},
        { label: props.sent, stroke: '#14532d', fill: 'rgba(20,83,45,0.15)', width: 2 },
        { label: props.failed, stroke: '#8a1c1c', fill: 'rgba(138,28,28,0.12)', width: 2 },
      ],
      axes: [{}, { values: (_u, v) => v.map((n) => (Number.isInteger(n) ? String(n) : '')) }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(4, max)] } },
    };
    plot.current = new uPlot(opts, hourlySeries(props.stats), el);
    (el as unknown as { __uplot: uPlot }).__uplot = plot.current;
    const resize = () => plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 260 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => plot.current?.setData(hourlySeries(props.stats)), [props.stats]);
  return <div class="chart" ref={box} role="img" aria-label={props.label} />;
}

export function DashboardPage() {
  const { t, lang } = useApp();
  useTitle(t('dash.title'));
  const [stats, setStats] = useState<Stats | null>(null);
  const [limit, setLimit] = useState(0);
  const [error, setError] = useState('');
  usePoll(async () => {
    try {
      setStats(await request<Stats>('GET', '/api/v1/stats'));
      setError('');
    } catch (e) {
      setError(e instanceof ApiError ? e.detail : String(e));
    }
  }, kRefreshMs, []);
  useEffect(() => {
    request<Schemas['Setting']>('GET', '/api/v1/admin/settings/fax.max_concurrent_outgoing')
      .then((s) => setLimit(Number(s.value) || 0), () => setLimit(0));
  }, []);
  if (!stats) return <section><h1>{t('dash.title')}</h1><p role="alert" class="error">{error}</p><p>{t('common.loading')}</p></section>;

  const sum = totals(stats);
  const channels = channelUse(stats.channels.in_use, limit);
  return (
    <section class="dashboard">
      <h1>{t('dash.title')}</h1>
      <p class="hint" role="status">{t('dash.updated', { time: formatTime(stats.generated_at, lang) })}</p>
      <p role="alert" class="error">{error}</p>
      <div class="figures">
        <div class="figure" data-figure="channels">
          <span class="value">{channels.text}</span>
          <span class="what">{t('dash.channels')}</span>
          {channels.share !== null && <meter min={0} max={1} value={channels.share} aria-label={t('dash.channels')} />}
        </div>
        <div class="figure" data-figure="waiting"><span class="value">{sum.waiting}</span><span class="what">{t('dash.waiting')}</span></div>
        <div class="figure" data-figure="sent"><span class="value">{sum.sent}</span><span class="what">{t('dash.sent_24h')}</span></div>
        <div class="figure" data-figure="failed"><span class="value">{sum.failed}</span><span class="what">{t('dash.failed_24h')}</span></div>
        <div class="figure" data-figure="oldest">
          <span class="value">{stats.oldest_waiting ? age(stats.oldest_waiting.age_s) : '—'}</span>
          <span class="what">{stats.oldest_waiting
            ? t('dash.oldest', { reference: stats.oldest_waiting.reference ?? `#${stats.oldest_waiting.id}`, state: stats.oldest_waiting.state })
            : t('dash.oldest_none')}</span>
        </div>
      </div>
      <div class="panels">
        <div class="card panel wide">
          <h2 class="small">{t('dash.hourly')}</h2>
          <HourlyChart stats={stats} label={t('dash.hourly')} sent={t('dash.sent')} failed={t('dash.failed')} />
        </div>
        <div class="card panel">
          <h2 class="small">{t('dash.queue')}</h2>
          <table class="queue">
            <tbody>
              {queueRows(stats).map((r) => (
                <tr key={r.state} data-state={r.state} data-count={r.count}>
                  <th scope="row">{r.state}</th>
                  <td class="n">{r.count}</td>
                  <td class="bar"><meter min={0} max={1} value={r.share} aria-label={r.state} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div class="card panel">
          <h2 class="small">{t('dash.by_gateway')}</h2>
          {stats.channels.by_gateway.length === 0 ? <p class="hint">{t('dash.no_calls')}</p> : (
            <ul class="plain">{stats.channels.by_gateway.map((g) => <li key={g.gateway_instance}>{g.gateway_instance}: {g.in_use}</li>)}</ul>
          )}
        </div>
        <div class="card panel">
          <h2 class="small">{t('dash.failures')}</h2>
          {stats.failures_by_cause.length === 0 ? <p class="hint">{t('dash.no_failures')}</p> : (
            <ul class="plain">{stats.failures_by_cause.map((f) => <li key={f.code} data-code={f.code}>{f.code || '—'}: {f.count}</li>)}</ul>
          )}
        </div>
        <div class="card panel">
          <h2 class="small">{t('dash.gateways')}</h2>
          {stats.gateways.length === 0 ? <p class="hint">{t('dash.no_gateways')}</p> : (
            <ul class="plain">
              {stats.gateways.map((g) => (
                <li key={g.address} data-health={g.state}>
                  <span class={`badge ${g.state === 'up' ? 'ok' : g.state === 'down' ? 'bad' : 'busy'}`}>{g.state}</span> {g.address}
                  {g.rtt_ms !== null && <span class="hint"> · {g.rtt_ms} ms</span>}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      <table class="visually-hidden">
        <caption>{t('dash.hourly')}</caption>
        <thead><tr><th scope="col">UTC</th><th scope="col">{t('dash.sent')}</th><th scope="col">{t('dash.failed')}</th></tr></thead>
        <tbody>{stats.hourly.map((h) => <tr key={h.hour}><td>{h.hour.slice(11, 16)}</td><td>{h.sent + h.partially_sent}</td><td>{h.failed}</td></tr>)}</tbody>
      </table>
    </section>
  );
}
