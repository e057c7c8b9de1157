// Ctrl/Cmd+K: type a few letters of a buddy's name (or "everyone"), Enter opens that conversation.
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { PUBLIC } from '../../shared/chat-state.js';
import type { Model } from '../model.js';

export function JumpTo({ model, close }: { model: Model; close: () => void }) {
  const query = useSignal('');
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => field.current?.focus(), []);
  const { buddies, me, unread } = model.state.value;
  const everyone = { key: PUBLIC, label: 'Everyone' };
  const all = [everyone, ...buddies.filter((b) => b.name !== me).map((b) => ({ key: b.name, label: b.name }))];
  const wanted = query.value.trim().toLowerCase();
  const fits = all.filter((c) => c.label.toLowerCase().includes(wanted));
  const go = (key: string) => {
    model.open(key);
    close();
    requestAnimationFrame(() => document.querySelector<HTMLTextAreaElement>('[data-testid="composer"]')?.focus());
  };
  return (
    <div class="jump-to" role="dialog" aria-modal="true" aria-labelledby="jump-to-title">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (fits[0]) go(fits[0].key);
        }}
      >
        <label id="jump-to-title" for="jump-to-field">
          Go to a conversation
        </label>
        <input
          id="jump-to-field"
          ref={field}
          data-testid="jump-to"
          autoComplete="off"
          value={query.value}
          onInput={(e) => (query.value = e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape') close();
          }}
          onBlur={(e) => {
            if (!e.relatedTarget || !(e.currentTarget.form?.contains(e.relatedTarget as Node) ?? false)) close();
          }}
        />
        <ul>
          {fits.map((c) => (
            <li key={c.key}>
              <button type="button" class="link" onMouseDown={(e) => e.preventDefault()} onClick={() => go(c.key)}>
                <bdi>{c.label}</bdi>
                {unread[c.key] ? ` (${unread[c.key]} unread)` : ''}
              </button>
            </li>
          ))}
        </ul>
      </form>
    </div>
  );
}
