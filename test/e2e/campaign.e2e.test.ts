import { describeCampaignEndToEnd } from './campaign-suite.ts';

describeCampaignEndToEnd('redis');
