// The preload: exposes the typed ChattyApi as `window.chatty` and nothing else (never
// ipcRenderer itself). Bundled to one CommonJS file, as sandboxed preloads require.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { Channel, type ChattyApi, type InvokeMethod, type ResultOf, type SessionEvent } from '../shared/bridge.js';

/** One typed call per method: its channel, its argument, its result (ipc.ts answers in kind). */
const invoke =
  <M extends InvokeMethod>(method: M) =>
  (...request: Parameters<ChattyApi[M]>): Promise<ResultOf<M>> =>
    ipcRenderer.invoke(Channel[method], ...request);

const api: ChattyApi = {
  mode: 'desktop',
  host: invoke('host'),
  join: invoke('join'),
  send: invoke('send'),
  sendDirect: invoke('sendDirect'),
  setStatus: invoke('setStatus'),
  typing: invoke('typing'),
  search: invoke('search'),
  whois: invoke('whois'),
  loadOlder: invoke('loadOlder'),
  leave: invoke('leave'),
  newInvite: invoke('newInvite'),
  revokeServer: invoke('revokeServer'),
  releaseName: invoke('releaseName'),
  openLink: invoke('openLink'),
  settings: invoke('settings'),
  setPreferences: invoke('setPreferences'),
  subscribe(listener) {
    const forward = (_event: IpcRendererEvent, sessionEvent: SessionEvent) => listener(sessionEvent);
    ipcRenderer.on(Channel.event, forward);
    return () => {
      ipcRenderer.removeListener(Channel.event, forward);
    };
  },
};

contextBridge.exposeInMainWorld('chatty', api);
