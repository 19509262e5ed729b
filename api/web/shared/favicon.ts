/** Where the pages' icon is served (api/web/assets/routes.ts). */
export const FAVICON_PATH = '/favicon.svg';

/** Mandate's icon: a white "M" on the pages' blue, rounded — legible at 16 px. */
export const faviconSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#0969da"/>
<path d="M7 24V8h3.6L16 17.2 21.4 8H25v16h-3.4V14.2L16 23.4l-5.6-9.2V24z" fill="#fff"/>
</svg>
`;
