/** Test certificates made with the openssl CLI (tests that need one skip, saying so, without it). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A self-signed EC certificate for 127.0.0.1 named CN=`name`, written into `directory`; returns the PEM files' paths. */
export function selfSigned(directory: string, name: string): { cert: string; key: string } {
  const cert = path.join(directory, `${name}.crt`);
  const key = path.join(directory, `${name}.key`);
  const args = ['req', '-x509', '-nodes', '-days', '1', '-subj', `/CN=${name}`];
  args.push('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-addext', 'subjectAltName=IP:127.0.0.1');
  execFileSync('openssl', [...args, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}
