import { PUBLIC } from '../../shared/chat-state.js';
import type { Model } from '../model.js';
import { hostOf } from './format.js';

/** The conversations: the public chat first, then every buddy (a click opens direct messages), with unread counts. */
export function BuddyList({ model }: { model: Model }) {
  const { buddies, me, server, servers, conversation, unread, timeline } = model.state.value;
  // Conversations with people who are not here (they left, or never came back) stay in the list.
  const absent = [
    ...new Set(timeline.flatMap((e) => (e.kind === 'message' && e.with !== undefined && !buddies.some((b) => b.name === e.with) ? [e.with] : []))),
  ].sort((a, b) => a.localeCompare(b));
  const several = servers.length > 1;
  const muted = model.settings.value?.mutePublic === true;
  const badge = (key: string) =>
    unread[key] ? (
      <span class="unread" data-testid="unread" title={`${unread[key]} unread`}>
        {unread[key]}
      </span>
    ) : null;
  return (
    <aside class="buddies" id="buddy-list" aria-labelledby="buddies-title">
      <button
        type="button"
        class={`conversation${conversation === PUBLIC ? ' open' : ''}`}
        data-testid="conversation-public"
        onClick={() => model.open(PUBLIC)}
      >
        Everyone{' '}
        {muted && (
          <span class="muted-tag" data-testid="muted-tag" title="Muted: only mentions and direct messages notify">
            <span aria-hidden="true">🔕</span>
            <span class="sr-only">(muted)</span>
          </span>
        )}{' '}
        {badge(PUBLIC)}
      </button>
      <h2 id="buddies-title">Buddies ({buddies.length})</h2>
      <ul data-testid="buddies">
        {buddies.map((b) => (
          <li key={`${b.server} ${b.name}`} data-testid="buddy" class={conversation === b.name ? 'open' : undefined}>
            <span class={`dot${b.away ? ' reconnecting' : b.status === 'away' ? ' away' : ''}`} data-testid="presence-dot" aria-hidden="true" />
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
      {absent.length > 0 && (
        <>
          <h2 id="absent-title">Not here</h2>
          <ul data-testid="absent" aria-labelledby="absent-title">
            {absent.map((name) => (
              <li key={name} data-testid="absent-buddy" class={conversation === name ? 'open' : undefined}>
                <button type="button" class="link buddy-name" title={`Direct messages with ${name}`} onClick={() => model.open(name)}>
                  <bdi>{name}</bdi>
                </button>
                {badge(name)}
                <span class="muted"> (not in the chat)</span>
              </li>
            ))}
          </ul>
        </>
      )}
      <Preferences model={model} />
    </aside>
  );
}

/** Muting the public chat and the idle time, kept with the settings (the app's file, or the browser's storage). */
function Preferences({ model }: { model: Model }) {
  const settings = model.settings.value;
  if (!settings) return null;
  return (
    <details class="preferences" data-testid="preferences">
      <summary>Preferences</summary>
      <Choice model={model} choice="mutePublic" testId="mute-public" label="Mute the public chat (mentions and direct messages still notify)" />
      <Choice model={model} choice="showJoins" testId="show-joins" label="Show who joins and leaves in the public chat" />
      {model.mode === 'desktop' && <Choice model={model} choice="startAtLogin" testId="start-at-login" label="Start Chatty when I log in" />}
      <label>
        Show me away after{' '}
        <input
          type="number"
          min={0}
          max={1440}
          step={1}
          data-testid="idle-minutes"
          value={settings.idleMinutes}
          onChange={(e) => {
            const minutes = Number(e.currentTarget.value);
            if (Number.isInteger(minutes) && minutes >= 0 && minutes <= 1440) void model.setPreferences({ idleMinutes: minutes });
            else e.currentTarget.value = String(settings.idleMinutes);
          }}
        />{' '}
        idle minutes (0: never)
      </label>
    </details>
  );
}

/** One on/off preference. */
function Choice({ model, choice, testId, label }: { model: Model; choice: 'mutePublic' | 'showJoins' | 'startAtLogin'; testId: string; label: string }) {
  return (
    <label>
      <input
        type="checkbox"
        data-testid={testId}
        checked={model.settings.value?.[choice] === true}
        onChange={(e) => void model.setPreferences({ [choice]: e.currentTarget.checked })}
      />{' '}
      {label}
    </label>
  );
}
