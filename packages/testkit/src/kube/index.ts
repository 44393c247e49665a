export { FakeKubeApi } from './server.ts';
export type { FakeKubeOptions, RequestRecord, Controller, ProxyHandler } from './server.ts';
export type { KubeObject } from './store.ts';
export type { ResourceType } from './resources.ts';
