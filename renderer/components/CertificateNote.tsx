// On a page served over https: why the browser warned before it opened, and how to check that the
// certificate is the chat's own — the fingerprint from the invite link (which came from the host,
// not from this server) to compare with what the browser's certificate viewer shows.
import { fingerprintForPeople } from '../../shared/auth.js';
import { parseInvite } from '../../shared/invite.js';

export function CertificateNote() {
  if (window.location.protocol !== 'https:') return null;
  const invite = parseInvite(window.location.href);
  const fingerprint = invite.ok && invite.value.fingerprint ? fingerprintForPeople(invite.value.fingerprint) : undefined;
  return (
    <details class="certificate-note" data-testid="certificate-note">
      <summary>Why did my browser warn me about this page?</summary>
      <p>
        Every Chatty chat has its own certificate, which no authority signed: the first time, browsers warn. To check it is this chat's, click{' '}
        <strong>Not secure</strong> left of the address, then <strong>Certificate is not valid</strong> (Firefox: the padlock →{' '}
        <strong>Connection not secure</strong> → <strong>More information</strong> → <strong>View Certificate</strong>) and compare its{' '}
        <strong>SHA-256 fingerprint</strong> (Chromium: under Fingerprints, <strong>Certificate</strong>) with{' '}
        {fingerprint ? (
          <>
            the one in the invite link you opened: <code data-testid="page-fingerprint">{fingerprint}</code>
          </>
        ) : (
          'the one the host printed or shows under Invite'
        )}
        . If they differ, close this page: someone may be listening in.
      </p>
    </details>
  );
}
