import { useSignal } from '@preact/signals';
import type { Model } from '../model.js';
import { hostOf } from './format.js';
import { usePopover } from './popover.js';

const label = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  leaving: 'Leaving…',
  disconnected: 'Disconnected',
} as const;

/** @param covered the buddy drawer lies over it: inert */
export function StatusBar({ model, covered = false }: { model: Model; covered?: boolean }) {
  const { status, statusDetail, server, servers, me, buddies, unread } = model.state.value;
  const unreadAll = Object.values(unread).reduce((a, b) => a + b, 0);
  const serversPopover = usePopover();
  // Where the user really is: the server the client is connected to now (after a failover, the one
  // it moved to) — the app's own server when it runs one, whatever happened to the host it joined.
  const own = model.session.value?.runsNode === true && model.session.value.nodeUrl === server;
  return (
    <header class="status" inert={covered}>
      {/* Narrow screens: the buddy list is a drawer, opened from here. */}
      <button
        type="button"
        class="drawer-toggle"
        data-testid="buddies-toggle"
        aria-expanded={model.drawerOpen.value}
        aria-controls="buddy-list"
        onClick={() => (model.drawerOpen.value = !model.drawerOpen.value)}
      >
        Buddies ({buddies.length}){unreadAll > 0 ? ` · ${unreadAll} unread` : ''}
      </button>
      <h1 class="brand">Chatty</h1>
      <span class={`badge ${status}`} data-testid="status" role="status" title={statusDetail}>
        {label[status]}
        {status === 'connected' && server ? (
          <span class="wide-only">
            {' '}
            to {own ? `your server (${hostOf(server)})` : hostOf(server)} as <bdi>{me}</bdi>
          </span>
        ) : (
          ''
        )}
      </span>
      {server?.startsWith('ws:') ? (
        <span class="badge insecure" data-testid="insecure" title="This chat runs without TLS (--insecure): anyone on the network can read it">
          Not encrypted
        </span>
      ) : null}
      {/* While disconnected the set this client knew is not "its" servers any more: no count then. */}
      <details class="servers" hidden={status !== 'connected'} ref={serversPopover}>
        <summary data-testid="server-count">
          {servers.length} {servers.length === 1 ? 'server' : 'servers'}
        </summary>
        <ul data-testid="servers">
          {servers.map((s) => (
            <li key={s}>
              {hostOf(s)}
              {s === server ? ' (yours)' : ''}
              {model.mode === 'browser' && s !== server && s.startsWith('wss:') ? (
                <>
                  {' '}
                  {/* A browser trusts a self-signed certificate per server: opening each once lets this page fail over to it. */}
                  <a
                    href={`https://${hostOf(s)}/`}
                    target="_blank"
                    rel="noopener noreferrer"
                    title="Open once and accept its certificate, so this page can move there if your server fails"
                  >
                    accept
                  </a>
                </>
              ) : null}
              <TakeOut model={model} server={s} />
            </li>
          ))}
        </ul>
      </details>
      <Search model={model} />
      <PresenceToggle model={model} />
      <Invite model={model} />
      <button type="button" data-testid="leave" onClick={() => void model.leave()}>
        {status === 'disconnected' ? 'Back to start' : 'Leave'}
      </button>
    </header>
  );
}

/**
 * In the app that runs a server of the chat: take another server out of it (revoke). Two steps, as
 * it re-keys the whole chat: everyone then needs the new invite.
 */
function TakeOut({ model, server }: { model: Model; server: string }) {
  const asking = useSignal(false);
  const error = useSignal('');
  const session = model.session.value;
  if (model.mode !== 'desktop' || !session?.runsNode || server === session.nodeUrl) return null;
  const take = async () => {
    const result = await model.revokeServer(server);
    asking.value = false;
    error.value = result.ok ? '' : result.error.message;
  };
  return (
    <>
      {' '}
      {asking.value ? (
        <span class="confirm" role="alert">
          Take {hostOf(server)} out of the chat? Every other server makes new keys: people need the new invite.{' '}
          <button type="button" class="link" data-testid="take-out-confirm" onClick={() => void take()}>
            Take out
          </button>{' '}
          <button type="button" class="link" onClick={() => (asking.value = false)}>
            Cancel
          </button>
        </span>
      ) : (
        <button
          type="button"
          class="link"
          data-testid="take-out"
          title="Revoke this server: it leaves the chat, and what it holds (the chat's keys and invites) stops working"
          onClick={() => (asking.value = true)}
        >
          Take out
        </button>
      )}
      {error.value ? <span class="error"> {error.value}</span> : null}
    </>
  );
}

/** The invite this app's node gives people (desktop, when hosting or running a replica). */
function Invite({ model }: { model: Model }) {
  const session = model.session.value;
  const popover = usePopover();
  if (session && !session.invite && session.fingerprint) {
    // Joined by address: the certificate was trusted on first use; the person can compare it.
    return (
      <details class="invite" ref={popover}>
        <summary>Encrypted</summary>
        <p>
          Certificate fingerprint: <code data-testid="fingerprint">{session.fingerprint}</code>
        </p>
        <p class="muted">Compare it with the one the host shows: if they differ, someone may be listening in.</p>
      </details>
    );
  }
  if (!session?.invite) return null;
  const copy = () => void navigator.clipboard?.writeText(session.invite!);
  return (
    <details class="invite">
      <summary>Invite</summary>
      <p>Give people this link (or paste it into their Chatty's Join box):</p>
      <p>
        <code data-testid="invite">{session.invite}</code>{' '}
        <button type="button" class="link" onClick={copy}>
          Copy
        </button>
      </p>
      <p>
        <button
          type="button"
          class="link"
          data-testid="new-invite"
          title="The old invite stops letting anyone new in, on every server of the chat; people already here stay"
          onClick={() => void model.newInvite()}
        >
          Make a new invite
        </button>
      </p>
      {session.serverInvite ? (
        <p class="muted">
          Server invite, to run more servers of this chat (keep it for your own computers; it is not for people):{' '}
          <code data-testid="server-invite">{session.serverInvite}</code>{' '}
          <button type="button" class="link" onClick={() => void navigator.clipboard?.writeText(session.serverInvite!)}>
            Copy
          </button>
        </p>
      ) : null}
      {session.fingerprint ? (
        <p class="muted">
          Certificate fingerprint: <code data-testid="fingerprint">{session.fingerprint}</code>
        </p>
      ) : (
        <p class="error">Not encrypted: anyone on the network can read this chat.</p>
      )}
      <ReleaseName model={model} />
    </details>
  );
}

/**
 * A name belongs to the device that first joined as it (docs/protocol.md § Identity); someone who
 * lost their device asks the host to release it, on every server of the chat.
 */
function ReleaseName({ model }: { model: Model }) {
  const name = useSignal('');
  const said = useSignal<{ ok: boolean; text: string } | undefined>(undefined);
  const release = async (e: Event) => {
    e.preventDefault();
    const wanted = name.value.trim();
    if (!wanted) {
      said.value = { ok: false, text: 'Type the name to release first.' };
      return;
    }
    const result = await model.releaseName(wanted);
    said.value = result.ok ? { ok: true, text: `Released "${wanted}": the next person to join as it claims it.` } : { ok: false, text: result.error.message };
    if (result.ok) name.value = '';
  };
  return (
    <form class="release-name" onSubmit={release}>
      <label>
        Release a name (for someone who lost their device):{' '}
        <input data-testid="release-name" value={name.value} onInput={(e) => (name.value = e.currentTarget.value)} maxLength={64} />
      </label>{' '}
      <button type="submit" class="link" data-testid="release-name-button">
        Release
      </button>
      {said.value && (
        <span class={said.value.ok ? 'muted' : 'error'} role="status" data-testid="release-name-result">
          {' '}
          {said.value.text}
        </span>
      )}
    </form>
  );
}

/** Available / away, by hand: everyone sees it (buddy lists, the terminal's /who). */
function PresenceToggle({ model }: { model: Model }) {
  const { me, buddies, status } = model.state.value;
  if (status !== 'connected' || !me) return null;
  const away = buddies.find((b) => b.name === me)?.status === 'away';
  return (
    <button
      type="button"
      class={`presence${away ? ' away' : ''}`}
      data-testid="presence"
      aria-pressed={away}
      title={away ? 'You show as away: click to be available' : 'You show as available: click to show as away'}
      onClick={() => void model.setStatus(away ? 'available' : 'away')}
    >
      {away ? 'Away' : 'Available'}
    </button>
  );
}

/** Full-text search of what the server keeps; results show the words found, and a click jumps there. */
function Search({ model }: { model: Model }) {
  const { status, search } = model.state.value;
  if (status !== 'connected') return null;
  return (
    <search class="search">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const query = new FormData(e.currentTarget).get('query');
          if (typeof query === 'string' && query.trim()) void model.search(query);
        }}
      >
        <input name="query" type="search" data-testid="search" placeholder="Search messages" aria-label="Search messages" maxLength={200} />
      </form>
      {search && (
        <section class="search-results" data-testid="search-results" aria-label={`Results for ${search.query}`}>
          <p>
            {search.results.length === 0 ? 'Nothing found for' : `${search.results.length} found for`} “<bdi>{search.query}</bdi>”{' '}
            <button type="button" class="link" onClick={() => model.closeSearch()}>
              Close
            </button>
          </p>
          <ul>
            {search.results.map((entry) =>
              entry.kind === 'message' ? (
                <li key={entry.id}>
                  <button type="button" class="link result" data-testid="search-result" onClick={() => model.jumpTo(entry)}>
                    <strong>
                      <bdi>{entry.name}</bdi>
                    </strong>
                    {entry.with !== undefined ? ` → ${entry.mine ? entry.with : 'you'}` : ''}:{' '}
                    <bdi>
                      <Highlighted text={entry.file ? `file: ${entry.file.name}` : entry.text} query={search.query} />
                    </bdi>
                  </button>
                </li>
              ) : null,
            )}
          </ul>
        </section>
      )}
    </search>
  );
}

/** The query's words marked in a result's text (text nodes and <mark>: no HTML strings). */
function Highlighted({ text, query }: { text: string; query: string }) {
  const words = query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (words.length === 0) return <>{text}</>;
  const parts = text.split(new RegExp(`(${words.join('|')})`, 'gi'));
  return <>{parts.map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : part))}</>;
}
