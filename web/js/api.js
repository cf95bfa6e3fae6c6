// The HTTP API (docs/api.md) as the UI uses it. The bearer token lives in
// localStorage; every call sends it. Errors become ApiError with the status
// and the server's {"detail": {code, message}}.

const TOKEN_KEY = 'baton.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function newIdempotencyKey() {
  // crypto.randomUUID needs a secure context; getRandomValues works anywhere.
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class Api {
  constructor() {
    this.token = localStorage.getItem(TOKEN_KEY) || '';
    this.onUnauthenticated = () => {};
  }

  setToken(token) {
    this.token = token;
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  }

  headers(extra = {}) {
    const h = { ...extra };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    return h;
  }

  async request(method, path, { body, headers = {}, signal } = {}) {
    const init = { method, headers: this.headers(headers), signal, cache: 'no-store' };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    const response = await fetch(path, init);
    if (!response.ok) throw await errorFrom(response, this);
    if (response.status === 204) return null;
    return response.json();
  }

  authStatus() { return this.request('GET', '/auth/status'); }
  me() { return this.request('GET', '/auth/me'); }
  listSessions() { return this.request('GET', '/api/sessions'); }
  createSession() { return this.request('POST', '/api/session', { body: {} }); }
  getSession(id) { return this.request('GET', `/api/session/${encodeURIComponent(id)}`); }
  listRuns(id) { return this.request('GET', `/api/session/${encodeURIComponent(id)}/runs`); }
  deleteSession(id) {
    return this.request('DELETE', `/api/session/${encodeURIComponent(id)}`);
  }
  interrupt(id) { return this.request('POST', `/api/interrupt/${encodeURIComponent(id)}`); }

  // A turn or approval decisions, answered at once with {run_id, after_seq}.
  // The caller keeps `key` for retries: the server then returns the same run.
  chat(id, body, key, { enqueue = false } = {}) {
    const headers = { Prefer: 'respond-async', 'Idempotency-Key': key };
    if (enqueue) headers['X-Multitask'] = 'enqueue';
    return this.request('POST', `/api/chat/${encodeURIComponent(id)}`, { body, headers });
  }
}

async function errorFrom(response, api) {
  let code = 'http_' + response.status;
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    if (body && body.detail) {
      code = body.detail.code || code;
      message = body.detail.message || message;
    }
  } catch {
    // Not JSON (a proxy's error page): keep the status line.
  }
  if (response.status === 401) api.onUnauthenticated(message);
  return new ApiError(response.status, code, message);
}
