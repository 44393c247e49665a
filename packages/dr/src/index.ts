/** @groundwork/dr: what other packages use of the dr layer. */
export { drLayer, components } from './platform.ts';
export { LAYER as DR_LAYER } from './names.ts';
export { IMAGES as DR_IMAGES } from './versions.ts';
export { runnerBundle } from './bundle.ts';
