// Name, then Host (port) or Join (an invite, a discovered host or a typed address; replica on/off;
// a passphrase for a private chat).
import { untracked, useSignal, useSignalEffect, type Signal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import type { Result } from '../../shared/errors.js';
import { DEFAULT_PORT, hostOf, parsePort } from '../../shared/protocol.js';
import type { Model } from '../model.js';
import { CertificateNote } from './CertificateNote.js';
import { plainError, sentence } from './format.js';

export function StartScreen({ model }: { model: Model }) {
  const name = useSignal('');
  const port = useSignal(String(DEFAULT_PORT));
  const address = useSignal('');
  const replica = useSignal(false);
  const passphrase = useSignal('');
  const privateChat = useSignal(false);
  const error = useSignal('');
  const errorDetail = useSignal<string | undefined>(undefined);
  const busy = useSignal(false);
  /** The chat said it is private, or that what was given is wrong: the field for the code opens. */
  const askCode = useSignal(false);
  const desktop = model.mode === 'desktop';

  // Fill the form once with what was used last time. Untracked: the effect must depend on the
  // settings only, or every keystroke in the form would run it again and overwrite the user's input.
  const filled = useRef(false);
  useSignalEffect(() => {
    const s = model.settings.value;
    if (!s || filled.current) return;
    filled.current = true;
    untracked(() => {
      if (!name.value) name.value = s.name;
      port.value = String(s.port);
      if (desktop && !address.value) address.value = s.address;
      replica.value = s.replica;
    });
  });

  async function run(action: () => Promise<Result<unknown>>) {
    error.value = '';
    errorDetail.value = undefined;
    if (!name.value.trim()) {
      error.value = 'Enter your name first.';
      return;
    }
    busy.value = true;
    const result = await action();
    busy.value = false;
    if (result.ok) return;
    const plain = plainError(result.error);
    askCode.value = result.error.code === 'AUTH_REQUIRED' || result.error.code === 'AUTH_FAILED';
    error.value = plain.text;
    errorDetail.value = plain.detail;
  }

  const host = (e: Event) => {
    e.preventDefault();
    const p = parsePort(port.value);
    if (!p.ok) {
      error.value = `${sentence(p.error.message)}.`;
      return;
    }
    void run(() => model.host(name.value.trim(), p.value, privateChat.value));
  };
  const join = (e: Event) => {
    e.preventDefault();
    if (desktop && !address.value.trim()) {
      error.value = 'Paste the invite the host gave you (or a server address), or pick a server from the list.';
      return;
    }
    void run(() => model.join(name.value.trim(), desktop ? address.value : '', desktop && replica.value, passphrase.value || undefined));
  };

  const hosts = model.state.value.hosts;
  // Why the last try to get in failed when nobody pressed a button for it (a reloaded page that
  // could not resume): the session's own words.
  const { status, statusDetail } = model.state.value;
  const unasked = !error.value && !busy.value && status === 'idle' && statusDetail ? sentence(statusDetail) : '';
  return (
    <main class="start">
      <h1>Chatty</h1>
      <p class="tagline">Chat with your buddies on the local network.</p>
      <Field
        label="Your name"
        testId="name"
        value={name}
        maxLength={32}
        autoFocus
        // Enter here does what the page is for: join (or, in the app, join the address typed, else host).
        onEnter={(e) => (desktop && !address.value.trim() ? host(e) : join(e))}
      />
      {desktop ? (
        <div class="choices">
          <form class="card" onSubmit={host} aria-labelledby="host-title">
            <h2 id="host-title">Host a server</h2>
            <Field label="Port" testId="port" value={port} inputMode="numeric" />
            <label class="check">
              <input type="checkbox" data-testid="private" checked={privateChat.value} onChange={(e) => (privateChat.value = e.currentTarget.checked)} />
              <span>Private: people need the invite to join</span>
            </label>
            <button type="submit" data-testid="host" disabled={busy.value}>
              Host server
            </button>
          </form>
          <form class="card" onSubmit={join} aria-labelledby="join-title">
            <h2 id="join-title">Join a server</h2>
            <Field label="Invite or address" testId="address" value={address} placeholder="chatty://… or 192.168.1.20:4000" />
            <section class="discovered" aria-label="Servers on this network">
              {hosts.length === 0 ? (
                <p class="hint">Looking for servers on this network…</p>
              ) : (
                <ul>
                  {hosts.map((h) => (
                    <li key={h.url}>
                      <button type="button" class="link" onClick={() => (address.value = h.url)}>
                        <bdi>{h.name}</bdi>{' '}
                        <span class="muted">
                          {hostOf(h.url)} · {h.buddies} {h.buddies === 1 ? 'buddy' : 'buddies'}
                          {h.needsInvite ? ' · needs an invite' : ''}
                        </span>
                      </button>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <label class="check">
              <input type="checkbox" data-testid="replica" checked={replica.value} onChange={(e) => (replica.value = e.currentTarget.checked)} />
              <span>Run a replica on this computer (the chat goes on if the host quits; needs the chat's server invite)</span>
            </label>
            <PassphraseField value={passphrase} open={askCode.value} />
            <button type="submit" data-testid="join" disabled={busy.value}>
              Join server
            </button>
          </form>
        </div>
      ) : (
        <form class="card" onSubmit={join}>
          <p>
            You are joining the server at <strong>{window.location.host}</strong>.
          </p>
          {new URLSearchParams(window.location.hash.slice(1)).has('invite') ? (
            <p class="hint">You were invited: the invite is in this link.</p>
          ) : (
            <PassphraseField value={passphrase} open={askCode.value} />
          )}
          <button type="submit" data-testid="join" disabled={busy.value}>
            Join chat
          </button>
          <CertificateNote />
        </form>
      )}
      {(error.value || unasked) && (
        <p class="error" role="alert" data-testid="start-error" title={errorDetail.value}>
          {error.value || unasked}
          {errorDetail.value && <span class="error-detail"> ({errorDetail.value})</span>}
        </p>
      )}
    </main>
  );
}

/** For private chats joined without an invite link: its invite code, or the passphrase the host chose. Open (and focused) once the chat asked for it. */
function PassphraseField({ value, open }: { value: Signal<string>; open: boolean }) {
  const field = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (open) field.current?.focus();
  }, [open]);
  return (
    <details class="passphrase" open={open || undefined}>
      <summary>Private chat? Enter its invite code or passphrase</summary>
      <label>
        Invite code or passphrase
        <input
          ref={field}
          type="password"
          data-testid="passphrase"
          value={value.value}
          autoComplete="off"
          onInput={(e) => (value.value = e.currentTarget.value)}
        />
      </label>
    </details>
  );
}

/** A labelled text input bound to a signal. */
function Field(props: {
  label: string;
  testId: string;
  value: Signal<string>;
  maxLength?: number;
  placeholder?: string;
  inputMode?: 'numeric';
  autoFocus?: boolean;
  /** For a field outside any form: what Enter does. */
  onEnter?: (e: Event) => void;
}) {
  const { label, testId, value, onEnter, ...rest } = props;
  return (
    <label class="field">
      <span>{label}</span>
      <input
        data-testid={testId}
        value={value.value}
        onInput={(e) => (value.value = e.currentTarget.value)}
        onKeyDown={(e) => {
          if (onEnter && e.key === 'Enter' && !e.isComposing) onEnter(e);
        }}
        {...rest}
      />
    </label>
  );
}
