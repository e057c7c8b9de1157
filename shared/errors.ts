// One catalogue of the error codes that travel in `error` frames (docs/protocol.md lists them too).
// Codes are stable: clients branch on them, messages are for people.

export const ErrorCode = {
  /** The frame is not valid JSON text. */
  BAD_JSON: 'BAD_JSON',
  /** JSON, but not a frame: no `type`, missing or extra fields, wrong field types. */
  BAD_FRAME: 'BAD_FRAME',
  /** Raised locally, never sent: input a person typed or the app passed in (a port, an IPC payload, a link) is not valid. */
  BAD_INPUT: 'BAD_INPUT',
  /** `type` names no message of the protocol (or one only servers send). */
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  /** Binary WebSocket frames are not part of the protocol. */
  BINARY_FRAME: 'BINARY_FRAME',
  /** A request that needs a joined client came before `client_join_req`. */
  NOT_JOINED: 'NOT_JOINED',
  /** `client_join_req` (or `server_join_req`) on a connection that already has a role. */
  ALREADY_JOINED: 'ALREADY_JOINED',
  /** The name is empty, too long or has control characters. */
  NAME_INVALID: 'NAME_INVALID',
  /** Another buddy already uses this name. */
  NAME_TAKEN: 'NAME_TAKEN',
  /** The name belongs to someone else's devices (§ Identity): a join needs a proof by one of its keys. */
  NAME_BOUND: 'NAME_BOUND',
  /** This chat's names are all bound to device keys (`--require-keys`): a join must prove one. */
  KEY_REQUIRED: 'KEY_REQUIRED',
  /** The request names someone other than the buddy who joined on this connection. */
  NAME_MISMATCH: 'NAME_MISMATCH',
  /** A direct message to a name nobody in the chat has (or to oneself). */
  NO_SUCH_BUDDY: 'NO_SUCH_BUDDY',
  /** The text is empty, blank or longer than the limit. */
  TEXT_INVALID: 'TEXT_INVALID',
  /** An upload's file name is empty, too long, or has path separators or control characters. */
  FILE_NAME_INVALID: 'FILE_NAME_INVALID',
  /** An upload is larger than this server takes (HTTP 413). */
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  /** An upload over the uploader's share of the files the chat keeps, or over what the server gives files in all. */
  QUOTA_EXCEEDED: 'QUOTA_EXCEEDED',
  /** An upload ended before all its bytes came (the connection was cut): nothing was kept. */
  UPLOAD_INCOMPLETE: 'UPLOAD_INCOMPLETE',
  /** No such file, or not one the asker may fetch (HTTP 404). */
  FILE_NOT_FOUND: 'FILE_NOT_FOUND',
  /** No server holding the file is up right now (HTTP 503): try again later. */
  FILE_UNAVAILABLE: 'FILE_UNAVAILABLE',
  /** A server-to-server frame on a connection that did not open with a valid `server_join_req`. */
  NOT_A_SERVER: 'NOT_A_SERVER',
  /** `server_join_req` with an unusable `from` address. */
  PEER_INVALID: 'PEER_INVALID',
  /** `server_join_req` claiming the address of a server that is linked and answering. */
  PEER_REFUSED: 'PEER_REFUSED',
  /** A private chat (or a server link) needs proof of an invite, passphrase or the set's secret, and none came. */
  AUTH_REQUIRED: 'AUTH_REQUIRED',
  /** The proof did not match: a wrong invite, passphrase or secret (or an old invite, since replaced). Failures are rate-limited. */
  AUTH_FAILED: 'AUTH_FAILED',
  /** Raised by clients, never sent: the server's certificate is not the one pinned for this chat. */
  CERT_MISMATCH: 'CERT_MISMATCH',
  /** Raised by clients, never sent: text that is neither an invite nor a server address. */
  INVITE_INVALID: 'INVITE_INVALID',
  /** Too many frames (or joins from one address) too fast; a client that keeps on is disconnected (close 1008). */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The server has as many clients, or unjoined sockets, as it takes (close 1013). */
  SERVER_FULL: 'SERVER_FULL',
  /** The server cannot write its history right now (a full or failing disk): the send (or upload) was not taken; try again later. */
  STORE_FULL: 'STORE_FULL',
  /** The client reads too slowly: its outgoing buffer passed the limit and it was dropped. */
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  /** No first frame arrived in time. */
  HANDSHAKE_TIMEOUT: 'HANDSHAKE_TIMEOUT',
  /** The server is disconnecting (operator action). */
  SERVER_STOPPING: 'SERVER_STOPPING',
  /** Raised by clients, never sent: the server could not be reached. */
  UNREACHABLE: 'UNREACHABLE',
  /** Raised by a starting server, never sent: the port to host on is taken. */
  PORT_IN_USE: 'PORT_IN_USE',
  /** Raised by a starting server, never sent: it cannot listen on that interface and port. */
  BIND_FAILED: 'BIND_FAILED',
  /** Raised by a starting replica, never sent: the server it was to join could not be linked. */
  JOIN_FAILED: 'JOIN_FAILED',
  /** Raised by a starting server, never sent: its data folder is damaged, foreign, or in use. */
  DATA_UNUSABLE: 'DATA_UNUSABLE',
  /** Raised by the app, never sent: host/join while already in a chat. */
  ALREADY_CONNECTED: 'ALREADY_CONNECTED',
  /** Raised by the app, never sent: this UI cannot do that (a browser cannot host). */
  UNSUPPORTED: 'UNSUPPORTED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** WebSocket close codes Chatty uses or reads. 4000–4999 are reserved for applications by RFC 6455. */
export const CloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  /** Never sent: what a socket reports when it closed without a close frame (a network blip, a killed process). */
  ABNORMAL: 1006,
  POLICY: 1008,
  /** The server is full: try again later (RFC 6455 "Try Again Later"). */
  TRY_AGAIN_LATER: 1013,
  /** A client gave up on a server that stopped answering (a frozen server keeps TCP open). */
  NO_ANSWER: 4000,
  /** Reported by a client, never sent: its name went to someone else while it was away. */
  NAME_LOST: 4001,
  /** A second link between the same two servers; the other one is kept. */
  DUPLICATE_LINK: 4009,
} as const;

/** The close reason of a client that left on purpose (its `client_leave_req`, or the app's Quit). */
export const LEFT_REASON = 'left';

/**
 * A close reason that carries an error code, as `CODE: message` (RFC 6455 allows 123 bytes; the
 * code comes first, so a shortened reason keeps it). codeOfCloseReason reads it back.
 */
export function closeReason(code: ErrorCode, message?: string): string {
  return message === undefined ? code : `${code}: ${message}`;
}

const CODES = new Set<string>(Object.values(ErrorCode));
/** The error code a close reason starts with (closeReason), if it names one of the catalogue. */
export function codeOfCloseReason(reason: string): ErrorCode | undefined {
  const head = reason.split(':', 1)[0]!;
  return CODES.has(head) ? (head as ErrorCode) : undefined;
}

/** An error as a value: thrown by nothing in shared/, returned instead. */
export interface ChatError {
  code: ErrorCode;
  message: string;
}

/** Results across boundaries (IPC, parsing) are values, not exceptions. */
export type Result<T, E = ChatError> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): Result<T, never> {
  return { ok: true, value };
}

export function fail(code: ErrorCode, message: string): Result<never> {
  return { ok: false, error: { code, message } };
}

/** For exhaustive switches on tagged unions: the compiler proves this is unreachable. */
export function missingCase(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

/** Error messages from the protocol are lower-case clauses; a UI shows them as sentences. */
export const sentence = (message: string): string => (message ? message[0]!.toUpperCase() + message.slice(1) : message);
