// The dashboard's figures from GET /stats, shaped for the page: the hourly series as
// uPlot wants them (x in Unix seconds, one array per series, oldest first), the queue
// as rows in the life cycle's order with the largest for scaling the bars, channels in
// use against the limit, and an age in words.
import type { Schemas } from '../api/client';

export type Stats = Schemas['Stats'];
export type HourlySeries = [x: number[], sent: number[], failed: number[]];

export function hourlySeries(s: Stats): HourlySeries {
  return [
    s.hourly.map((h) => Date.parse(h.hour) / 1000),
    s.hourly.map((h) => h.sent + h.partially_sent),
    s.hourly.map((h) => h.failed),
  ];
}

export const kQueueOrder = ['submitted', 'converting', 'ready', 'routing', 'queued', 'dialing', 'sending', 'retry_wait'] as const;

export function queueRows(s: Stats): { state: (typeof kQueueOrder)[number]; count: number; share: number }[] {
  const max = Math.max(1, ...kQueueOrder.map((k) => s.queue[k]));
  return kQueueOrder.map((state) => ({ state, count: s.queue[state], share: s.queue[state] / max }));
}

export const totals = (s: Stats) => {
  const sent = s.hourly.reduce((n, h) => n + h.sent + h.partially_sent, 0);
  const failed = s.hourly.reduce((n, h) => n + h.failed, 0);
  const waiting = kQueueOrder.reduce((n, k) => n + s.queue[k], 0);
  return { sent, failed, waiting };
};

// Channels in use against the service's limit (fax.max_concurrent_outgoing; 0: none).
export function channelUse(inUse: number, limit: number): { text: string; share: number | null } {
  if (limit <= 0) return { text: String(inUse), share: null };
  return { text: `${inUse} / ${limit}`, share: Math.min(1, inUse / limit) };
}

// "45 s", "12 min", "3 h 5 min", "2 d 4 h": what a wall screen can be read at a glance.
export function age(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}
