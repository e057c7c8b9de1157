// The seminar's terminal client: a background task prints what the server relays, the main task
// reads lines and sends them; the line `exit` (or end of input, or Ctrl-C) leaves the chat.
import { createInterface } from 'node:readline';
import { ChatClient, type ClientOptions } from '../shared/chat-client.js';
import { fingerprintForPeople } from '../shared/auth.js';
import { CertificatePin, nodeSockets } from '../shared/node/node-socket.js';
import { ErrorCode, missingCase } from '../shared/errors.js';
import { parseInvite } from '../shared/invite.js';
import { buddiesOf, type ChatEvent, clientIdOf } from '../shared/protocol.js';
import { FILE_LINK_TTL_MS, fileLinkUrl } from '../shared/files.js';
import { defaultKnownServersFile, KnownServers } from './known-servers.js';
import { appFolder } from './data-folder.js';
import { deviceKeyIn } from '../server/device-key-file.js';
import { formatEvent, formatWhois } from './seminar-format.js';
import { mentions } from '../shared/chat-state.js';
import { localDay } from '../shared/days.js';
import { neutralize } from './terminal-text.js';
import { CliError, UsageError } from './errors.js';

export interface TerminalIO {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  error: NodeJS.WritableStream;
}

/** What the terminal client understands; anything else that starts with "/" is answered here, never sent. */
const HELP = [
  'Commands:',
  '  /msg NAME text    a direct message, to NAME only',
  '  /who              who is here',
  '  /search words     find messages the server keeps',
  '  /whois [NAME]     whose a name is: their safety number (yours without a name)',
  '  /away, /available your presence',
  '  /help             this list',
  '  exit or /quit     leave the chat',
  '  //text            send a text that begins with "/"',
].join('\n');
const HELP_HINT = '/help lists the commands; exit leaves.';

/** A local calendar day, as the terminal prints it (YYYY-MM-DD). */
const dayOf = (ts: number): string => localDay(ts) ?? 'an unknown day';

const stdio: TerminalIO = { input: process.stdin, output: process.stdout, error: process.stderr };

/**
 * Join the chat an invite (or a plain address) points at as `name`, and chat until the user
 * leaves. The invite's fingerprint is pinned; without one, the first certificate seen is, and
 * shown. A passphrase comes from CHATTY_PASSPHRASE. Resolves with the exit code.
 */
export async function runTerminalClient(target: string, name: string, io: TerminalIO = stdio, options: ClientOptions = {}, env = process.env): Promise<number> {
  const invite = parseInvite(target);
  if (!invite.ok) throw new UsageError(invite.error.message);
  const { server, code, fingerprint } = invite.value;
  // An invite says which certificate to expect; otherwise the one trusted for this address before,
  // or (first use) the one it shows now, which is shown to the person and remembered.
  const known = new KnownServers(defaultKnownServersFile(env));
  const pin = new CertificatePin(fingerprint ?? known.get(server), (seen) => {
    io.error.write(`chatty: ${server} presents the certificate ${fingerprintForPeople(seen)}\n`);
    io.error.write('        (first use: compare it with the one the host shows, or join with its invite link)\n');
    known.remember(server, seen);
  });
  const credentials = { ...(code ? { invite: code } : {}), ...(env.CHATTY_PASSPHRASE ? { passphrase: env.CHATTY_PASSPHRASE } : {}) };
  // This device's key: every join proves it (made on first use, kept with the settings).
  const device = deviceKeyIn(appFolder('config', env));
  if (!device.ok) throw new CliError(device.error.message);
  const joined = await ChatClient.connect(server, name, nodeSockets(pin), { credentials, device: device.value, ...options });
  if (!joined.ok) throw new CliError(`${joined.error.message}${wayForward(joined.error.code, server, fingerprint !== undefined, known.file)}`);
  const client = joined.value;

  // Prompts only on a terminal: piped output stays one event per line.
  const terminal = Boolean(io.input.isTTY && io.output.isTTY);
  const rl = createInterface({ input: io.input, output: io.output, prompt: '-> ', terminal });
  const print = (line: string) => {
    if (terminal) {
      io.output.write('\r\x1b[2K'); // wipe the prompt line, print, then redraw prompt and typed text
      io.output.write(`${line}\n`);
      rl.prompt(true);
    } else {
      io.output.write(`${line}\n`);
    }
  };

  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      rl.close();
      resolve(code);
    };
    const leave = () => {
      client.leave().then(
        () => finish(0),
        () => finish(0),
      );
    };

    // A terminal cannot reorder what it printed: events are printed as they come, each once
    // (by id, and a message also by its sender's client id: a resend is the same message).
    const printed = new Set<string>();
    // A shared file prints with a link to that file only, good for a day: what a terminal shows
    // may be copied or seen, so it is not the session's file token.
    const fileUrl = (id: string) => {
      const key = client.sessionKey;
      return key ? fileLinkUrl(client.server, id, client.name, key, Date.now() + FILE_LINK_TTL_MS) : undefined;
    };
    // History from before today comes under a line naming its day; a text that mentions you stands out.
    let lastDay = dayOf(Date.now());
    const dayHeading = (day: string) => {
      if (day === lastDay) return;
      print(`--- ${day === dayOf(Date.now()) ? 'today' : day} ---`);
      lastDay = day;
    };
    const show = (event: ChatEvent, fromHistory = false) => {
      const cid = clientIdOf(event);
      const keys = [event.id, ...(cid ? [`${event.name}\n${cid}`] : [])];
      if (keys.some((k) => printed.has(k))) return;
      for (const k of keys) printed.add(k);
      if (fromHistory) dayHeading(dayOf(event.ts));
      const line = formatEvent(event, client.name, fileUrl);
      const mentioned = (event.type === 'message' || event.type === 'direct') && event.name !== client.name && mentions(event.text, client.name);
      print(!mentioned ? line : terminal ? `\x07\x1b[1m${line}\x1b[22m` : `${line}  <- mentions you`);
    };

    // Who is here, for /who: kept from the welcome, joins, leaves, rosters and presence.
    const buddies = new Map<string, { away: boolean }>(buddiesOf(client.welcome).map((b) => [b.name, { away: b.status === 'away' }]));
    client.onFrame((msg) => {
      switch (msg.type) {
        case 'join':
        case 'back':
          buddies.set(msg.name, { away: buddies.get(msg.name)?.away ?? false });
          show(msg);
          return;
        case 'leave':
          buddies.delete(msg.name);
          show(msg);
          return;
        case 'message':
        case 'away':
        case 'direct':
        case 'file':
        case 'release':
          show(msg);
          return;
        case 'presence':
          buddies.set(msg.name, { away: msg.status === 'away' });
          show(msg);
          return;
        case 'roster':
          for (const name of msg.names) if (!buddies.has(name)) buddies.set(name, { away: false });
          return;
        case 'history':
          // The latest of the chat before this join (or what was missed while reconnecting);
          // presence in it is the past (the welcome said who is away now).
          for (const event of msg.events) if (event.type !== 'presence') show(event, true);
          dayHeading(dayOf(Date.now())); // what comes live is today's
          return;
        case 'error':
          // A stopping server also closes the socket; that close is the one line we print.
          if (msg.code !== ErrorCode.SERVER_STOPPING) io.error.write(`[ERROR] ${neutralize(msg.message)}\n`);
          return;
        case 'exit':
          finish(0);
          return;
        case 'welcome':
        case 'update_servers':
        case 'ack':
        case 'pong':
        case 'hello':
        case 'auth_ok':
        case 'is_typing':
          return; // the seminar's client shows only joins, leaves and messages
        case 'search_results':
          print(`[SEARCH] ${msg.events.length} found for "${neutralize(msg.query)}"`);
          for (const event of msg.events) print(`  ${formatEvent(event, client.name, fileUrl)}`);
          return;
        case 'whois':
          print(formatWhois(msg));
          return;
        case 'batch':
          return; // never here: the client hands a batch on as the events it stands for
        case 'certificate':
          // The set re-keyed (a server was taken out): the next connections expect the new one.
          pin.repin(msg.fingerprint);
          if (known.get(server) !== undefined) known.remember(server, msg.fingerprint);
          print(`[SERVER] the chat has a new certificate: ${fingerprintForPeople(msg.fingerprint)}`);
          return;
        default:
          missingCase(msg); // a frame type added to the protocol must be handled here
      }
    });
    const who = () =>
      `[WHO] ${[...buddies]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, b]) => `${neutralize(name)}${name === client.name ? ' (you)' : ''}${b.away ? ' (away)' : ''}`)
        .join(', ')}`;
    let reconnecting = false;
    client.onLinkState((state) => {
      if (state.kind === 'reconnecting') {
        if (!reconnecting) io.error.write('chatty: lost the connection; reconnecting to the chat…\n');
        reconnecting = true;
        return;
      }
      reconnecting = false;
      io.error.write(`chatty: ${state.kind === 'resumed' ? 'reconnected' : 'joined again'} on ${state.server}\n`);
    });
    client.onClose((info) => {
      if (info.expected) return finish(0);
      const why = info.reason ? ` (${info.reason})` : '';
      io.error.write(`chatty: connection to the chat lost${why}\n`);
      finish(1);
    });

    const send = (text: string, to?: string) => {
      const sent = client.send(text, to);
      if (!sent.ok) io.error.write(`chatty: ${sent.error.message}\n`);
    };
    rl.on('line', (line) => {
      if (finished) return;
      if (line === 'exit' || line === '/quit') return leave();
      const [command = '', ...words] = line.trim().split(/\s+/);
      const rest = line.trim().slice(command.length).trim();
      if (line.startsWith('//'))
        send(line.slice(1)); // a text that begins with "/"
      else if (!line.startsWith('/')) {
        if (line.trim() !== '') send(line);
      } else if (command === '/help') print(HELP);
      else if (command === '/away' || command === '/available') client.setStatus(command === '/away' ? 'away' : 'available');
      else if (command === '/who') print(who());
      else if (command === '/search' && rest) client.search(rest);
      else if (command === '/whois') client.whois(rest || client.name);
      else if (command === '/msg' && words.length >= 2) send(rest.slice(words[0]!.length).trim(), words[0]);
      else if (command === '/msg' || command === '/search')
        io.error.write(`chatty: ${command === '/msg' ? '/msg NAME text sends text to NAME only' : '/search words finds messages'}\n`);
      else io.error.write(`chatty: unknown command ${neutralize(command)}: /help lists them (start with // to send a text that begins with /)\n`);
      if (terminal) rl.prompt();
    });
    rl.on('close', () => {
      if (!finished) leave(); // end of input leaves the chat like `exit`
    });
    rl.on('SIGINT', leave);
    if (terminal) print(`Type a message and press Enter to send it. ${HELP_HINT}`);
    if (terminal) rl.prompt();
  });
}

/** What the person can do next about a refusal the terminal client can help with (a second line), or ''. */
function wayForward(code: string, server: string, fromInvite: boolean, knownFile: string): string {
  if (code === ErrorCode.AUTH_REQUIRED || code === ErrorCode.AUTH_FAILED) {
    return `\n        (give the invite link as the address: chatty client 'chatty://HOST:PORT/#invite=…' NAME; or the passphrase in CHATTY_PASSPHRASE)`;
  }
  if (code === ErrorCode.CERT_MISMATCH) {
    const forget = fromInvite ? '' : `, or, if you trust it, remove "${server}" from ${knownFile}`;
    return `\n        (if the host was made anew on purpose, join with its new invite link, which names its certificate${forget})`;
  }
  return '';
}
