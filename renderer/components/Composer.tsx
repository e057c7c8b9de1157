// Enter sends, Shift+Enter starts a new line; empty text is refused with a message. Files are
// attached with the paper clip, pasted (a screenshot) or dropped on the chat (ChatScreen).
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import { Limits } from '../../shared/protocol.js';
import { emojiOf, PICKER } from '../markdown.js';
import { pastedFiles } from './files-in.js';
import { usePopover } from './popover.js';
import type { Model } from '../model.js';
import { sentence } from './format.js';

/** @param covered the buddy drawer lies over it: inert */
export function Composer({ model, covered = false }: { model: Model; covered?: boolean }) {
  const text = model.draft;
  const error = useSignal('');
  // While reconnecting, what is typed waits and goes out on resume.
  const { status } = model.state.value;
  const connected = status === 'connected' || status === 'reconnecting';
  // Joined: the cursor is here, ready to write.
  const field = useRef<HTMLTextAreaElement>(null);
  const picker = usePopover();
  useEffect(() => field.current?.focus(), []);
  // A complaint about the last try ("Type a message first.") is stale once the connection changes.
  useEffect(() => {
    error.value = '';
  }, [status]);

  async function send() {
    const result = await model.send(text.value);
    if (result.ok) {
      text.value = '';
      error.value = '';
    } else {
      error.value = result.error.code === 'TEXT_INVALID' && !text.value.trim() ? 'Type a message first.' : result.error.message;
    }
  }

  function share(files: readonly File[]) {
    if (files.length === 0) return;
    const shared = model.sendFiles(files);
    error.value = shared.ok ? '' : shared.error.message;
  }

  // The server's last refusal shows only while connected (a drop has its own banner).
  const serverError = status === 'connected' ? model.state.value.lastError : undefined;
  const uploads = Object.entries(model.transfers.value).filter(([, t]) => t.direction === 'up');
  // Near the limit a counter shows; over it, Send is off (the protocol's rule, checked again on send).
  const length = text.value.length;
  const near = length > Limits.TEXT_MAX_CHARS * 0.9;
  const over = length > Limits.TEXT_MAX_CHARS;
  return (
    <form
      inert={covered}
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
        ref={field}
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
        onPaste={(e) => {
          const files = pastedFiles(e.clipboardData);
          if (files.length === 0) return; // text: pasted as usual
          e.preventDefault();
          share(files);
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
      <label class="attach" title="Share a file or picture">
        <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round">
          <path d="M21 11.5 12.5 20a5 5 0 0 1-7-7l9-9a3.3 3.3 0 0 1 4.7 4.7l-9 9a1.7 1.7 0 0 1-2.4-2.4l8.3-8.3" />
        </svg>
        <span class="sr-only">Share a file or picture</span>
        <input
          type="file"
          multiple
          data-testid="attach"
          disabled={!connected}
          onChange={(e) => {
            share([...(e.currentTarget.files ?? [])]);
            e.currentTarget.value = '';
          }}
        />
      </label>
      <details class="emoji" data-testid="emoji" ref={picker}>
        <summary aria-label="Emoji">☺</summary>
        <div class="emoji-list">
          {PICKER.map((code) => (
            <button
              key={code}
              type="button"
              class="link"
              title={`:${code}:`}
              onClick={() => {
                // At the caret (where the person was writing), spaced from the words around it.
                const el = field.current;
                const at = el ? el.selectionStart : text.value.length;
                const before = text.value.slice(0, at);
                const inserted = `${before && !/\s$/.test(before) ? ' ' : ''}:${code}: `;
                text.value = before + inserted + text.value.slice(el ? el.selectionEnd : at);
                if (picker.current) picker.current.open = false;
                if (el) {
                  el.value = text.value;
                  el.focus();
                  el.setSelectionRange(at + inserted.length, at + inserted.length);
                }
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
      {uploads.map(([key, upload]) => (
        <div class="upload" data-testid="upload" key={key}>
          <bdi>{upload.name}</bdi>{' '}
          {upload.error ? (
            <span class="error" role="alert" data-testid="upload-error">
              not sent: {upload.error}{' '}
              <button type="button" class="link" onClick={() => model.dismissTransfer(key)}>
                Dismiss
              </button>
            </span>
          ) : (
            <>
              <progress max={1} value={Number.isNaN(upload.progress) ? undefined : upload.progress} aria-label={`Sending ${upload.name}`} />{' '}
              {Number.isNaN(upload.progress) ? '' : `${Math.round(upload.progress * 100)} %`}{' '}
              <button type="button" class="link" data-testid="upload-cancel" onClick={() => model.cancelTransfer(key)}>
                Cancel
              </button>
            </>
          )}
        </div>
      ))}
      {(error.value || serverError) && (
        <p class="error" role="alert" data-testid="composer-error">
          {sentence(error.value || serverError?.message || '')}
        </p>
      )}
    </form>
  );
}
