import { yamlStore } from './yaml.ts';
import { jsonStore } from './json.ts';
import { binaryStore, dotenvStore } from './flat.ts';
import { iniStore } from './ini.ts';
import type { Format, Store, StoreOptions } from './store.ts';

export { formatForPath, parseFormat, FORMATS } from './store.ts';
export type { Format, Store, StoreOptions } from './store.ts';
export { parseJsonValue } from './json.ts';

export function storeFor(format: Format, options: StoreOptions = {}): Store {
  switch (format) {
    case 'yaml':
      return yamlStore(options);
    case 'json':
      return jsonStore(options);
    case 'dotenv':
      return dotenvStore();
    case 'ini':
      return iniStore();
    case 'binary':
      return binaryStore(options);
  }
}
