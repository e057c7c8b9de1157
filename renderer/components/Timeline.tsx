// The events timeline. Long histories stay smooth: only the newest entries are in the DOM, and
// "Show earlier" adds more on request — from memory first, then older pages from the server (also
// when the user scrolls to the top).
import { useSignal } from '@preact/signals';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { conversationOf, PUBLIC, TYPING_SHOWN_MS, type TimelineEntry } from '../../shared/chat-state.js';
import type { Model } from '../model.js';
import { FileCard } from './FileCard.js';
import { formatTime } from './format.js';
import { MessageText } from './MessageText.js';

const PAGE = 200;

const presence = { join: 'joined the chat', leave: 'left the chat', away: 'lost the connection — reconnecting…', back: 'is back' } as const;

export function Timeline({ model }: { model: Model }) {
  const { timeline: everything, hasOlder, conversation } = model.state.value;
  // The conversation shown: the public chat (with joins and leaves), or the direct messages with one buddy.
  const timeline =
    conversation === PUBLIC ? everything.filter((e) => conversationOf(e) === PUBLIC) : everything.filter((e) => conversationOf(e) === conversation);
  const shown = useSignal(PAGE);
  const box = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const visible = timeline.slice(Math.max(0, timeline.length - shown.value));

  // Scrolled up to read: new messages do not pull the view down; a button says how many came.
  const unseen = useSignal(0);
  const lastCount = useRef(timeline.length);
  const lastConversation = useRef(conversation);
  useLayoutEffect(() => {
    const el = box.current;
    if (lastConversation.current !== conversation) {
      // Another conversation opened: it starts at its newest message.
      lastConversation.current = conversation;
      stickToBottom.current = true;
      unseen.value = 0;
    }
    const added = timeline.length - lastCount.current;
    lastCount.current = timeline.length;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
    else if (added > 0) unseen.value += added;
  }, [timeline]);

  // Whatever changes the log's height (the composer growing, an error line, a thumbnail loading)
  // keeps the newest message in view when the person was reading the newest.
  useEffect(() => {
    const el = box.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const pin = () => {
      if (stickToBottom.current) el.scrollTop = el.scrollHeight;
    };
    const observer = new ResizeObserver(pin);
    observer.observe(el);
    for (const child of el.children) observer.observe(child);
    const added = new MutationObserver((changes) => {
      for (const change of changes) for (const node of change.addedNodes) if (node instanceof Element) observer.observe(node);
      pin();
    });
    added.observe(el, { childList: true });
    return () => {
      observer.disconnect();
      added.disconnect();
    };
  }, []);

  return (
    <section class="timeline" aria-label={conversation === PUBLIC ? 'Chat' : `Direct messages with ${conversation}`}>
      {conversation !== PUBLIC && (
        <p class="conversation-title" data-testid="conversation-title">
          Direct messages with <bdi>{conversation}</bdi> — only you two see them.{' '}
          <button type="button" class="link" onClick={() => model.open(PUBLIC)}>
            Back to everyone
          </button>
        </p>
      )}
      <div
        ref={box}
        role="log"
        aria-live="polite"
        data-testid="timeline"
        onScroll={(e) => {
          const el = e.currentTarget;
          stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
          if (stickToBottom.current) unseen.value = 0;
          if (el.scrollTop > 0) return;
          // At the top: first what is in memory, then older pages from the server.
          if (timeline.length > visible.length) shown.value += PAGE * 5;
          else if (hasOlder) void model.loadOlder();
        }}
      >
        {timeline.length > visible.length ? (
          <div class="more">
            <button type="button" class="link" onClick={() => (shown.value += PAGE * 5)}>
              Show earlier ({timeline.length - visible.length} more)
            </button>
          </div>
        ) : (
          hasOlder && (
            <div class="more">
              <button type="button" class="link" data-testid="load-older" onClick={() => void model.loadOlder()}>
                Show earlier messages
              </button>
            </div>
          )
        )}
        {visible.map((entry) => (
          <Entry key={entry.id} entry={entry} model={model} />
        ))}
      </div>
      <TypingLine model={model} />
      {unseen.value > 0 && (
        <button
          type="button"
          class="jump"
          data-testid="jump-to-latest"
          onClick={() => {
            const el = box.current;
            if (el) el.scrollTop = el.scrollHeight;
          }}
        >
          {unseen.value} new {unseen.value === 1 ? 'message' : 'messages'} ↓
        </button>
      )}
    </section>
  );
}

/** "Bob is typing…" for the conversation shown, for a few seconds after the last sign. */
function TypingLine({ model }: { model: Model }) {
  const { typing, conversation, me } = model.state.value;
  const now = useSignal(Date.now());
  useEffect(() => {
    const tick = setInterval(() => (now.value = Date.now()), 1_000);
    return () => clearInterval(tick);
  }, []);
  const names = Object.entries(typing)
    .filter(
      ([name, t]) => now.value - t.at < TYPING_SHOWN_MS && name !== me && (conversation === PUBLIC ? t.to === undefined : name === conversation && t.to === me),
    )
    .map(([name]) => name);
  if (names.length === 0) return null;
  return (
    <p class="typing" data-testid="typing" aria-live="polite">
      <bdi>{names.join(', ')}</bdi> {names.length === 1 ? 'is' : 'are'} typing…
    </p>
  );
}

function Entry({ entry, model }: { entry: TimelineEntry; model: Model }) {
  const at = <time class="at">{formatTime(entry.ts)}</time>;
  switch (entry.kind) {
    case 'join':
    case 'leave':
    case 'away':
    case 'back':
      return (
        <div class="event" data-testid="event">
          {at}{' '}
          <strong>
            <bdi>{entry.name}</bdi>
          </strong>{' '}
          {presence[entry.kind]}
        </div>
      );
    case 'notice':
      return (
        <div class="event notice" data-testid="event">
          {at} {entry.text}
        </div>
      );
    case 'message':
      return (
        <div
          class={`message${entry.mine ? ' mine' : ''}${entry.pending ? ` ${entry.pending}` : ''}`}
          data-testid="message"
          data-pending={entry.pending}
          data-id={entry.id}
        >
          {at}{' '}
          <strong class="who">
            <bdi>{entry.name}</bdi>
          </strong>
          {/* Each text in its own bidi isolate: an override in it (U+202E) cannot reach past it. */}
          {entry.file ? (
            <FileCard entry={entry} model={model} />
          ) : (
            <div class="text">
              <bdi dir="auto" data-testid="message-text">
                <MessageText text={entry.text} openLink={model.openLink} />
              </bdi>
            </div>
          )}
          {entry.pending && (
            <div class="delivery" data-testid="delivery">
              {entry.pending === 'sending' ? 'Sending…' : 'Not sent: the chat could not be reached'}
            </div>
          )}
        </div>
      );
  }
}
