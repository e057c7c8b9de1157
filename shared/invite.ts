// Invites as people pass them around (docs/protocol.md § Invites): a link that says where the chat
// is, the code that lets one in, and the fingerprint of the set's certificate —
//   chatty://192.168.1.7:4000/#invite=7KQ2-M9XD-4TPA-H3VR&fp=<SHA-256 in hex>
// The fingerprint is written in hex, the digits a browser's certificate viewer and the host show
// (they add colons); links made before, with base64url, are still read.
// A server invite (`#server-invite=…`) is the other kind: it lets a server join the set, and is
// kept by whoever runs servers; people's invites never admit a server.
// The same fragment works after https://HOST:PORT/ (a browser opens the page and joins with it;
// fragments never reach the server). A host that runs without TLS (--insecure) gives
// `chatty+ws://…` links with no fingerprint. The CLI, the app and the page all parse with this.
import { hexToBytes } from '@noble/hashes/utils.js';
import { base64url, fingerprintForPeople, normalizeInviteCode } from './auth.js';
import { ErrorCode, fail, ok, type Result } from './errors.js';
import { parseServerAddress } from './protocol.js';

export interface Invite {
  /** wss://HOST:PORT, or ws:// for a host without TLS. */
  server: string;
  /** The invite code people join with; absent for an open chat's link and for a server invite. */
  code?: string;
  /** A server invite's code: what a new server of the set proves (`chatty host --join`). */
  serverCode?: string;
  /** The certificate to pin (base64url SHA-256); absent without TLS. */
  fingerprint?: string;
}

const FINGERPRINT_HEX = /^(?:[0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$/;
const FINGERPRINT_BASE64URL = /^[A-Za-z0-9_-]{43}$/;

export function formatInvite(invite: Invite): string {
  const url = new URL(invite.server);
  const scheme = url.protocol === 'wss:' ? 'chatty:' : 'chatty+ws:';
  const params = new URLSearchParams();
  if (invite.code) params.set('invite', invite.code);
  if (invite.serverCode) params.set('server-invite', invite.serverCode);
  if (invite.fingerprint) params.set('fp', fingerprintForPeople(invite.fingerprint).replaceAll(':', ''));
  const fragment = params.toString();
  return `${scheme}//${url.host}/${fragment ? `#${fragment}` : ''}`;
}

/** The browser link for the same invite: the host's page, with the invite in the fragment. */
export function browserInviteLink(invite: Invite): string {
  const link = formatInvite(invite);
  return link.replace(/^chatty:/, 'https:').replace(/^chatty\+ws:/, 'http:');
}

/**
 * An invite as typed or pasted: a `chatty://` or `chatty+ws://` link, the page's `https://` or
 * `http://` link with the invite in its fragment, or a plain server address (`HOST:PORT`,
 * `wss://HOST:PORT`: an open chat, trusted on first use).
 */
export function parseInvite(input: string): Result<Invite> {
  const text = input.trim();
  const link = /^(chatty|chatty\+ws|https?):\/\/([^/#?]+)\/?(?:#(.*))?$/i.exec(text);
  if (!link) {
    const address = parseServerAddress(text);
    return address.ok ? ok({ server: address.value }) : address;
  }
  const [, scheme, host, fragment = ''] = link;
  const secure = /^(chatty|https)$/i.test(scheme!);
  const server = parseServerAddress(`${secure ? 'wss' : 'ws'}://${host}`);
  if (!server.ok) return fail(ErrorCode.INVITE_INVALID, server.error.message);
  const params = new URLSearchParams(fragment);
  const invite: Invite = { server: server.value };
  for (const [param, field] of [
    ['invite', 'code'],
    ['server-invite', 'serverCode'],
  ] as const) {
    const code = params.get(param);
    if (code === null) continue;
    const normalized = normalizeInviteCode(code);
    if (!normalized) return fail(ErrorCode.INVITE_INVALID, `the ${param} code in this link is damaged: ask for the link again`);
    invite[field] = normalized;
  }
  if (invite.code && invite.serverCode) return fail(ErrorCode.INVITE_INVALID, 'a link carries an invite or a server invite, not both: ask for the link again');
  const fingerprint = params.get('fp');
  if (fingerprint !== null) {
    if (FINGERPRINT_HEX.test(fingerprint)) invite.fingerprint = base64url(hexToBytes(fingerprint.replaceAll(':', '')));
    else if (FINGERPRINT_BASE64URL.test(fingerprint)) invite.fingerprint = fingerprint;
    else return fail(ErrorCode.INVITE_INVALID, 'the fingerprint in this link is damaged: ask for the link again');
  }
  return ok(invite);
}
