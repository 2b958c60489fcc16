// The inbox's and outbox's search form as the API's list filters: a reference number,
// a number (the recipient's for sent faxes, the caller's for received ones) and a range
// of days. Days are the user's calendar days (the browser's time zone): "from 3 March
// to 5 March" is [3 March 00:00, 6 March 00:00) local time, sent as UTC instants.
export interface Filters {
  reference: string;
  number: string;
  fromDay: string; // yyyy-mm-dd from <input type=date>, or ''
  toDay: string;
}

export const noFilters: Filters = { reference: '', number: '', fromDay: '', toDay: '' };

export const isFiltered = (f: Filters) => Object.values(f).some((v) => v.trim() !== '');

function startOfDay(day: string, plusDays = 0): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).toISOString();
}

export function outboxQuery(f: Filters) {
  return {
    reference: f.reference.trim() || undefined,
    to: f.number.trim() || undefined,
    created_after: startOfDay(f.fromDay),
    created_before: startOfDay(f.toDay, 1),
  };
}

export function inboxQuery(f: Filters) {
  // The inbox matches part of the caller's number as digits (and +), as the line gave it.
  const digits = f.number.replace(/[^+0-9]/g, '');
  return {
    reference: f.reference.trim() || undefined,
    from: digits || undefined,
    received_after: startOfDay(f.fromDay),
    received_before: startOfDay(f.toDay, 1),
  };
}
