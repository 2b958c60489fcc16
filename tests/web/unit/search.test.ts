// web/src/lib/search.ts and paged.ts: the search form as the API's filters, and the
// live first page merged with older pages.
import { inboxQuery, isFiltered, noFilters, outboxQuery } from '../../../web/src/lib/search';
import { merge } from '../../../web/src/lib/paged';

describe('search filters', () => {
  it('leave out what is empty', () => {
    expect(outboxQuery(noFilters)).toEqual({ reference: undefined, to: undefined, created_after: undefined, created_before: undefined });
    expect(isFiltered(noFilters)).toBe(false);
    expect(isFiltered({ ...noFilters, number: ' 4' })).toBe(true);
  });
  it('make a range of days the local days from the first to the end of the last', () => {
    const q = outboxQuery({ reference: ' 2026.00000012 ', number: '+39 02 403', fromDay: '2026-03-03', toDay: '2026-03-05' });
    expect(q.reference).toBe('2026.00000012');
    expect(q.to).toBe('+39 02 403');
    expect(q.created_after).toBe(new Date(2026, 2, 3).toISOString());
    expect(q.created_before).toBe(new Date(2026, 2, 6).toISOString());
    // The end of a month rolls over.
    expect(outboxQuery({ ...noFilters, toDay: '2026-02-28' }).created_before).toBe(new Date(2026, 2, 1).toISOString());
  });
  it('match the inbox caller by digits as the API takes them', () => {
    const q = inboxQuery({ ...noFilters, number: '+39 (02) 403', fromDay: '2026-12-31' });
    expect(q.from).toBe('+3902403');
    expect(q.received_after).toBe(new Date(2026, 11, 31).toISOString());
    expect(inboxQuery({ ...noFilters, number: ' - ' }).from).toBeUndefined();
  });
  it('ignore a day that is not yyyy-mm-dd', () => {
    expect(outboxQuery({ ...noFilters, fromDay: '03/03/2026' }).created_after).toBeUndefined();
  });
});

describe('merge', () => {
  it('keeps the live first page and the older pages without repeating a fax', () => {
    const live = [{ id: 9, s: 'new' }, { id: 8, s: 'moved' }];
    const older = [{ id: 8, s: 'stale' }, { id: 7, s: 'old' }];
    expect(merge(live, older)).toEqual([{ id: 9, s: 'new' }, { id: 8, s: 'moved' }, { id: 7, s: 'old' }]);
  });
});
