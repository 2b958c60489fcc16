// web/src/lib/dashboard.ts: the stats shaped for the dashboard's charts.
import { age, channelUse, hourlySeries, queueRows, totals, type Stats } from '../../../web/src/lib/dashboard';

const hour = (i: number) => new Date(Date.UTC(2026, 11, 4, i)).toISOString();
const stats = {
  generated_at: hour(23),
  channels: { in_use: 3, by_gateway: [{ gateway_instance: 'gw-1', in_use: 3 }] },
  queue: { submitted: 4, converting: 0, ready: 1, routing: 0, queued: 2, dialing: 1, sending: 2, retry_wait: 0 },
  hourly: Array.from({ length: 24 }, (_, i) => ({ hour: hour(i), sent: i === 23 ? 5 : 0, partially_sent: i === 22 ? 1 : 0, failed: i === 23 ? 2 : 0 })),
  failures_by_cause: [],
  gateways: [],
  oldest_waiting: null,
} as unknown as Stats;

describe('dashboard figures', () => {
  it('makes uPlot series of the hours, partially sent counted as sent', () => {
    const [x, sent, failed] = hourlySeries(stats);
    expect(x.length).toBe(24);
    expect(x[1] - x[0]).toBe(3600);
    expect(x[0]).toBe(Date.UTC(2026, 11, 4, 0) / 1000);
    expect(sent.slice(21)).toEqual([0, 1, 5]);
    expect(failed[23]).toBe(2);
    expect(totals(stats)).toEqual({ sent: 6, failed: 2, waiting: 10 });
  });
  it('orders the queue by the life cycle and scales bars to the largest', () => {
    const rows = queueRows(stats);
    expect(rows.map((r) => r.state)).toEqual(['submitted', 'converting', 'ready', 'routing', 'queued', 'dialing', 'sending', 'retry_wait']);
    expect(rows[0]).toEqual({ state: 'submitted', count: 4, share: 1 });
    expect(rows[4].share).toBe(0.5);
    const empty = queueRows({ ...stats, queue: { ...stats.queue, submitted: 0, ready: 0, queued: 0, dialing: 0, sending: 0 } });
    expect(empty.every((r) => r.share === 0)).toBe(true);
  });
  it('says channels against the limit, and ages in words', () => {
    expect(channelUse(3, 8)).toEqual({ text: '3 / 8', share: 0.375 });
    expect(channelUse(3, 0)).toEqual({ text: '3', share: null });
    expect(channelUse(9, 8).share).toBe(1);
    expect([age(45), age(720), age(3 * 3600 + 300), age(3 * 3600), age(2 * 86400 + 4 * 3600)]).toEqual(['45 s', '12 min', '3 h 5 min', '3 h', '2 d 4 h']);
  });
});
