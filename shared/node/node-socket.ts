// The shared ChatClient's socket in Node: `ws`, which has the browser's WebSocket API.
import WebSocket from 'ws';
import type { SocketLike } from '../chat-client.js';

export const nodeSocket = (url: string): SocketLike => new WebSocket(url, { handshakeTimeout: 5_000 }) as unknown as SocketLike;
