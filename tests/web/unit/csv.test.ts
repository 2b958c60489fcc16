// web/src/lib/csv.ts: CSV as spreadsheets write it, and rows turned into users.
import { parseCsv, usersFromCsv } from '../../../web/src/lib/csv';

describe('parseCsv', () => {
  it('splits fields and lines, CRLF or LF, without blank lines', () => {
    expect(parseCsv('a,b\r\nc,d\n\ne,\n')).toEqual([['a', 'b'], ['c', 'd'], ['e', '']]);
  });
  it('keeps commas, quotes and line breaks inside quoted fields', () => {
    expect(parseCsv('"Rossi, Alice","say ""hi""","two\nlines"')).toEqual([['Rossi, Alice', 'say "hi"', 'two\nlines']]);
  });
  it('drops a byte order mark', () => {
    expect(parseCsv('\ufeffusername\nbob')).toEqual([['username'], ['bob']]);
  });
});

describe('usersFromCsv', () => {
  it('maps columns to fields, levels to numbers and yes/no to booleans', () => {
    const rows = usersFromCsv('Username,Name,fax_number,level,enable_send\ncarla,"Bianchi, Carla",401,10,no\ndan,,,,\n');
    expect(rows).toEqual([
      { line: 2, user: { username: 'carla', name: 'Bianchi, Carla', fax_number: '401', level: 10, enable_send: false } },
      { line: 3, user: { username: 'dan' } },
    ]);
  });
  it('names the line of a bad row and goes on', () => {
    const rows = usersFromCsv('username,level,disabled\na,5,\n,2,\nb,2,maybe\nc,0,yes');
    expect(rows).toEqual([
      { line: 2, error: 'level “5” is not 0, 2 or 10' },
      { line: 3, error: 'no username' },
      { line: 4, error: 'disabled “maybe” is not yes or no' },
      { line: 5, user: { username: 'c', level: 0, disabled: true } },
    ]);
  });
  it('refuses an unknown column or a file without usernames', () => {
    expect(() => usersFromCsv('username,shoe_size\na,42')).toThrow('unknown column “shoe_size”');
    expect(() => usersFromCsv('name\nAlice')).toThrow('no “username” column');
    expect(() => usersFromCsv('')).toThrow('the file is empty');
  });
});
