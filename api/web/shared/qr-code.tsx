import QRCode from 'qrcode';

/**
 * A QR code as inline SVG, drawn here from the library's module matrix rather than from
 * its SVG string: the page then inserts no raw markup (the layouts' rule), and needs no
 * `data:` images (the Content-Security-Policy allows images from this site only).
 * One path of unit squares, four modules of quiet zone around it.
 */
export function QrCode(props: { text: string; label: string; pixels?: number }) {
  const { modules } = QRCode.create(props.text, { errorCorrectionLevel: 'M' });
  const quiet = 4;
  const size = modules.size + 2 * quiet;
  let d = '';
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size; col++) {
      if (modules.get(row, col)) d += `M${col + quiet} ${row + quiet}h1v1h-1z`;
    }
  }
  const pixels = props.pixels ?? 200;
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      viewBox={`0 0 ${size} ${size}`}
      width={pixels}
      height={pixels}
      shape-rendering="crispEdges"
      role="img"
      aria-label={props.label}
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
