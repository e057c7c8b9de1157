// The events timeline. Long histories stay smooth: only the newest entries are in the DOM, and
// "Show earlier" adds more on request — from memory first, then older pages from the server (also
// when the user scrolls to the top).
import { useSignal } from '@preact/signals';
import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { conversationOf, PUBLIC, TYPING_SHOWN_MS, type TimelineEntry } from '../../shared/chat-state.js';
import type { Model } from '../model.js';
import { FileCard } from './FileCard.js';
import { dayOf, formatDay, formatFull, formatTime, isoOf, listOfNames } from './format.js';
import { MessageText } from './MessageText.js';
import { usePopover } from './popover.js';

const PAGE = 200;
/** Messages of one person this close together are one group: the name and time show once. */
const GROUP_MS = 5 * 60_000;

type Message = Extract<TimelineEntry, { kind: 'message' }>;
type Presence = Extract<TimelineEntry, { kind: 'join' | 'leave' }>;

/** What the log shows: a day's heading, a run of joins and leaves as one line, or one entry. */
type Row =
  | { kind: 'day'; key: string; ts: number }
  | { kind: 'presence'; key: string; entries: Presence[] }
  | { kind: 'entry'; key: string; entry: TimelineEntry; continued: boolean };

/** The entries as rows: a heading where the day changes, runs of joins and leaves together, messages grouped. */
export function rowsOf(entries: readonly TimelineEntry[]): Row[] {
  const rows: Row[] = [];
  let day: string | undefined;
  let previous: TimelineEntry | undefined;
  for (const entry of entries) {
    const today = dayOf(entry.ts);
    if (today !== day) {
      day = today;
      previous = undefined;
      rows.push({ kind: 'day', key: `day-${today}`, ts: entry.ts });
    }
    const last = rows[rows.length - 1]!;
    if (entry.kind === 'join' || entry.kind === 'leave') {
      if (last.kind === 'presence') last.entries.push(entry);
      else rows.push({ kind: 'presence', key: entry.id, entries: [entry] });
    } else {
      const continued =
        entry.kind === 'message' && previous?.kind === 'message' && previous.name === entry.name && entry.ts - previous.ts < GROUP_MS && last.kind === 'entry';
      rows.push({ kind: 'entry', key: entry.id, entry, continued });
    }
    previous = entry;
  }
  return rows;
}

/** @param covered the buddy drawer lies over it: inert */
export function Timeline({ model, covered = false }: { model: Model; covered?: boolean }) {
  const { timeline: everything, hasOlder, conversation, me } = model.state.value;
  const showJoins = model.settings.value?.showJoins !== false;
  // The conversation shown: the public chat (with joins and leaves, unless hidden), or the direct messages with one buddy.
  const timeline = everything.filter((e) => conversationOf(e) === conversation && (showJoins || (e.kind !== 'join' && e.kind !== 'leave')));
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
    // What the user just sent is brought into view, wherever they had scrolled.
    const newest = timeline[timeline.length - 1];
    if (added > 0 && newest?.kind === 'message' && newest.name === me && newest.pending === 'sending') stickToBottom.current = true;
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
    <section class="timeline" inert={covered} aria-label={conversation === PUBLIC ? 'Chat' : `Direct messages with ${conversation}`}>
      {conversation !== PUBLIC && (
        <div class="conversation-title">
          <span data-testid="conversation-title">
            Direct messages with <bdi>{conversation}</bdi> — only you two see them.{' '}
            <button type="button" class="link" onClick={() => model.open(PUBLIC)}>
              Back to everyone
            </button>
          </span>{' '}
          <ProfileCard model={model} name={conversation} />
        </div>
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
        {rowsOf(visible).map((row) =>
          row.kind === 'day' ? (
            <div key={row.key} class="day" data-testid="day">
              <time dateTime={dayOf(row.ts)}>{formatDay(row.ts)}</time>
            </div>
          ) : row.kind === 'presence' ? (
            <PresenceLine key={row.key} entries={row.entries} />
          ) : (
            <Entry key={row.key} entry={row.entry} continued={row.continued} model={model} />
          ),
        )}
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

/** When it was: the time of day, the full date on hover, and a machine-readable datetime. */
function At({ ts }: { ts: number }) {
  return (
    <time class="at" dateTime={isoOf(ts)} title={formatFull(ts)}>
      {formatTime(ts)}
    </time>
  );
}

/** A run of joins and leaves as one line: "Ann and Bob joined the chat · Cid left the chat". */
const PresenceLine = memo(
  function PresenceLine({ entries }: { entries: Presence[] }) {
    const names = (kind: Presence['kind']) => [...new Set(entries.filter((e) => e.kind === kind).map((e) => e.name))];
    const joined = names('join');
    const left = names('leave');
    const parts = [joined.length ? `${listOfNames(joined)} joined the chat` : '', left.length ? `${listOfNames(left)} left the chat` : ''].filter(Boolean);
    return (
      <div class="event" data-testid="event" title={entries.map((e) => `${formatFull(e.ts)} ${e.name} ${e.kind === 'join' ? 'joined' : 'left'}`).join('\n')}>
        <At ts={entries[entries.length - 1]!.ts} /> {parts.join(' · ')}
      </div>
    );
  },
  (a, b) => a.entries.length === b.entries.length && a.entries.every((e, i) => e === b.entries[i]),
);

function Entry({ entry, continued, model }: { entry: TimelineEntry; continued: boolean; model: Model }) {
  switch (entry.kind) {
    case 'join':
    case 'leave':
      return <PresenceLine entries={[entry]} />;
    case 'notice':
      return (
        <div class="event notice" data-testid="event">
          <At ts={entry.ts} /> {entry.text}
        </div>
      );
    case 'message':
      return <MessageEntry entry={entry} continued={continued} model={model} />;
  }
}

/** Memoized: a long timeline re-renders only what changed (entries are replaced, never mutated). */
const MessageEntry = memo(function MessageEntry({ entry, continued, model }: { entry: Message; continued: boolean; model: Model }) {
  return (
    <div
      class={`message${entry.mine ? ' mine' : ''}${entry.pending ? ` ${entry.pending}` : ''}${continued ? ' continued' : ''}`}
      data-testid="message"
      data-pending={entry.pending}
      data-id={entry.id}
    >
      {/* In a group the name and time show once; screen readers still hear whose each message is. */}
      <span class={continued ? 'head sr-only' : 'head'}>
        <At ts={entry.ts} />{' '}
        <strong class="who">
          <bdi>{entry.name}</bdi>
        </strong>
      </span>
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
          {entry.pending === 'sending' ? 'Sending…' : `Not sent: ${entry.failure ?? 'the chat could not be reached'}`}
        </div>
      )}
    </div>
  );
});

/**
 * Whose a name is (docs/protocol.md § Identity): the person's safety number, to compare with them
 * in person (as Signal's are), how many devices they have and since when.
 */
function ProfileCard({ model, name }: { model: Model; name: string }) {
  const popover = usePopover();
  const person = model.state.value.people[name];
  return (
    <details class="profile" ref={popover} data-testid="profile">
      <summary>Safety number</summary>
      <div class="card">
        {person === undefined ? (
          <p class="muted">Asking the server…</p>
        ) : person.safetyNumber === undefined ? (
          <p data-testid="safety-number">
            <bdi>{name}</bdi> is not bound to a device: whoever joins as <bdi>{name}</bdi> next takes the name.
          </p>
        ) : (
          <>
            <p>
              <bdi>{name}</bdi>'s safety number: <code data-testid="safety-number">{person.safetyNumber}</code>
            </p>
            <p class="muted">
              {person.devices === 1 ? '1 device' : `${person.devices ?? 1} devices`}
              {person.since === undefined ? '' : `, since ${new Date(person.since).toLocaleDateString()}`}. Compare it with <bdi>{name}</bdi> in person: if it
              differs, someone else has the name.
            </p>
          </>
        )}
      </div>
    </details>
  );
}
