import { describeOfferInBrowser } from './offer-browser-suite.ts';

describeOfferInBrowser('postgres');
