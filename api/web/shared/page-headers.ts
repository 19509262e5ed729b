import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { AppError } from '../../../core/errors.ts';
import { MAX_FORM_BYTES } from './context.ts';

const policy = {
  defaultSrc: ["'none'"],
  styleSrc: ["'unsafe-inline'"],
  imgSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

/**
 * Headers of the HTML pages: never framed or sniffed, and loading nothing but themselves.
 * They run no scripts at all.
 */
export const pageHeaders = secureHeaders({ xFrameOptions: 'DENY', contentSecurityPolicy: policy });

/** The same for pages that run this site's own scripts (the dashboard's live refresh). */
export const scriptedPageHeaders = secureHeaders({
  xFrameOptions: 'DENY',
  contentSecurityPolicy: { ...policy, scriptSrc: ["'self'"], connectSrc: ["'self'"] },
});

/** Forms posted to the pages are a few short fields. */
export const formLimit = bodyLimit({
  maxSize: MAX_FORM_BYTES,
  onError: () => {
    throw new AppError('PAYLOAD_TOO_LARGE');
  },
});
