// The Electron main process: window, lifecycle and IPC wiring only. The chat itself is
// session.ts (and the node behind it), which runs and is tested without Electron.
import { app, BrowserWindow, ipcMain, Menu, nativeImage, Notification, safeStorage, shell, Tray } from 'electron';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { Channel, type SessionEvent, type Settings } from '../shared/bridge.js';
import { ErrorCode, fail } from '../shared/errors.js';
import { Attention, type AttentionUpdate } from '../shared/attention.js';
import { pageDir } from '../server/hosting.js';
import { LanDiscovery } from '../server/lan-discovery.js';
import { invokeHandlers, isTrustedSender } from './ipc.js';
import { nodeSockets } from '../shared/node/node-socket.js';
import { ChatSession } from './session.js';
import { SettingsStore } from './settings.js';
import { DEFAULT_LOG_LEVEL, logLevelFrom } from '../server/log-level.js';
import { deviceKeyIn } from '../server/device-key-file.js';
import { appMenuTemplate } from './app-menu.js';
import { DesktopShell, type TrayItem } from './desktop-shell.js';

const indexFile = join(pageDir, 'index.html');
const indexUrl = pathToFileURL(indexFile).href;
const preload = fileURLToPath(new URL('./preload.cjs', import.meta.url));

// A bad level is said once and the default taken: the app still opens.
const level = logLevelFrom();
if (!level.ok) process.stderr.write(`chatty: ${level.error.message}; logging at ${DEFAULT_LOG_LEVEL}\n`);
const logger = pino({ level: level.ok ? level.value : DEFAULT_LOG_LEVEL });
const settings = new SettingsStore(app.getPath('userData'));
const discovery = new LanDiscovery();
const attention = new Attention();
let window: BrowserWindow | undefined;
let tray: Tray | undefined;
let closeNoticeShown = false;

// A second launch only brings the running window forward.
if (!app.requestSingleInstanceLock()) app.exit(0);

const notify = (title: string, body: string) => {
  if (Notification.isSupported()) new Notification({ title, body }).show();
};

const desktopShell = new DesktopShell({
  window: () => window,
  platform: {
    platform: process.platform,
    quit: () => app.quit(),
    setLoginItemSettings: (s) => app.setLoginItemSettings(s),
    ...(process.platform === 'darwin' ? { bounceDock: () => void app.dock?.bounce('informational') } : {}),
    notify,
    setTray(tooltip, title, menu) {
      if (!tray) return;
      tray.setToolTip(tooltip);
      if (process.platform === 'darwin') tray.setTitle(title);
      tray.setContextMenu(Menu.buildFromTemplate(menu.map(trayMenuItem)));
    },
  },
  closeNoticeShown: () => closeNoticeShown,
  rememberCloseNotice: () => {
    closeNoticeShown = true;
    void settings.update({ closeNoticeShown: true });
  },
  setStatus: (status) => void session.chat.setStatus(status),
});

function trayMenuItem(item: TrayItem): Electron.MenuItemConstructorOptions {
  if (item.kind === 'separator') return { type: 'separator' };
  return { type: item.kind, label: item.label, checked: item.checked, enabled: item.enabled ?? true, click: () => desktopShell.onTrayAction(item.action) };
}

function applyAttention(update: AttentionUpdate | undefined): void {
  if (!update) return;
  app.setBadgeCount(update.unread);
  window?.setTitle(update.title);
  if (update.notification) notify(update.notification.title, update.notification.body);
  desktopShell.onAttention(update);
}

function emit(event: SessionEvent): void {
  window?.webContents.send(Channel.event, event);
  const me = session.client ? { name: session.client.name, server: session.client.welcome.server } : undefined;
  // A hidden window (in the tray) is not in front, even if it had the focus when it was hidden.
  applyAttention(attention.onEvent(event, (window?.isVisible() && window.isFocused()) ?? false, me));
  desktopShell.onSessionEvent(event, me?.name);
}

// This device's key, kept with the settings; a damaged one is said, and the app joins without one.
const device = deviceKeyIn(app.getPath('userData'));
if (!device.ok) logger.error(device.error.message);
const session: ChatSession = new ChatSession({
  emit,
  sockets: nodeSockets,
  dataDir: join(app.getPath('userData'), 'servers'),
  // The chat's keys sealed with the OS keychain where there is one (not on a Linux without a secret service).
  secretsCodec: {
    available: () => safeStorage.isEncryptionAvailable(),
    seal: (text) => safeStorage.encryptString(text),
    open: (sealed) => safeStorage.decryptString(sealed),
  },
  logger,
  ...(device.ok ? { device: device.value } : {}),
  // A node this app runs shows in the Join list of others on the LAN, under the user's name.
  lan: { discovery, host: () => session.client?.name ?? 'Chatty' },
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
  window.on('focus', () => {
    applyAttention(attention.onFocus());
    desktopShell.onFocus();
  });
  // Closing the window hides it: the chat (and a server this app hosts) keep running in the tray.
  window.on('close', (event) => {
    if (desktopShell.onClose()) event.preventDefault();
  });
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

const applyPreferences = (chosen: Settings) => {
  attention.setMutePublic(chosen.mutePublic);
  desktopShell.setStartAtLogin(chosen.startAtLogin);
};
void settings.load().then((chosen) => {
  closeNoticeShown = chosen.closeNoticeShown === true;
  applyPreferences(chosen);
});
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
  desktopShell.onQuit();
  if (quitting) return;
  event.preventDefault();
  quitting = true;
  // Leaving tells the other servers; if that cannot finish (a stuck network), Quit still quits.
  const atMost = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  void Promise.race([session.quit().then(() => discovery.destroy()), atMost(5_000)]).finally(() => app.quit());
});
app.on('window-all-closed', () => app.quit());
app.on('second-instance', () => desktopShell.showWindow());
app.on('activate', () => desktopShell.showWindow()); // macOS: a click on the dock icon

void app.whenReady().then(() => {
  discovery.browse((hosts) => window?.webContents.send(Channel.event, { kind: 'hosts', hosts } satisfies SessionEvent));
  createWindow();
  Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate(process.platform, (command) => emit({ kind: 'command', command }))));
  const icon = nativeImage.createFromPath(fileURLToPath(new URL('./tray-icon.png', import.meta.url))).resize({ width: 16, height: 16 });
  tray = new Tray(icon);
  tray.on('click', () => desktopShell.showWindow());
  desktopShell.setStatus(undefined); // draws the tray's menu
});
