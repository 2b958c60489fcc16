// Bulk import of users from a CSV file, done in the browser: the file is parsed here
// (RFC 4180: commas, "quoted" fields with "" for a quote and line breaks inside, CRLF
// or LF) and each row becomes one POST /admin/users, so the server checks every field
// as it does for a user added by hand and a bad row names its line. The first line
// names the columns, by the API's field names (username, name, email, fax_number, …);
// an unknown column is refused before anything is sent.
import type { Schemas } from '../api/client';

export type UserFields = Schemas['AdminUserFields'];

export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1; // a spreadsheet's byte order mark
  for (; i < text.length; ++i) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        ++i;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') ++i;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  // Blank lines (a trailing newline, an empty line between) are no users.
  return rows.filter((r) => !(r.length === 1 && r[0].trim() === ''));
}

const kText = ['username', 'name', 'email', 'password', 'fax_number', 'phone', 'fax_to_email_address', 'cover_page',
  'language', 'company'] as const;
const kFlags = ['enable_send', 'enable_receive', 'fax_to_email', 'fax_to_email_attach', 'disabled'] as const;
export const kCsvColumns: readonly string[] = [...kText, 'level', ...kFlags];

export type ImportRow = { line: number; user: UserFields } | { line: number; error: string };

const flag = (v: string): boolean | undefined => {
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'y', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'n', 'off'].includes(s)) return false;
  return undefined;
};

// The users of a CSV file, each with its line (1 is the header); an empty cell leaves
// the field to the server's default. Throws when the header is unusable.
export function usersFromCsv(text: string): ImportRow[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new Error('the file is empty');
  const columns = header.map((h) => h.trim().toLowerCase());
  const unknown = columns.filter((c) => !kCsvColumns.includes(c));
  if (unknown.length > 0) throw new Error(`unknown column ${unknown.map((c) => `“${c}”`).join(', ')}`);
  if (!columns.includes('username')) throw new Error('no “username” column');
  return rows.map((cells, n) => {
    const line = n + 2;
    const user: Record<string, unknown> = {};
    for (let c = 0; c < columns.length; ++c) {
      const col = columns[c];
      const v = (cells[c] ?? '').trim();
      if (v === '') continue;
      if (col === 'level') {
        if (!['0', '2', '10'].includes(v)) return { line, error: `level “${v}” is not 0, 2 or 10` };
        user.level = Number(v);
      } else if ((kFlags as readonly string[]).includes(col)) {
        const b = flag(v);
        if (b === undefined) return { line, error: `${col} “${v}” is not yes or no` };
        user[col] = b;
      } else user[col] = v;
    }
    if (!user.username) return { line, error: 'no username' };
    return { line, user: user as UserFields };
  });
}
