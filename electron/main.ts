// The Electron main process: window, lifecycle and IPC wiring only. The chat itself is
// session.ts (and the node behind it), which runs and is tested without Electron.
import { app, BrowserWindow, ipcMain, Notification, safeStorage, shell } from 'electron';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { Channel, type SessionEvent, type Settings } from '../shared/bridge.js';
import { ErrorCode, fail } from '../shared/errors.js';
import { DEFAULT_PORT } from '../shared/protocol.js';
import { Attention, type AttentionUpdate } from '../shared/attention.js';
import { advertiseNode, LanDiscovery } from '../server/lan-discovery.js';
import { invokeHandlers, isTrustedSender } from './ipc.js';
import { nodeSockets } from '../shared/node/node-socket.js';
import { staticFiles } from '../server/static-files.js';
import { ChatSession } from './session.js';
import { SettingsStore } from './settings.js';

const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));
const indexFile = join(rendererDir, 'index.html');
const indexUrl = pathToFileURL(indexFile).href;
const preload = fileURLToPath(new URL('./preload.cjs', import.meta.url));

const logger = pino({ level: process.env.CHATTY_LOG_LEVEL ?? 'warn' });
const settings = new SettingsStore(app.getPath('userData'));
const discovery = new LanDiscovery();
const attention = new Attention();
let window: BrowserWindow | undefined;
let stopAdvertising: (() => void) | undefined;

function applyAttention(update: AttentionUpdate | undefined): void {
  if (!update) return;
  app.setBadgeCount(update.unread);
  window?.setTitle(update.title);
  if (update.notification && Notification.isSupported()) new Notification(update.notification).show();
}

function emit(event: SessionEvent): void {
  window?.webContents.send(Channel.event, event);
  const me = session.client ? { name: session.client.name, server: session.client.welcome.server } : undefined;
  applyAttention(attention.onEvent(event, window?.isFocused() ?? false, me));
}

const session: ChatSession = new ChatSession({
  emit,
  sockets: nodeSockets,
  httpHandler: staticFiles(rendererDir, { connectTo: (): string[] => session.node?.servers() ?? [] }),
  dataDir: join(app.getPath('userData'), 'servers'),
  // The chat's keys sealed with the OS keychain where there is one (not on a Linux without a secret service).
  secretsCodec: {
    available: () => safeStorage.isEncryptionAvailable(),
    seal: (text) => safeStorage.encryptString(text),
    open: (sealed) => safeStorage.decryptString(sealed),
  },
  logger,
  onNode(node) {
    stopAdvertising?.();
    stopAdvertising = node ? advertiseNode(discovery, node, () => session.client?.name ?? 'Chatty', node.port ?? DEFAULT_PORT) : undefined;
  },
});

function createWindow(): void {
  window = new BrowserWindow({
    width: 1000,
    height: 700,
    minWidth: 560,
    minHeight: 420,
    title: 'Chatty',
    webPreferences: { preload, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  });
  window.on('focus', () => applyAttention(attention.onFocus()));
  window.on('closed', () => {
    window = undefined;
  });
  void window.loadFile(indexFile);
}

// No navigation, no new windows, no webviews: the window only ever shows our own page.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

const applyPreferences = (chosen: Settings) => attention.setMutePublic(chosen.mutePublic);
void settings.load().then(applyPreferences);
for (const [channel, handler] of Object.entries(
  invokeHandlers({ session, settings, openExternal: (url) => shell.openExternal(url), onPreferences: applyPreferences }),
)) {
  ipcMain.handle(channel, (event, payload: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url, indexUrl)) return fail(ErrorCode.UNSUPPORTED, 'not allowed from this page');
    return handler(payload);
  });
}

// The window fetches shared files over https from the chat's servers (self-signed): exactly the
// certificate pinned for this chat is accepted, nothing else.
app.on('certificate-error', (event, _contents, _url, _error, certificate, callback) => {
  const trusted = session.trustsCertificate(certificate.data);
  if (trusted) event.preventDefault();
  callback(trusted);
});

// Quitting is the seminar's `disconnect`: leave, tell the other servers, then exit.
let quitting = false;
app.on('before-quit', (event) => {
  if (quitting) return;
  event.preventDefault();
  quitting = true;
  void session
    .quit()
    .then(() => discovery.destroy())
    .finally(() => app.quit());
});
app.on('window-all-closed', () => app.quit());

void app.whenReady().then(() => {
  discovery.browse((hosts) => window?.webContents.send(Channel.event, { kind: 'hosts', hosts } satisfies SessionEvent));
  createWindow();
});
