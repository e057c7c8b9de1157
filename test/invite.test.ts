// shared/invite.ts: the links people pass around, one fingerprint format for people and links.
import { describe, expect, it } from 'vitest';
import { fingerprintForPeople } from '../shared/auth.js';
import { formatInvite, parseInvite } from '../shared/invite.js';

const fingerprint = 'f3h4PDbX_2v1X6mXr5n5y3a0T1z8fV2cE5uKq9sYb0A'; // base64url, as the servers keep it

describe('invites', () => {
  it('write the fingerprint in the hex digits people compare, and read it back', () => {
    const link = formatInvite({ server: 'wss://10.0.0.2:4000', code: '7KQ2M9XD4TPAH3VR', fingerprint });
    const hex = fingerprintForPeople(fingerprint).replaceAll(':', '');
    expect(link).toBe(`chatty://10.0.0.2:4000/#invite=7KQ2M9XD4TPAH3VR&fp=${hex}`);
    expect(parseInvite(link)).toMatchObject({ ok: true, value: { server: 'wss://10.0.0.2:4000', fingerprint } });
  });

  it('read links made before (base64url) and the host’s colon form; refuse a damaged one', () => {
    expect(parseInvite(`chatty://10.0.0.2:4000/#invite=7KQ2M9XD4TPAH3VR&fp=${fingerprint}`)).toMatchObject({ ok: true, value: { fingerprint } });
    expect(parseInvite(`chatty://10.0.0.2:4000/#fp=${fingerprintForPeople(fingerprint)}`)).toMatchObject({ ok: true, value: { fingerprint } });
    expect(parseInvite('chatty://10.0.0.2:4000/#fp=ABCD')).toMatchObject({ ok: false, error: { code: 'INVITE_INVALID' } });
  });
});
