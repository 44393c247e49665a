import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateClusterText } from './load.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');

function expectations(text: string, marker: string): string[] {
  const prefix = `# ${marker}: `;
  return text
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .map((line) => line.slice(prefix.length));
}

describe('valid cluster files', () => {
  const files = readdirSync(join(fixtures, 'valid')).filter((f) => f.endsWith('.yaml'));

  it('has one fixture per cluster kind users run, plus the edge cases', () => {
    expect(files).toEqual(expect.arrayContaining(['pi-fleet.yaml', 'proxmox-ha.yaml', 'metal-ha.yaml', 'docker-dev.yaml']));
  });

  for (const file of files) {
    it(`${file} validates with exactly its expected warnings`, () => {
      const text = readFileSync(join(fixtures, 'valid', file), 'utf8');
      const outcome = validateClusterText(text, 'cluster.yaml');
      expect(outcome.errors).toEqual([]);
      expect(outcome.warnings).toEqual(expectations(text, 'expect-warning').map((w) => `cluster.yaml: ${w}`));
      expect(outcome.config?.kind).toBe('Cluster');
    });
  }
});

describe('invalid cluster files', () => {
  const files = readdirSync(join(fixtures, 'invalid')).filter((f) => f.endsWith('.yaml'));

  for (const file of files) {
    it(`${file} is refused with exactly the error it documents`, () => {
      const text = readFileSync(join(fixtures, 'invalid', file), 'utf8');
      const expected = expectations(text, 'expect');
      expect(expected.length, `${file} must document its error with "# expect: ..."`).toBeGreaterThan(0);
      const outcome = validateClusterText(text, 'cluster.yaml');
      expect(outcome.config).toBeUndefined();
      expect([...outcome.errors].sort()).toEqual(expected.map((e) => (e.startsWith('cluster.yaml:') ? e : `cluster.yaml: ${e}`)).sort());
    });
  }
});
