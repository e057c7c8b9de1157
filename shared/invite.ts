// Invites as people pass them around (docs/protocol.md § Invites): a link that says where the chat
// is, the code that lets one in, and the fingerprint of the set's certificate —
//   chatty://192.168.1.7:4000/#invite=7KQ2-M9XD-4TPA-H3VR&fp=<base64url SHA-256>
// The same fragment works after https://HOST:PORT/ (a browser opens the page and joins with it;
// fragments never reach the server). A host that runs without TLS (--insecure) gives
// `chatty+ws://…` links with no fingerprint. The CLI, the app and the page all parse with this.
import { normalizeInviteCode } from './auth.js';
import { ErrorCode, fail, ok, type Result } from './errors.js';
import { parseServerAddress } from './protocol.js';

export interface Invite {
  /** wss://HOST:PORT, or ws:// for a host without TLS. */
  server: string;
  /** The invite code; absent for an open chat's link. */
  code?: string;
  /** The certificate to pin (base64url SHA-256); absent without TLS. */
  fingerprint?: string;
}

const FINGERPRINT = /^[A-Za-z0-9_-]{43}$/;

export function formatInvite(invite: Invite): string {
  const url = new URL(invite.server);
  const scheme = url.protocol === 'wss:' ? 'chatty:' : 'chatty+ws:';
  const params = new URLSearchParams();
  if (invite.code) params.set('invite', invite.code);
  if (invite.fingerprint) params.set('fp', invite.fingerprint);
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
  const code = params.get('invite');
  if (code !== null) {
    const normalized = normalizeInviteCode(code);
    if (!normalized) return fail(ErrorCode.INVITE_INVALID, 'the invite code in this link is damaged: ask for the link again');
    invite.code = normalized;
  }
  const fingerprint = params.get('fp');
  if (fingerprint !== null) {
    if (!FINGERPRINT.test(fingerprint)) return fail(ErrorCode.INVITE_INVALID, 'the fingerprint in this link is damaged: ask for the link again');
    invite.fingerprint = fingerprint;
  }
  return ok(invite);
}
