export { appsLayer, components } from './platform.ts';
export { LAYER as APPS_LAYER, APP_DATABASE_CLIENT_LABEL, databaseEndpoint as appDatabaseEndpoint, volumeClaim as appVolumeClaim } from './names.ts';
export { IMAGES as APPS_IMAGES } from './versions.ts';
