// The main-process side of the bridge, without Electron: one handler per invoke channel, each
// parsing its untrusted payload with the shared schema first. main.ts registers these with
// ipcMain after checking the sender; tests call them directly.
import {
  Channel,
  DirectRequest,
  HostRequest,
  type InvokeHandlers,
  JoinRequest,
  LoadOlderRequest,
  OpenLinkRequest,
  ReleaseNameRequest,
  RevokeRequest,
  parsePayload,
  Preferences,
  safeExternalUrl,
  SearchRequest,
  WhoisRequest,
  SendRequest,
  StatusRequest,
  TypingRequest,
} from '../shared/bridge.js';
import type { Settings } from '../shared/bridge.js';
import { ok } from '../shared/errors.js';
import type { ChatSession } from './session.js';
import type { SettingsStore } from './settings.js';

export interface IpcDeps {
  session: ChatSession;
  settings: SettingsStore;
  openExternal: (url: string) => Promise<void>;
  /** New preferences were kept: main applies them (muting the public chat's notifications). */
  onPreferences?: (settings: Settings) => void;
}

export function invokeHandlers(deps: IpcDeps): InvokeHandlers {
  const { session, settings } = deps;
  return {
    [Channel.host]: async (payload) => {
      const request = parsePayload(HostRequest, payload);
      if (!request.ok) return request;
      const result = await session.host(request.value);
      if (result.ok) await settings.update({ name: request.value.name, port: request.value.port });
      return result;
    },
    [Channel.join]: async (payload) => {
      const request = parsePayload(JoinRequest, payload);
      if (!request.ok) return request;
      const result = await session.join(request.value);
      if (result.ok) await settings.update({ name: request.value.name, address: request.value.address, replica: request.value.replica });
      return result;
    },
    [Channel.send]: async (payload) => {
      const text = parsePayload(SendRequest, payload);
      return text.ok ? session.send(text.value) : text;
    },
    [Channel.sendDirect]: async (payload) => {
      const request = parsePayload(DirectRequest, payload);
      return request.ok ? session.send(request.value.text, request.value.to) : request;
    },
    [Channel.setStatus]: async (payload) => {
      const status = parsePayload(StatusRequest, payload);
      return status.ok ? session.chat.setStatus(status.value) : status;
    },
    [Channel.typing]: async (payload) => {
      const to = parsePayload(TypingRequest, payload);
      return to.ok ? session.chat.typing(to.value) : to;
    },
    [Channel.search]: async (payload) => {
      const query = parsePayload(SearchRequest, payload);
      return query.ok ? session.chat.search(query.value) : query;
    },
    [Channel.whois]: async (payload) => {
      const name = parsePayload(WhoisRequest, payload);
      return name.ok ? session.chat.whois(name.value) : name;
    },
    [Channel.loadOlder]: async (payload) => {
      const before = parsePayload(LoadOlderRequest, payload);
      return before.ok ? session.loadOlder(before.value) : before;
    },
    [Channel.leave]: () => session.leave(),
    [Channel.newInvite]: () => session.newInvite(),
    [Channel.releaseName]: async (payload) => {
      const name = parsePayload(ReleaseNameRequest, payload);
      return name.ok ? session.releaseName(name.value) : name;
    },
    [Channel.revokeServer]: async (payload) => {
      const server = parsePayload(RevokeRequest, payload);
      return server.ok ? session.revokeServer(server.value) : server;
    },
    [Channel.openLink]: async (payload) => {
      const url = parsePayload(OpenLinkRequest, payload);
      if (!url.ok) return url;
      const safe = safeExternalUrl(url.value);
      if (!safe.ok) return safe;
      await deps.openExternal(safe.value);
      return ok(undefined);
    },
    [Channel.settings]: async () => ok(await settings.load()),
    [Channel.setPreferences]: async (payload) => {
      const preferences = parsePayload(Preferences, payload);
      if (!preferences.ok) return preferences;
      const next = await settings.update(preferences.value);
      deps.onPreferences?.(next);
      return ok(next);
    },
  };
}

/** IPC is answered only for our own page: a file:// URL inside the app's renderer folder. */
export function isTrustedSender(frameUrl: string | undefined, rendererIndexUrl: string): boolean {
  if (!frameUrl) return false;
  try {
    const url = new URL(frameUrl);
    const own = new URL(rendererIndexUrl);
    return url.protocol === 'file:' && url.pathname === own.pathname;
  } catch {
    return false;
  }
}
