// The preload: exposes the typed ChattyApi as `window.chatty` and nothing else (never
// ipcRenderer itself). Bundled to one CommonJS file, as sandboxed preloads require.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { Channel, type ChattyApi, type SessionEvent } from '../shared/bridge.js';

const api: ChattyApi = {
  mode: 'desktop',
  host: (request) => ipcRenderer.invoke(Channel.host, request),
  join: (request) => ipcRenderer.invoke(Channel.join, request),
  send: (text) => ipcRenderer.invoke(Channel.send, text),
  leave: () => ipcRenderer.invoke(Channel.leave),
  openLink: (url) => ipcRenderer.invoke(Channel.openLink, url),
  settings: () => ipcRenderer.invoke(Channel.settings),
  subscribe(listener) {
    const forward = (_event: IpcRendererEvent, sessionEvent: SessionEvent) => listener(sessionEvent);
    ipcRenderer.on(Channel.event, forward);
    return () => {
      ipcRenderer.removeListener(Channel.event, forward);
    };
  },
};

contextBridge.exposeInMainWorld('chatty', api);
