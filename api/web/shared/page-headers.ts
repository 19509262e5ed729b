import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { AppError } from '../../../core/errors.ts';
import type { AppEnv } from '../../env.ts';
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

/** What a multipart form adds around its file: boundaries, part headers, the few text fields. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/**
 * A form that uploads a file (a campaign's recipient list): as large as the partner API
 * takes the same file (MAX_UPLOAD_BYTES), with room for the form around it.
 */
export const uploadLimit: MiddlewareHandler<AppEnv> = (c, next) =>
  bodyLimit({
    maxSize: c.var.deps.config.maxUploadBytes + MULTIPART_OVERHEAD_BYTES,
    onError: () => {
      throw new AppError('PAYLOAD_TOO_LARGE', 'The file is larger than a campaign list may be.');
    },
  })(c, next);
