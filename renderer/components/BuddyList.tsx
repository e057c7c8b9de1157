import type { Model } from '../model.js';
import { hostOf } from './format.js';

export function BuddyList({ model }: { model: Model }) {
  const { buddies, me, server, servers } = model.state.value;
  const several = servers.length > 1;
  return (
    <aside class="buddies" aria-labelledby="buddies-title">
      <h2 id="buddies-title">Buddies ({buddies.length})</h2>
      <ul data-testid="buddies">
        {buddies.map((b) => (
          <li key={`${b.server} ${b.name}`} data-testid="buddy">
            <bdi class="buddy-name">{b.name}</bdi>
            {b.name === me && b.server === server && <span class="muted"> (you)</span>}
            {b.away && <span class="muted"> (reconnecting)</span>}
            {several && <span class="server-tag">{hostOf(b.server)}</span>}
          </li>
        ))}
      </ul>
    </aside>
  );
}
