// Connect a ChatClient and report everything it hears as SessionEvents — the one place that turns
// a client into the UI's event stream, for the Electron session and the browser bridge alike.
import type { SessionEvent } from './bridge.js';
import { ChatClient, type SocketFactory } from './chat-client.js';

/** Joins `url` as `name`; rejects with the ChatError that ChatClient.connect gives. */
export async function connectReporting(url: string, name: string, createSocket: SocketFactory, emit: (event: SessionEvent) => void): Promise<ChatClient> {
  const client = await ChatClient.connect(url, name, createSocket);
  emit({ kind: 'frame', frame: client.welcome });
  client.onFrame((frame) => emit({ kind: 'frame', frame }));
  client.onClose((info) => {
    if (info.expected) return;
    emit({ kind: 'status', status: 'disconnected', detail: `Lost the connection to the server${info.reason ? ` (${info.reason})` : ''}` });
  });
  emit({ kind: 'status', status: 'connected' });
  return client;
}
