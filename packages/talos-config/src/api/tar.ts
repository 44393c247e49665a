import { gunzipSync } from 'node:zlib';

/**
 * Reads one regular file out of a gzip-compressed tar archive (ustar headers, PAX extension records
 * skipped), which is how Talos streams the kubeconfig.
 */
export function extractFromTarGz(archive: Buffer, wanted: string): Buffer {
  const tar = gunzipSync(archive);
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('utf8').replace(/\0[\s\S]*$/, '');
    const name = field(345, 155) ? `${field(345, 155)}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const data = tar.subarray(offset + 512, offset + 512 + size);
    if ((type === '0' || type === '\0') && name.replace(/^\.\//, '') === wanted) return Buffer.from(data);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error(`the archive holds no file named ${wanted}`);
}
