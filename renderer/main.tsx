// Renderer entry: the desktop app's preload provides `window.chatty`; in a plain browser the
// WebSocket bridge stands in for it.
import { render } from 'preact';
import type { ChattyApi } from '../shared/bridge.js';
import { createBrowserBridge } from './browser-bridge.js';
import { App } from './components/App.js';
import { createModel } from './model.js';

declare global {
  interface Window {
    chatty?: ChattyApi;
  }
}

const api = window.chatty ?? createBrowserBridge(window.location, window.localStorage, window.sessionStorage);
const model = createModel(api);
render(<App model={model} />, document.getElementById('app')!);
