// Fax numbers as people type them, checked as they type: the same rules as the
// server's normalize_phone (libs/core/src/phone.cpp), so a number the form accepts is
// one the API accepts, and the message names what is wrong before anything is sent.
// The server stays the judge (it refuses with phone.* codes); this is for feedback.

export const kMaxPhoneDigits = 20; // libs/core/include/faxbridge/core/phone.hpp
const kInternationalPrefix = '00'; // DialPlan's default

export type NumberProblem =
  | { kind: 'empty' }
  | { kind: 'letter'; char: string }
  | { kind: 'character'; char: string }
  | { kind: 'plus' }
  | { kind: 'prefix_only' }
  | { kind: 'too_long'; digits: number };

export interface CheckedNumber {
  raw: string; // as typed, trimmed
  canonical: string | null; // "+390297865403" or "403"; null when refused
  problem: NumberProblem | null;
}

const kSeparators = new Set([' ', '\t', '.', '-', '(', ')', '[', ']', '/']);

export function checkNumber(input: string): CheckedNumber {
  const raw = input.trim();
  let digits = '';
  let plus = false;
  const refuse = (problem: NumberProblem): CheckedNumber => ({ raw, canonical: null, problem });
  for (const c of raw) {
    if (c >= '0' && c <= '9') digits += c;
    else if (c === '+') {
      if (plus || digits !== '') return refuse({ kind: 'plus' });
      plus = true;
    } else if (kSeparators.has(c)) continue;
    else if (/\p{L}/u.test(c)) return refuse({ kind: 'letter', char: c });
    else return refuse({ kind: 'character', char: c });
  }
  if (digits === '') return refuse({ kind: 'empty' });
  if (digits.length > kMaxPhoneDigits) return refuse({ kind: 'too_long', digits: digits.length });
  if (plus) return { raw, canonical: '+' + digits, problem: null };
  // The international prefix of the server's default dial plan; a home country (which
  // would also rewrite national numbers) is the server's to apply.
  if (digits.startsWith(kInternationalPrefix)) {
    const rest = digits.slice(kInternationalPrefix.length);
    if (rest === '') return refuse({ kind: 'prefix_only' });
    return { raw, canonical: '+' + rest, problem: null };
  }
  return { raw, canonical: digits, problem: null };
}

// Several numbers in one field: separated by commas, semicolons or new lines (not by
// spaces, which people write inside a number). Empty entries (a trailing comma) are
// dropped; the same number twice is kept once, as one fax to it is what was meant.
export function parseNumbers(text: string): CheckedNumber[] {
  const seen = new Set<string>();
  const out: CheckedNumber[] = [];
  for (const part of text.split(/[,;\n]/)) {
    if (part.trim() === '') continue;
    const n = checkNumber(part);
    const key = n.canonical ?? n.raw;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(n);
  }
  return out;
}
