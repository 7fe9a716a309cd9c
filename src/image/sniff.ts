/** Names what a byte string looks like, so a 415 can say what was received. */
export function describeBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'an empty file';
  const ascii = (start: number, end: number) => Buffer.from(bytes.subarray(start, end)).toString('latin1');
  if (ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return `HEIF/HEIC (brand "${brand}")`;
    if (['avif', 'avis'].includes(brand)) return `AVIF (brand "${brand}")`;
    return `an ISO media file (brand "${brand}", e.g. MP4/MOV)`;
  }
  if (bytes[0] === 0x25 && ascii(0, 5) === '%PDF-') return 'a PDF document';
  if (ascii(0, 2) === 'PK') return 'a ZIP archive';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'a gzip archive';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'a JPEG that could not be decoded (truncated or corrupt?)';
  if (ascii(1, 4) === 'PNG') return 'a PNG that could not be decoded (truncated or corrupt?)';
  const head = ascii(0, 256).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'an SVG drawing';
  if (head.startsWith('<')) return 'markup text (HTML/XML)';
  if (head.startsWith('{') || head.startsWith('[')) return 'JSON text';
  const printable = bytes.subarray(0, 512).every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (printable) return 'plain text';
  const hex = Buffer.from(bytes.subarray(0, 8)).toString('hex').replace(/(..)/g, '$1 ').trim();
  return `unrecognised binary data (first bytes ${hex})`;
}
