import { X509Certificate } from 'node:crypto';
import type { TalosSecrets } from '@groundwork/talos-config';
import { DAY_SECONDS, type CertificateStatus } from './types.ts';

/**
 * Certificate expiry. The talosconfig admin client is issued for one year (gw-talos rotate-client renews it):
 * it is the one that runs out in practice, so it warns a month ahead. The CAs live ten years but replacing one
 * is a planned rotation of every node, so they warn half a year ahead. Kubelet serving certificates rotate by
 * themselves; one that gets within a month of its end means rotation is failing.
 */
export const WARN_DAYS = { client: 30, ca: 180, kubelet: 30 } as const;

export function certificateStatus(name: string, cert: X509Certificate, now: number, warnDays: number): CertificateStatus {
  const notAfter = Date.parse(cert.validTo);
  const daysLeft = Math.floor((notAfter - now) / 1000 / DAY_SECONDS);
  const state = notAfter <= now ? 'expired' : daysLeft < warnDays ? 'expiring' : 'ok';
  return { name, subject: (cert.subject ?? '').replace(/\n/g, ', '), notAfter: new Date(notAfter).toISOString(), daysLeft, warnDays, state };
}

function fromPem(name: string, pem: string, now: number, warnDays: number): CertificateStatus {
  try {
    return certificateStatus(name, new X509Certificate(pem), now, warnDays);
  } catch (error) {
    return { name, warnDays, state: 'unreadable', detail: (error as Error).message };
  }
}

/** The admin client and the four CAs of the cluster's Talos secrets bundle (decrypted in memory). */
export function bundleCertificates(secrets: TalosSecrets, now: number): CertificateStatus[] | { problem: string } {
  if ('problem' in secrets) return { problem: secrets.problem };
  const { certs } = secrets.bundle;
  return [
    fromPem('talosconfig admin client', secrets.client.crt, now, WARN_DAYS.client),
    fromPem('Talos OS CA', certs.os.crt, now, WARN_DAYS.ca),
    fromPem('Kubernetes CA', certs.k8s.crt, now, WARN_DAYS.ca),
    fromPem('etcd CA', certs.etcd.crt, now, WARN_DAYS.ca),
    fromPem('aggregator CA', certs.k8saggregator.crt, now, WARN_DAYS.ca),
  ];
}
