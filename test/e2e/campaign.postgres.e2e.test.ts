import { describeCampaignEndToEnd } from './campaign-suite.ts';

describeCampaignEndToEnd('postgres');
