// What a fax's status and each call attempt (its CDR) say in words, and what a user
// may do with a fax in each state. The states are the API's (FaxFields.status, the job
// life cycle of docs/architecture.md); cancel is offered before a final state, resend
// in one, as POST /faxes/{id}/cancel and /resend allow.
import type { Translate, StringKey } from './i18n';
import type { components } from '../api/schema.gen';

export type FaxStatus = components['schemas']['FaxFields']['status'];
export type Attempt = components['schemas']['FaxAttempt'];
type Outcome = NonNullable<Attempt['outcome']>;

const kFinal: ReadonlySet<FaxStatus> = new Set<FaxStatus>(['sent', 'partially_sent', 'failed', 'cancelled']);

export const isFinal = (s: FaxStatus): boolean => kFinal.has(s);
export const canCancel = (s: FaxStatus, cancelRequested: boolean): boolean => !isFinal(s) && !cancelRequested;
export const canResend = (s: FaxStatus): boolean => isFinal(s);

// The tone of a status badge: done well, done badly, or still moving.
export function statusTone(s: FaxStatus): 'ok' | 'bad' | 'busy' {
  if (s === 'sent') return 'ok';
  if (s === 'failed' || s === 'partially_sent' || s === 'cancelled') return 'bad';
  return 'busy';
}

export function statusLabel(s: FaxStatus, t: Translate): string {
  return t(`status.${s}` as StringKey);
}

const kMedia: Record<string, string> = { t38: 'T.38', g711a: 'G.711 A-law', g711u: 'G.711 µ-law' };

// One attempt as sentences: its outcome, pages and rate, the far end, and the codes a
// support person asks for (SIP status, T.30 result).
export function describeAttempt(a: Attempt, t: Translate, formatTime: (iso: string) => string): string[] {
  const out: string[] = [];
  const outcome = a.outcome === null ? t('attempt.in_progress') : t(`outcome.${a.outcome as Outcome}` as StringKey);
  out.push(t('attempt.head', { n: a.number, time: formatTime(a.started_at), outcome }));
  if (a.pages_sent > 0 || a.bit_rate !== null) {
    const pages = t(a.pages_sent === 1 ? 'attempt.page' : 'attempt.pages', { n: a.pages_sent });
    const parts = [pages];
    if (a.bit_rate !== null) parts.push(t('attempt.rate', { rate: a.bit_rate }));
    if (a.media !== null) parts.push(t('attempt.media', { media: kMedia[a.media] ?? a.media }));
    out.push(parts.join(' ') + '.');
  }
  if (a.remote_station_id) out.push(t('attempt.remote', { id: a.remote_station_id }));
  if (a.sip_status !== null) out.push(t('attempt.sip', { code: a.sip_status }));
  if (a.t30_code !== null) {
    out.push(t('attempt.t30', { code: a.t30_code, text: a.t30_text ?? '' }).replace(/ \(\)\.$/, '.'));
  }
  if (a.error_code) out.push(t('attempt.error', { code: a.error_code }));
  return out;
}
