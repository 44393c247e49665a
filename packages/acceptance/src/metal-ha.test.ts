import { describePlatform } from './platform.ts';

describePlatform('metal-ha');
