// web/src/lib/status.ts: the outbox's words for each state and for each call attempt
// (the CDR), in both languages, and which actions each state allows.
import { canCancel, canResend, describeAttempt, isFinal, statusLabel, statusTone } from '../../../web/src/lib/status';
import { translator } from '../../../web/src/lib/i18n';
import type { Attempt, FaxStatus } from '../../../web/src/lib/status';

const en = translator('en');
const it_ = translator('it');
const time = (iso: string) => iso.slice(11, 16);

const allStatuses: FaxStatus[] = ['submitted', 'converting', 'ready', 'routing', 'queued', 'dialing', 'sending',
  'retry_wait', 'sent', 'partially_sent', 'failed', 'cancelled'];

const attempt = (over: Partial<Attempt>): Attempt => ({
  number: 1, started_at: '2026-03-01T10:15:00Z', ended_at: '2026-03-01T10:16:00Z', outcome: 'sent',
  sip_status: 200, t30_code: 0, t30_text: 'OK', pages_sent: 3, bit_rate: 14400, media: 't38',
  remote_station_id: '+39 02 403', error_code: null, ...over,
});

describe('status wording', () => {
  it('has its own words for every state in both languages', () => {
    for (const table of [en, it_]) {
      const labels = allStatuses.map((s) => statusLabel(s, table));
      expect(new Set(labels).size).toBe(allStatuses.length);
      for (const l of labels) expect(l).not.toMatch(/^status\./);
    }
    expect(statusLabel('sent', en)).toBe('Sent');
    expect(statusLabel('sent', it_)).toBe('Inviato');
    expect(statusLabel('retry_wait', en)).toBe('Will try again');
  });
  it('offers cancel before a final state and send-again in one', () => {
    for (const s of allStatuses) {
      expect(canCancel(s, false)).toBe(!isFinal(s));
      expect(canResend(s)).toBe(isFinal(s));
      expect(canCancel(s, true)).toBe(false);
    }
    expect(allStatuses.filter(isFinal)).toEqual(['sent', 'partially_sent', 'failed', 'cancelled']);
  });
  it('colours success, failure and work in progress apart', () => {
    expect(statusTone('sent')).toBe('ok');
    expect(statusTone('failed')).toBe('bad');
    expect(statusTone('partially_sent')).toBe('bad');
    expect(statusTone('dialing')).toBe('busy');
  });
});

describe('describeAttempt', () => {
  it('tells a sent attempt with pages, rate, medium, remote id, SIP and T.30 results', () => {
    expect(describeAttempt(attempt({}), en, time)).toEqual([
      'Attempt 1 at 10:15: sent.',
      '3 pages sent at 14400 bit/s over T.38.',
      'Remote station “+39 02 403”.',
      'SIP status 200.',
      'T.30 result 0 (OK).',
    ]);
  });
  it('tells a busy line without pages, and the error code', () => {
    const a = attempt({ number: 2, outcome: 'busy', sip_status: 486, t30_code: null, t30_text: null, pages_sent: 0,
      bit_rate: null, media: null, remote_station_id: null, error_code: 'fax.busy' });
    expect(describeAttempt(a, en, time)).toEqual([
      'Attempt 2 at 10:15: the line was busy.', 'SIP status 486.', 'Error code fax.busy.']);
    expect(describeAttempt(a, it_, time)[0]).toBe('Tentativo 2 alle 10:15: la linea era occupata.');
  });
  it('tells an attempt still on the line as in progress, one page in the singular', () => {
    const a = attempt({ outcome: null, ended_at: null, pages_sent: 1, media: 'g711a', sip_status: null, t30_code: null });
    expect(describeAttempt(a, en, time).slice(0, 2)).toEqual([
      'Attempt 1 at 10:15: in progress.', '1 page sent at 14400 bit/s over G.711 A-law.']);
  });
});
