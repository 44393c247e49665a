import { describePlatform } from './platform.ts';

describePlatform('docker-dev');
