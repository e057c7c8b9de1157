import { PUBLIC } from '../../shared/chat-state.js';
import type { Model } from '../model.js';
import { hostOf } from './format.js';

/** The conversations: the public chat first, then every buddy (a click opens direct messages), with unread counts. */
export function BuddyList({ model }: { model: Model }) {
  const { buddies, me, server, servers, conversation, unread } = model.state.value;
  const several = servers.length > 1;
  const badge = (key: string) =>
    unread[key] ? (
      <span class="unread" data-testid="unread" title={`${unread[key]} unread`}>
        {unread[key]}
      </span>
    ) : null;
  return (
    <aside class="buddies" aria-labelledby="buddies-title">
      <button
        type="button"
        class={`conversation${conversation === PUBLIC ? ' open' : ''}`}
        data-testid="conversation-public"
        onClick={() => model.open(PUBLIC)}
      >
        Everyone {badge(PUBLIC)}
      </button>
      <h2 id="buddies-title">Buddies ({buddies.length})</h2>
      <ul data-testid="buddies">
        {buddies.map((b) => (
          <li key={`${b.server} ${b.name}`} data-testid="buddy" class={conversation === b.name ? 'open' : undefined}>
            {b.name === me && b.server === server ? (
              <bdi class="buddy-name">{b.name}</bdi>
            ) : (
              <button type="button" class="link buddy-name" title={`Direct messages with ${b.name}`} onClick={() => model.open(b.name)}>
                <bdi>{b.name}</bdi>
              </button>
            )}
            {badge(b.name)}
            {b.name === me && b.server === server && <span class="muted"> (you)</span>}
            {b.away && <span class="muted"> (reconnecting)</span>}
            {!b.away && b.status === 'away' && <span class="muted"> (away)</span>}
            {several && <span class="server-tag">{hostOf(b.server)}</span>}
          </li>
        ))}
      </ul>
    </aside>
  );
}
