export { observability, components, LAYER as OBSERVABILITY_LAYER } from './platform.ts';
export { IMAGES as OBSERVABILITY_IMAGES } from './versions.ts';
export { CATALOG as METRIC_CATALOG } from './catalog.ts';
export { NAMESPACE as OBSERVABILITY_NAMESPACE } from './names.ts';
