// Enter sends, Shift+Enter starts a new line; empty text is refused with a message.
import { useSignal } from '@preact/signals';
import { Limits } from '../../shared/protocol.js';
import { emojiOf, PICKER } from '../markdown.js';
import type { Model } from '../model.js';
import { sentence } from './format.js';

export function Composer({ model }: { model: Model }) {
  const text = useSignal('');
  const error = useSignal('');
  // While reconnecting, what is typed waits and goes out on resume.
  const connected = model.state.value.status === 'connected' || model.state.value.status === 'reconnecting';

  async function send() {
    const result = await model.send(text.value);
    if (result.ok) {
      text.value = '';
      error.value = '';
    } else {
      error.value = result.error.code === 'TEXT_INVALID' && !text.value.trim() ? 'Type a message first.' : result.error.message;
    }
  }

  const serverError = model.state.value.lastError;
  // Near the limit a counter shows; over it, Send is off (the protocol's rule, checked again on send).
  const length = text.value.length;
  const near = length > Limits.TEXT_MAX_CHARS * 0.9;
  const over = length > Limits.TEXT_MAX_CHARS;
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <label class="sr-only" for="composer-text">
        Message
      </label>
      <textarea
        id="composer-text"
        data-testid="composer"
        rows={2}
        placeholder={
          !connected
            ? 'Not connected'
            : model.state.value.conversation
              ? `Write to ${model.state.value.conversation} only — Enter sends`
              : 'Write a message — Enter sends, Shift+Enter for a new line'
        }
        disabled={!connected}
        value={text.value}
        onInput={(e) => {
          text.value = e.currentTarget.value;
          if (text.value.trim()) model.typing();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void send();
          } else if (e.key === 'Tab' && !e.shiftKey) {
            // @ and the start of a buddy's name, then Tab: the whole name (when only one fits).
            const field = e.currentTarget;
            const before = field.value.slice(0, field.selectionStart);
            const typed = /@([^\s@]*)$/.exec(before);
            if (!typed) return;
            const fits = model.state.value.buddies.map((b) => b.name).filter((n) => n.toLowerCase().startsWith(typed[1]!.toLowerCase()));
            if (fits.length !== 1) return;
            e.preventDefault();
            const completed = `${before.slice(0, typed.index)}@${fits[0]} `;
            text.value = completed + field.value.slice(field.selectionEnd);
            field.value = text.value;
            field.setSelectionRange(completed.length, completed.length);
          }
        }}
      />
      <details class="emoji" data-testid="emoji">
        <summary aria-label="Emoji">☺</summary>
        <div class="emoji-list">
          {PICKER.map((code) => (
            <button
              key={code}
              type="button"
              class="link"
              title={`:${code}:`}
              onClick={() => {
                text.value = `${text.value}${text.value && !text.value.endsWith(' ') ? ' ' : ''}:${code}: `;
              }}
            >
              {emojiOf(code)}
            </button>
          ))}
        </div>
      </details>
      <button type="submit" data-testid="send" disabled={!connected || over}>
        Send
      </button>
      {near && (
        <span class={`counter${over ? ' over' : ''}`} data-testid="counter" aria-live="polite">
          {length.toLocaleString('en')} / {Limits.TEXT_MAX_CHARS.toLocaleString('en')}
          {over ? ' — too long to send' : ''}
        </span>
      )}
      {(error.value || serverError) && (
        <p class="error" role="alert" data-testid="composer-error">
          {sentence(error.value || serverError?.message || '')}
        </p>
      )}
    </form>
  );
}
