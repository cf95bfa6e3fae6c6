// The transcript of one session, built from its event log: one <section> per
// run (the user's message from the run's operation, then what the run did),
// updated in place as events arrive. Holds no network code: app.js feeds it
// events in seq order and receives the user's decisions through callbacks.

import { renderMarkdown } from './markdown.js';

const OPERATION_NOTES = {
  exec_approval: 'Approval decisions sent',
  undo: 'Undo requested',
  compact: 'Compaction requested',
  truncate: 'Truncation requested',
  shutdown: 'Shutdown requested',
  interrupt: 'Interrupt requested',
};

export class ChatView {
  // callbacks: {onDecide(decisions) -> Promise, onRetry(text)}
  constructor(container, callbacks) {
    this.container = container;
    this.callbacks = callbacks;
    this.reset();
  }

  reset() {
    this.container.replaceChildren();
    this.turns = new Map();  // run_id -> turn state
    this.runs = new Map();   // run_id -> run (operation, status)
    this.toolArgs = new Map();  // tool_call_id -> {tool, arguments}
    this.blocksById = new Map();  // tool_call_id -> its blocks, in every turn
    this.cards = [];            // approval rows: {id, row, setInactive}
    this.pendingIds = new Set();
    this.renderQueued = new Set();
  }

  setRuns(runs) {
    for (const run of runs) this.runs.set(run.run_id, run);
  }

  hasRun(runId) {
    return this.runs.has(runId);
  }

  // The text of the newest user_input run shown, for retry.
  lastUserText() {
    let text = null;
    for (const turn of this.turns.values()) if (turn.userText != null) text = turn.userText;
    return text;
  }

  // A turn the user just sent, shown before the server has answered.
  addLocalTurn(text) {
    const turn = this.createTurn(null, { type: 'user_input', payload: { text } });
    turn.setQueued(true);
    return turn;
  }

  // Binds a local turn to the run the server created for it.
  bindLocalTurn(turn, run) {
    this.runs.set(run.run_id, run);
    if (this.turns.has(run.run_id)) {
      turn.section.remove();  // its events arrived first and built it already
      return;
    }
    turn.runId = run.run_id;
    turn.section.dataset.runId = run.run_id;
    this.turns.set(run.run_id, turn);
  }

  failLocalTurn(turn, message) {
    turn.setQueued(false);
    this.addNotice(turn, 'error', `Not sent: ${message}`, true);
  }

  // Active approval rows are the ones whose tool_call_id is pending now.
  setPendingApprovals(pending) {
    this.pendingIds = new Set((pending || []).map((p) => p.tool_call_id));
    for (const card of this.cards) card.refresh();
  }

  applyEvent(ev) {
    const data = ev.data || {};
    const turn = this.ensureTurn(ev.run_id);
    turn.setQueued(false);
    switch (ev.event_type) {
      case 'processing':
        turn.setWorking(true);
        break;
      case 'assistant_chunk':
        this.appendChunk(turn, String(data.content ?? ''));
        break;
      case 'assistant_stream_end':
        break;
      case 'assistant_message':
        this.finishMessage(turn, String(data.content ?? ''));
        break;
      case 'tool_call':
        this.toolArgs.set(data.tool_call_id, { tool: data.tool, arguments: data.arguments });
        this.toolBlock(turn, data.tool_call_id, data.tool);
        break;
      case 'tool_output': {
        const block = this.toolBlock(turn, data.tool_call_id, data.tool);
        block.output(String(data.output ?? ''), data.success !== false);
        break;
      }
      case 'tool_log':
        this.logBlock(turn, data.tool).log(String(data.log ?? ''));
        break;
      case 'tool_state_change':
        this.toolBlock(turn, data.tool_call_id, data.tool).state(data.state);
        // The block of the turn that proposed the call shows its fate too.
        for (const block of this.blocksById.get(data.tool_call_id) || []) block.state(data.state);
        for (const card of this.cards) if (card.id === data.tool_call_id) card.decided(data.state);
        break;
      case 'approval_required':
        for (const t of data.tools || []) {
          this.toolArgs.set(t.tool_call_id, { tool: t.tool, arguments: t.arguments });
        }
        this.approvalCard(turn, data.tools || []);
        break;
      case 'plan_update':
        this.planBlock(turn, data.plan);
        break;
      case 'turn_complete':
        break;
      case 'title':
        break;
      case 'error':
        this.addNotice(turn, 'error', `Error: ${data.error || 'the run failed'}` +
          (data.code ? ` (${data.code})` : ''), true);
        break;
      case 'interrupted':
        this.addNotice(turn, 'interrupted', `Interrupted (${data.reason || 'unknown'})`, true);
        break;
      case 'compacted':
        this.addNotice(turn, 'info', `Conversation compacted (${data.old_tokens ?? '?'} → ` +
          `${data.new_tokens ?? '?'} tokens)`);
        break;
      case 'undo_complete':
        this.addNotice(turn, 'info', 'Last turn undone');
        break;
      case 'truncated':
        this.addNotice(turn, 'info', `History truncated to ${data.history_size ?? '?'} messages`);
        break;
      case 'shutdown':
        this.addNotice(turn, 'info', 'Session ended');
        break;
      default:
        break;
    }
    if (TERMINAL.has(ev.event_type)) {
      turn.setWorking(false);
      if (turn.streaming) {
        // The run ended without a final message: keep what streamed, marked
        // as cut short when the run was stopped or failed.
        this.renderQueued.delete(turn.streaming);
        const { node, text } = turn.streaming;
        node.classList.remove('streaming');
        if (['error', 'interrupted', 'shutdown'].includes(ev.event_type)) {
          node.classList.add('cut-short');
        }
        node.replaceChildren(renderMarkdown(text));
        turn.streaming = null;
      }
    }
  }

  // --- turns ---------------------------------------------------------------

  ensureTurn(runId) {
    const existing = this.turns.get(runId);
    if (existing) return existing;
    const run = this.runs.get(runId);
    return this.createTurn(runId, run ? run.operation : null);
  }

  createTurn(runId, operation) {
    // A new turn supersedes older retry offers.
    for (const b of this.container.querySelectorAll('.retry')) b.remove();
    const section = el('section', 'turn');
    if (runId) section.dataset.runId = runId;
    const turn = {
      runId, section, streaming: null, userText: null, working: null, queuedBadge: null,
      tools: new Map(), logs: new Map(),
      setQueued: (queued) => {
        if (!queued && turn.queuedBadge) {
          turn.queuedBadge.remove();
          turn.queuedBadge = null;
        } else if (queued && !turn.queuedBadge && turn.bubble) {
          turn.queuedBadge = el('span', 'badge queued', 'Queued');
          turn.bubble.append(turn.queuedBadge);
        }
      },
      setWorking: (working) => {
        if (working && !turn.working) {
          turn.working = el('p', 'working', 'Working…');
          section.append(turn.working);
        } else if (!working && turn.working) {
          turn.working.remove();
          turn.working = null;
        }
      },
    };
    if (operation && operation.type === 'user_input') {
      turn.userText = String(operation.payload?.text ?? '');
      turn.bubble = el('div', 'message user');
      turn.bubble.setAttribute('aria-label', 'You');
      const body = el('div', 'message-body');
      body.textContent = turn.userText;
      turn.bubble.append(body);
      section.append(turn.bubble);
    } else if (operation) {
      section.append(el('p', 'operation-note', OPERATION_NOTES[operation.type] || operation.type));
    }
    // Turns stay in the order their runs were created, also when a queued
    // run is shown before the replay has reached the runs ahead of it.
    const created = this.runs.get(runId)?.created_at;
    let before = null;
    if (created) {
      for (const other of this.turns.values()) {
        const at = this.runs.get(other.runId)?.created_at;
        if (at && at > created && other.section.parentNode === this.container &&
            (!before || other.section.compareDocumentPosition(before) &
              Node.DOCUMENT_POSITION_FOLLOWING)) {
          before = other.section;
        }
      }
    }
    this.container.insertBefore(section, before);
    if (runId) this.turns.set(runId, turn);
    return turn;
  }

  // Inserts before the turn's "Working…" line, so it stays last.
  place(turn, node) {
    if (turn.working) turn.section.insertBefore(node, turn.working);
    else turn.section.append(node);
  }

  appendChunk(turn, content) {
    if (!turn.streaming) {
      const node = el('div', 'message assistant streaming');
      node.setAttribute('aria-label', 'Assistant');
      turn.streaming = { node, text: '' };
      this.place(turn, node);
    }
    turn.streaming.text += content;
    this.scheduleRender(turn.streaming);
  }

  finishMessage(turn, content) {
    let node;
    if (turn.streaming) {
      node = turn.streaming.node;
      this.renderQueued.delete(turn.streaming);
    } else {
      node = el('div', 'message assistant');
      node.setAttribute('aria-label', 'Assistant');
      this.place(turn, node);
    }
    node.classList.remove('streaming');
    node.replaceChildren(renderMarkdown(content));
    turn.streaming = null;
  }

  // Re-renders streaming text at most once a frame.
  scheduleRender(streaming) {
    if (this.renderQueued.has(streaming)) return;
    this.renderQueued.add(streaming);
    requestAnimationFrame(() => {
      if (!this.renderQueued.delete(streaming)) return;
      streaming.node.replaceChildren(renderMarkdown(streaming.text));
    });
  }

  addNotice(turn, kind, text, retry = false) {
    const notice = el('div', `notice ${kind}`);
    notice.setAttribute('role', kind === 'error' ? 'alert' : 'note');
    notice.append(el('span', '', text));
    const retryText = turn.userText ?? this.lastUserText();
    if (retry && retryText != null) {
      const button = el('button', 'retry', 'Retry');
      button.type = 'button';
      button.addEventListener('click', () => {
        button.remove();
        this.callbacks.onRetry(retryText);
      });
      notice.append(button);
    }
    this.place(turn, notice);
  }

  // --- tools ---------------------------------------------------------------

  toolBlock(turn, id, tool) {
    const key = id || `tool-${turn.tools.size}`;
    const existing = turn.tools.get(key);
    if (existing) return existing;
    const known = this.toolArgs.get(id) || {};
    const details = el('details', 'tool');
    details.dataset.toolCallId = id || '';
    const summary = el('summary');
    summary.append(el('span', 'tool-name', known.tool || tool || 'tool'));
    const stateBadge = el('span', 'badge tool-state', 'called');
    summary.append(stateBadge);
    details.append(summary);
    const body = el('div', 'tool-body');
    if (known.arguments !== undefined) {
      body.append(el('h4', '', 'Arguments'));
      body.append(el('pre', 'tool-arguments', pretty(known.arguments)));
    }
    details.append(body);
    this.place(turn, details);
    let logPre = null;
    const block = {
      tool: known.tool || tool,
      log: (line) => {
        if (!logPre) {
          body.append(el('h4', '', 'Log'));
          logPre = el('pre', 'tool-log');
          body.append(logPre);
        }
        logPre.append(document.createTextNode(line.endsWith('\n') ? line : line + '\n'));
      },
      output: (text, success) => {
        body.append(el('h4', '', success ? 'Output' : 'Output (failed)'));
        const pre = el('pre', success ? 'tool-output' : 'tool-output failed', text);
        body.append(pre);
        // A rejected or cancelled call's output explains why: keep that state.
        if (!['rejected', 'cancelled', 'abandoned'].includes(stateBadge.dataset.state)) {
          stateBadge.textContent = success ? 'completed' : 'failed';
          stateBadge.dataset.state = stateBadge.textContent;
        }
      },
      state: (state) => {
        stateBadge.textContent = state;
        stateBadge.dataset.state = state;
      },
    };
    turn.tools.set(key, block);
    if (id) this.blocksById.set(id, [...(this.blocksById.get(id) || []), block]);
    return block;
  }

  // tool_log names the tool but not the call: the log goes to this turn's
  // latest block of that tool, or to a block of its own.
  logBlock(turn, tool) {
    const blocks = [...turn.tools.values()].filter((b) => b.tool === tool);
    if (blocks.length) return blocks[blocks.length - 1];
    const existing = turn.logs.get(tool);
    if (existing) return existing;
    const details = el('details', 'tool tool-logs');
    const summary = el('summary');
    summary.append(el('span', 'tool-name', `${tool || 'tool'} log`));
    details.append(summary);
    const pre = el('pre', 'tool-log');
    details.append(pre);
    this.place(turn, details);
    const block = { log: (line) => pre.append(document.createTextNode(line.endsWith('\n') ? line : line + '\n')) };
    turn.logs.set(tool, block);
    return block;
  }

  planBlock(turn, plan) {
    const box = el('div', 'plan');
    box.append(el('h4', '', 'Plan'));
    if (Array.isArray(plan)) {
      const list = el('ol');
      for (const step of plan) {
        const text = typeof step === 'string' ? step
          : step.step || step.content || step.title || JSON.stringify(step);
        const item = el('li', '', text);
        if (step && step.status) item.dataset.status = step.status;
        list.append(item);
      }
      box.append(list);
    } else {
      box.append(renderMarkdown(typeof plan === 'string' ? plan : pretty(plan)));
    }
    this.place(turn, box);
  }

  // --- approvals -------------------------------------------------------------

  approvalCard(turn, tools) {
    const card = el('div', 'approval-card');
    card.setAttribute('role', 'group');
    card.setAttribute('aria-label', 'Approval required');
    card.append(el('h3', '', tools.length === 1 ? 'Approval required'
      : `Approval required for ${tools.length} tool calls`));
    const decisions = new Map();
    const rows = [];
    const submitIfComplete = async () => {
      if (decisions.size < rows.length) return;
      for (const r of rows) r.setBusy(true);
      error.textContent = '';
      try {
        await this.callbacks.onDecide([...decisions.values()]);
        for (const r of rows) {
          const d = decisions.get(r.id);
          r.decided(d.approved ? (d.edited_arguments ? 'approved (edited)' : 'approved')
            : 'rejected');
        }
      } catch (e) {
        error.textContent = `Could not send: ${e.message}`;
        decisions.clear();
        for (const r of rows) r.setBusy(false);
      }
    };
    for (const tool of tools) {
      const row = this.approvalRow(tool, (decision) => {
        decisions.set(tool.tool_call_id, decision);
        submitIfComplete();
      });
      rows.push(row);
      card.append(row.node);
    }
    const error = el('p', 'form-error');
    error.setAttribute('role', 'alert');
    card.append(error);
    this.place(turn, card);
    for (const row of rows) {
      this.cards.push(row);
      row.refresh();
    }
  }

  approvalRow(tool, decide) {
    const id = tool.tool_call_id;
    const node = el('div', 'approval-row');
    node.dataset.toolCallId = id;
    const title = el('p', 'approval-tool');
    title.append(el('strong', '', tool.tool), document.createTextNode(' wants to run with:'));
    node.append(title);
    const args = el('pre', 'tool-arguments', pretty(tool.arguments));
    node.append(args);

    const editor = el('div', 'approval-editor');
    editor.hidden = true;
    const editLabel = el('label', '', 'Edited arguments (JSON)');
    const editArea = el('textarea', 'approval-edit');
    editArea.rows = 4;
    editArea.spellcheck = false;
    editArea.value = pretty(tool.arguments);
    editArea.id = `edit-${id}`;
    editLabel.htmlFor = editArea.id;
    editor.append(editLabel, editArea);
    node.append(editor);

    const feedbackLabel = el('label', '', 'Feedback for the agent (optional)');
    const feedback = el('input', 'approval-feedback');
    feedback.type = 'text';
    feedback.id = `feedback-${id}`;
    feedbackLabel.htmlFor = feedback.id;
    node.append(feedbackLabel, feedback);

    const buttons = el('div', 'approval-actions');
    const approve = button('Approve', 'primary approve');
    const edit = button('Edit arguments', 'edit');
    const reject = button('Reject', 'danger reject');
    buttons.append(approve, edit, reject);
    node.append(buttons);
    const status = el('p', 'approval-status');
    node.append(status);
    const error = el('p', 'form-error');
    error.setAttribute('role', 'alert');
    node.append(error);

    let decidedState = null;
    edit.addEventListener('click', () => {
      editor.hidden = !editor.hidden;
      edit.setAttribute('aria-expanded', String(!editor.hidden));
      if (!editor.hidden) editArea.focus();
    });
    approve.addEventListener('click', () => {
      const decision = { tool_call_id: id, approved: true };
      if (!editor.hidden) {
        try {
          const edited = JSON.parse(editArea.value);
          if (!edited || typeof edited !== 'object' || Array.isArray(edited)) {
            throw new Error('they must be one JSON object');
          }
          if (JSON.stringify(edited) !== JSON.stringify(tool.arguments)) {
            decision.edited_arguments = edited;
          }
        } catch (e) {
          error.textContent = `The edited arguments are not valid JSON: ${e.message}`;
          editArea.focus();
          return;
        }
      }
      if (feedback.value.trim()) decision.feedback = feedback.value.trim();
      error.textContent = '';
      status.textContent = 'Approving…';
      decide(decision);
    });
    reject.addEventListener('click', () => {
      const decision = { tool_call_id: id, approved: false };
      if (feedback.value.trim()) decision.feedback = feedback.value.trim();
      error.textContent = '';
      status.textContent = 'Rejecting…';
      decide(decision);
    });

    const controls = [approve, edit, reject, feedback, editArea];
    const row = {
      id, node,
      setBusy: (busy) => {
        for (const c of controls) c.disabled = busy;
        if (!busy) status.textContent = '';
      },
      decided: (state) => {
        if (/^(approved|rejected)/.test(state) && !decidedState) decidedState = state;
        row.refresh();
      },
      refresh: () => {
        const active = this.pendingIds.has(id) && !decidedState;
        node.classList.toggle('inactive', !active);
        for (const c of controls) c.disabled = !active;
        buttons.hidden = !active;
        feedback.hidden = !active;
        feedbackLabel.hidden = !active;
        if (!active) {
          editor.hidden = true;
          status.textContent = decidedState ? `Decision: ${decidedState}` : 'No longer pending';
          status.dataset.state = decidedState || 'closed';
        } else {
          status.textContent = '';
          delete status.dataset.state;
        }
      },
    };
    return row;
  }
}

const TERMINAL = new Set(['turn_complete', 'approval_required', 'error', 'interrupted', 'shutdown',
  'undo_complete', 'compacted', 'truncated']);

export function isTerminal(type) {
  return TERMINAL.has(type);
}

function pretty(value) {
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}

function button(text, className) {
  const b = el('button', className, text);
  b.type = 'button';
  return b;
}

function el(tag, className = '', text = null) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}
