import { describePlatform } from './platform.ts';

describePlatform('proxmox-ha');
