export { platformCore, components, LAYER as PLATFORM_CORE_LAYER } from './platform.ts';
export { IMAGES as PLATFORM_CORE_IMAGES } from './versions.ts';
export { TRAEFIK_NAMESPACE, INGRESS_CLASS, INGRESS_PODS, NODE_PORTS } from './components/traefik.ts';
