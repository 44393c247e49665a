import { describePlatform } from './platform.ts';

describePlatform('pi-fleet');
