export { n8nLayer, components, LAYER as N8N_LAYER } from './platform.ts';
export { IMAGES as N8N_IMAGES, N8N_VERSION } from './versions.ts';
export { NAMESPACE as N8N_NAMESPACE, SECRETS as N8N_SECRETS, DATABASE as N8N_DATABASE, POSTGRES_ENDPOINT as N8N_POSTGRES } from './names.ts';
