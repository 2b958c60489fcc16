// The UI's only way to the server: fetch on /api/v1 with the session cookie, the CSRF
// token on every unsafe method, and problems (RFC 9457) turned into ApiError with the
// server's own sentence. Types come from schema.gen.ts, generated from
// docs/api/openapi.yaml by every build (npm run api-types), so a field renamed in the
// API fails the UI's type check instead of failing in a browser.
import type { components, paths } from './schema.gen';

export type Schemas = components['schemas'];
export type Caller = Schemas['Caller'];
export type Fax = Schemas['Fax'];
export type FaxWithAttempts = Schemas['FaxWithAttempts'];
export type InboxFax = Schemas['InboxFax'];
export type Preferences = Schemas['Preferences'];
export type UploadedFile = Schemas['File'];
export type NewFax = Schemas['NewFax'];
export type Problem = Schemas['Problem'];

// The JSON body of an operation's success answer, from the OpenAPI document.
export type Ok<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { 'application/json': infer T } } };
}
  ? T
  : never;

export type FaxPage = Ok<'/api/v1/faxes', 'get', 200>;
export type InboxPage = Ok<'/api/v1/inbox', 'get', 200>;
export type CoverPages = Ok<'/api/v1/cover-pages', 'get', 200>;
export type Me = Ok<'/api/v1/me', 'get', 200>;
export type SignedIn = Ok<'/api/v1/session', 'post', 201>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly problem: Problem | null,
  ) {
    super(detail);
  }
}

let csrfToken = '';
export const setCsrfToken = (t: string | undefined) => {
  csrfToken = t ?? '';
};

// Told when the session is gone (401), so the app shows the sign-in page.
let onSignedOut: () => void = () => {};
export const whenSignedOut = (f: () => void) => {
  onSignedOut = f;
};

export async function request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  const h = init.headers as Record<string, string>;
  if (method !== 'GET' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const json = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const p = (json ?? null) as Problem | null;
    if (res.status === 401 && !path.endsWith('/session')) onSignedOut();
    throw new ApiError(res.status, p?.code ?? 'http.' + res.status, p?.detail ?? res.statusText, p);
  }
  return json as T;
}

export const query = (q: Record<string, string | number | boolean | undefined>) => {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') s.set(k, String(v));
  const text = s.toString();
  return text ? '?' + text : '';
};

export const api = {
  me: () => request<Me>('GET', '/api/v1/me'),
  signIn: (username: string, password: string) =>
    request<SignedIn>('POST', '/api/v1/session', { username, password }),
  signOut: () => request<void>('DELETE', '/api/v1/session'),
  preferences: () => request<Preferences>('GET', '/api/v1/me/preferences'),
  updatePreferences: (p: Partial<Omit<Preferences, 'fax_to_email_delivers_to'>>) =>
    request<Preferences>('PATCH', '/api/v1/me/preferences', p),
  coverPages: () => request<CoverPages>('GET', '/api/v1/cover-pages'),
  upload: (file: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request<UploadedFile>('POST', '/api/v1/files', form);
  },
  // The key makes a retried click (a lost answer) one submission, not two.
  send: (fax: NewFax, idempotencyKey: string) =>
    request<Ok<'/api/v1/faxes', 'post', 201>>('POST', '/api/v1/faxes', fax, { 'Idempotency-Key': idempotencyKey }),
  faxes: (q: { reference?: string; limit?: number; cursor?: string }) =>
    request<FaxPage>('GET', '/api/v1/faxes' + query(q)),
  fax: (id: number) => request<FaxWithAttempts>('GET', `/api/v1/faxes/${id}`),
  cancel: (id: number) => request<Fax>('POST', `/api/v1/faxes/${id}/cancel`),
  resend: (id: number) => request<Ok<'/api/v1/faxes/{id}/resend', 'post', 201>>('POST', `/api/v1/faxes/${id}/resend`),
  inbox: (q: { reference?: string; limit?: number; cursor?: string }) =>
    request<InboxPage>('GET', '/api/v1/inbox' + query(q)),
  markRead: (id: number, read: boolean) =>
    request<InboxFax>('POST', `/api/v1/inbox/${id}/${read ? 'read' : 'unread'}`),
};

// Plain links (the browser sends the cookie; GETs need no CSRF token).
export const links = {
  inboxPdf: (id: number) => `/api/v1/inbox/${id}/file?format=pdf`,
  inboxPreview: (id: number, page: number, width = 240) => `/api/v1/inbox/${id}/pages/${page}/preview?width=${width}`,
  faxPreview: (id: number, page: number, width = 240) => `/api/v1/faxes/${id}/pages/${page}/preview?width=${width}`,
  coverPreview: (name: string, width = 400) => `/api/v1/cover-pages/${encodeURIComponent(name)}/preview?width=${width}`,
};
