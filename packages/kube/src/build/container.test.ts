import { describe, expect, it } from 'vitest';
import { imageTag } from './container.ts';

describe('imageTag', () => {
  it('reads the tag, not a digest or a registry port', () => {
    expect(imageTag('docker.io/library/caddy:2.11.9-alpine')).toBe('2.11.9-alpine');
    expect(imageTag('registry.lan:5000/team/app:1.2@sha256:0123abcd')).toBe('1.2');
    expect(imageTag('registry.lan:5000/team/app')).toBe('');
    expect(imageTag('docker.io/team/app@sha256:0123abcd')).toBe('');
  });
});
