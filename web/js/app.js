// The baton web UI: sign-in, the session list, and the chat view of one
// session, kept live by following its event log (event_stream.js).
//
// How a session is shown: its whole event log is replayed from seq 0 into
// ChatView, and the run list supplies each turn's user text, so the view
// after a reload is the same as the one built live. The stream then stays
// open (follow=1) and resumes with Last-Event-ID after any disconnect.

import { Api, ApiError, newIdempotencyKey } from './api.js';
import { ChatView, isTerminal } from './chat_view.js';
import { EventStream } from './event_stream.js';

const $ = (id) => document.getElementById(id);
const SEEN_KEY = 'baton.seen';  // session id -> last seq shown (the sidebar's "new" marker)
const ACTIVE_STATES = new Set(['queued', 'processing']);

const api = new Api();
const state = {
  authEnabled: true,
  me: null,
  sessions: [],
  sessionId: null,
  session: null,  // GET /api/session/{id}
  stream: null,
  queue: Promise.resolve(),  // events are applied one at a time, in order
  listTimer: null,
  sentRuns: new Set(),  // runs this page started: only their completion may title a session
};

const view = new ChatView($('transcript'), {
  onDecide: (decisions) => sendApprovals(decisions),
  onRetry: (text) => sendText(text),
});

// --- sign-in -------------------------------------------------------------------

async function boot() {
  api.onUnauthenticated = (message) => showSignIn(`Signed out: ${message}`);
  try {
    const status = await api.authStatus();
    state.authEnabled = !!status.auth_enabled;
  } catch (e) {
    showSignIn(`Cannot reach the server: ${e.message}`);
    return;
  }
  if (state.authEnabled && !api.token) return showSignIn('');
  try {
    state.me = await api.me();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) showSignIn(e.message);
    return;
  }
  showApp();
}

function showSignIn(message) {
  closeSession();
  clearInterval(state.listTimer);
  api.setToken('');
  $('app').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message || '';
  $('token-input').value = '';
  $('token-input').focus();
}

$('signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = $('token-input').value.trim();
  if (!token) {
    $('signin-error').textContent = 'Enter your API token.';
    return;
  }
  api.setToken(token);
  try {
    state.me = await api.me();
  } catch (err) {
    api.setToken('');
    $('signin-error').textContent =
      err instanceof ApiError && err.status === 401 ? 'That token was not accepted.' : err.message;
    return;
  }
  showApp();
});

$('signout-button').addEventListener('click', () => showSignIn(''));

// --- the app shell ---------------------------------------------------------------

function showApp() {
  $('signin').hidden = true;
  $('app').hidden = false;
  $('user-name').textContent = state.me ? state.me.username : '';
  $('signout-button').hidden = !state.authEnabled;
  refreshSessions();
  clearInterval(state.listTimer);
  state.listTimer = setInterval(() => {
    if (document.visibilityState === 'visible') refreshSessions();
  }, 10_000);
  const m = location.pathname.match(/^\/s\/([^/]+)$/);
  if (m) openSession(decodeURIComponent(m[1]), false);
  else showEmpty();
}

function showEmpty() {
  closeSession();
  $('empty-state').hidden = false;
  $('transcript').hidden = true;
  $('composer').hidden = true;
  $('session-title').textContent = '';
  setRunState('');
  setConnection('idle');
}

window.addEventListener('popstate', () => {
  if ($('app').hidden) return;
  const m = location.pathname.match(/^\/s\/([^/]+)$/);
  if (m) openSession(decodeURIComponent(m[1]), false);
  else showEmpty();
});

$('menu-button').addEventListener('click', () => toggleSidebar());

function toggleSidebar(open) {
  const sidebar = $('sidebar');
  const next = open ?? !sidebar.classList.contains('open');
  sidebar.classList.toggle('open', next);
  $('menu-button').setAttribute('aria-expanded', String(next));
  if (next) $('new-session').focus();
}

// --- the session list --------------------------------------------------------------

// One list request at a time; a refresh asked for while one is in flight
// runs after it (that one may have been answered before the change), and
// any number of such requests share that one follow-up.
let listInFlight = null;
let listQueued = null;
function refreshSessions() {
  const run = () => {
    listInFlight = api.listSessions()
      .then((list) => {
        state.sessions = Array.isArray(list) ? list : (list.sessions || []);
        renderSessions();
      })
      .catch(() => { /* the next refresh tries again; 401 signs out by itself */ })
      .finally(() => { listInFlight = null; });
    return listInFlight;
  };
  if (!listInFlight) return run();
  listQueued ??= listInFlight.then(() => {
    listQueued = null;
    return run();
  });
  return listQueued;
}

function seenSeqs() {
  try {
    return JSON.parse(localStorage.getItem(SEEN_KEY) || '{}');
  } catch {
    return {};
  }
}

function rememberSeq(id, seq) {
  const seen = seenSeqs();
  if ((seen[id] || 0) >= seq) return;
  seen[id] = seq;
  localStorage.setItem(SEEN_KEY, JSON.stringify(seen));
}

let renderedList = '';
function renderSessions() {
  const list = $('session-list');
  const seen = seenSeqs();
  // Rebuild only when something shown changed: a click must not land on a
  // button that is being replaced.
  const shown = JSON.stringify([state.sessionId, state.sessions.map((s) => [s.session_id, s.title,
    s.runtime_state, s.updated_at, s.last_event_seq, seen[s.session_id] || 0,
    relativeTime(s.updated_at || s.created_at)])]);
  if (shown === renderedList) return;
  renderedList = shown;
  list.replaceChildren();
  $('session-list-empty').hidden = state.sessions.length > 0;
  for (const s of state.sessions) {
    const item = document.createElement('li');
    item.className = 'session-item';
    item.dataset.sessionId = s.session_id;
    if (s.session_id === state.sessionId) item.classList.add('current');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'session-open';
    if (s.session_id === state.sessionId) open.setAttribute('aria-current', 'page');
    const title = document.createElement('span');
    title.className = 'session-name';
    title.textContent = s.title || 'New session';
    const meta = document.createElement('span');
    meta.className = 'session-meta';
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.dataset.state = s.runtime_state;
    badge.textContent = stateLabel(s.runtime_state);
    const time = document.createElement('time');
    time.dateTime = s.updated_at || s.created_at || '';
    time.textContent = relativeTime(s.updated_at || s.created_at);
    meta.append(badge, time);
    if (s.session_id !== state.sessionId && (s.last_event_seq || 0) > (seen[s.session_id] || 0)) {
      const dot = document.createElement('span');
      dot.className = 'unread';
      dot.textContent = 'new';
      meta.append(dot);
    }
    open.append(title, meta);
    open.addEventListener('click', () => {
      toggleSidebar(false);
      openSession(s.session_id, true);
    });
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'icon-button session-delete';
    del.setAttribute('aria-label', `Delete session ${s.title || s.session_id}`);
    del.textContent = '×';
    del.addEventListener('click', () => deleteSession(s));
    item.append(open, del);
    list.append(item);
  }
}

$('new-session').addEventListener('click', async () => {
  try {
    const created = await api.createSession();
    await refreshSessions();
    toggleSidebar(false);
    await openSession(created.session_id, true);
    $('message-input').focus();
  } catch (e) {
    setStatus(`Could not create a session: ${e.message}`);
  }
});

async function deleteSession(s) {
  if (!confirm(`Delete the session "${s.title || 'New session'}"? Its running turn is stopped.`)) {
    return;
  }
  try {
    await api.deleteSession(s.session_id);
  } catch (e) {
    setStatus(`Could not delete: ${e.message}`);
    return;
  }
  if (s.session_id === state.sessionId) {
    history.pushState(null, '', '/');
    showEmpty();
  }
  refreshSessions();
}

// --- one session -------------------------------------------------------------------

function closeSession() {
  if (state.stream) state.stream.close();
  state.stream = null;
  state.sessionId = null;
  state.session = null;
  state.queue = Promise.resolve();
}

async function openSession(id, push) {
  closeSession();
  state.sessionId = id;
  if (push) history.pushState(null, '', `/s/${encodeURIComponent(id)}`);
  view.reset();
  $('empty-state').hidden = true;
  $('transcript').hidden = false;
  $('composer').hidden = false;
  renderSessions();
  let session;
  let runs;
  try {
    [session, runs] = await Promise.all([api.getSession(id), api.listRuns(id)]);
  } catch (e) {
    if (state.sessionId !== id) return;
    $('transcript').replaceChildren();
    setStatus(e instanceof ApiError && e.status === 404 ? 'No such session.' : e.message);
    $('composer').hidden = true;
    return;
  }
  if (state.sessionId !== id) return;
  view.setRuns(Array.isArray(runs) ? runs : (runs.runs || []));
  applySession(session);
  if (push) $('message-input').focus();
  // Runs still queued have no events yet: show them as queued turns now.
  for (const run of [...view.runs.values()].reverse()) {
    if (run.status === 'queued' && run.operation?.type === 'user_input') {
      view.ensureTurn(run.run_id).setQueued(true);
    }
  }
  state.stream = new EventStream(api, id, 0, {
    onEvent: (ev) => enqueueEvent(id, ev),
    onState: (s, attempt) => setConnection(s, attempt),
    onFatal: (err) => {
      setConnection('idle');
      if (err.status === 404) setStatus('This session no longer exists.');
    },
  });
}

function applySession(session) {
  state.session = session;
  $('session-title').textContent = session.title || 'New session';
  document.title = `${session.title || 'New session'} · baton`;
  setRunState(session.runtime_state);
  view.setPendingApprovals(session.pending_approvals);
}

async function refreshSession() {
  const id = state.sessionId;
  if (!id) return;
  try {
    const session = await api.getSession(id);
    if (state.sessionId === id) applySession(session);
  } catch {
    // The stream reports a deleted session; other errors are retried by the next event.
  }
}

function enqueueEvent(id, ev) {
  state.queue = state.queue.then(() => applyEvent(id, ev)).catch((e) => console.error(e));
}

async function applyEvent(id, ev) {
  if (state.sessionId !== id) return;
  if (!view.hasRun(ev.run_id) && ev.run_id) {
    // A run this page did not start (another tab, a retry): fetch its user text.
    try {
      const run = await fetchRun(ev.run_id);
      view.setRuns([run]);
    } catch {
      // Shown without the user's text.
    }
    if (state.sessionId !== id) return;
  }
  view.applyEvent(ev);
  rememberSeq(id, ev.seq);
  scrollToEnd();
  switch (ev.event_type) {
    case 'processing':
      setRunState('processing');
      setStatus('Working…');
      refreshSessions();
      break;
    case 'assistant_chunk':
      setStatus('Assistant is responding…');
      break;
    case 'title':
      $('session-title').textContent = ev.data?.title || 'New session';
      refreshSessions();
      break;
    default:
      break;
  }
  if (isTerminal(ev.event_type)) {
    setStatus({ approval_required: 'Waiting for your approval.', turn_complete: 'Answer complete.' }[
      ev.event_type] || '');
    await refreshSession();
    if (ev.event_type === 'turn_complete' && state.sentRuns.has(ev.run_id)) {
      await titleIfUntitled(id, ev.run_id);
    }
    refreshSessions();
  }
}

// The agent may title a session itself (a `title` event); when a turn this
// page sent completes and the session still has none, ask the server for one
// from the first message (POST /api/title), so the sidebar is not a list of
// "New session".
async function titleIfUntitled(id, runId) {
  if (!state.session || state.session.title || state.sessionId !== id) return;
  const text = view.runs.get(runId)?.operation?.payload?.text;
  if (!text) return;
  try {
    const { title } = await api.request('POST', '/api/title', { body: { session_id: id, text } });
    if (state.sessionId === id && title) {
      state.session.title = title;
      $('session-title').textContent = title;
      document.title = `${title} · baton`;
    }
  } catch {
    // Untitled is fine.
  }
}

async function fetchRun(runId) {
  return api.request('GET', `/api/runs/${encodeURIComponent(runId)}`);
}

// --- sending ------------------------------------------------------------------------

$('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const input = $('message-input');
  const text = input.value;
  if (!text.trim()) return;
  input.value = '';
  sendText(text);
});

$('message-input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $('composer').requestSubmit();
  }
});

document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && $('sidebar').classList.contains('open')) {
    toggleSidebar(false);
    $('menu-button').focus();
    return;
  }
  if (e.key === 'Escape' && state.session && ACTIVE_STATES.has(state.session.runtime_state)) {
    e.preventDefault();
    interrupt();
  }
});

$('interrupt-button').addEventListener('click', () => interrupt());

// POSTs with retries under one Idempotency-Key: a request that reached the
// server but whose answer was lost returns the same run the second time.
async function postWithRetry(id, body, options) {
  const key = newIdempotencyKey();
  for (let attempt = 0; ; attempt++) {
    try {
      return await api.chat(id, body, key, options);
    } catch (e) {
      if (e instanceof ApiError || attempt >= 4) throw e;
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
}

async function sendText(text) {
  const id = state.sessionId;
  if (!id) return;
  const turn = view.addLocalTurn(text);
  scrollToEnd(true);
  try {
    const accepted = await postWithRetry(id, { text }, { enqueue: true });
    if (state.sessionId !== id) return;
    state.sentRuns.add(accepted.run_id);
    view.bindLocalTurn(turn, {
      run_id: accepted.run_id,
      status: 'queued',
      operation: { type: 'user_input', payload: { text } },
    });
    if (!state.session || state.session.runtime_state === 'idle' ||
        state.session.runtime_state === 'interrupted') {
      setRunState('queued');
    }
    refreshSessions();
  } catch (e) {
    if (state.sessionId === id) view.failLocalTurn(turn, e.message);
  }
}

async function sendApprovals(decisions) {
  const id = state.sessionId;
  await postWithRetry(id, { approvals: decisions }, { enqueue: false });
  if (state.sessionId === id) setRunState('queued');
}

async function interrupt() {
  const id = state.sessionId;
  if (!id) return;
  setStatus('Interrupting…');
  try {
    await api.interrupt(id);
  } catch (e) {
    setStatus(`Could not interrupt: ${e.message}`);
  }
}

// --- status display -----------------------------------------------------------------

function stateLabel(s) {
  return {
    idle: 'idle', queued: 'queued', processing: 'running', waiting_approval: 'needs approval',
    interrupted: 'interrupted', ended: 'ended',
  }[s] || s || '';
}

function setRunState(s) {
  if (state.session && s) state.session.runtime_state = s;
  const badge = $('run-state');
  badge.dataset.state = s || '';
  badge.textContent = stateLabel(s);
  badge.hidden = !s;
  $('interrupt-button').hidden = !ACTIVE_STATES.has(s);
  $('message-input').disabled = s === 'ended';
}

function setConnection(s, attempt) {
  const node = $('connection');
  node.dataset.state = s;
  node.textContent = {
    idle: '', connecting: 'Connecting…', live: 'Live',
    reconnecting: attempt > 1 ? `Reconnecting… (attempt ${attempt})` : 'Reconnecting…',
  }[s] ?? '';
  if (s === 'reconnecting') setStatus('Connection lost; reconnecting…');
  else if (s === 'live' && $('status').textContent.startsWith('Connection lost')) setStatus('');
}

function setStatus(text) {
  $('status').textContent = text;
}

function scrollToEnd(force = false) {
  const chat = $('transcript');
  const nearBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 160;
  if (force || nearBottom) chat.scrollTop = chat.scrollHeight;
}

function relativeTime(iso) {
  if (!iso) return '';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 60) return 'just now';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

boot();
