import type { Model } from '../model.js';
import { hostOf } from './format.js';

const label = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  leaving: 'Leaving…',
  disconnected: 'Disconnected',
} as const;

export function StatusBar({ model }: { model: Model }) {
  const { status, statusDetail, server, servers, me } = model.state.value;
  return (
    <header class="status">
      <strong class="brand">Chatty</strong>
      <span class={`badge ${status}`} data-testid="status" title={statusDetail}>
        {label[status]}
        {status === 'reconnecting' && statusDetail ? ` — ${statusDetail.replace(/^Reconnecting to the chat… /, '')}` : ''}
        {status === 'connected' && server ? (
          <>
            {' '}
            to {hostOf(server)} as <bdi>{me}</bdi>
          </>
        ) : (
          ''
        )}
      </span>
      <details class="servers">
        <summary data-testid="server-count">
          {servers.length} {servers.length === 1 ? 'server' : 'servers'}
        </summary>
        <ul data-testid="servers">
          {servers.map((s) => (
            <li key={s}>
              {hostOf(s)}
              {s === server ? ' (yours)' : ''}
            </li>
          ))}
        </ul>
      </details>
      <button type="button" data-testid="leave" onClick={() => void model.leave()}>
        {status === 'disconnected' ? 'Back to start' : 'Leave'}
      </button>
    </header>
  );
}
