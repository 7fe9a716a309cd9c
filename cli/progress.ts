import cliProgress from 'cli-progress';

export type ProgressEvent = { url: string; received: number; total?: number };

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * Draws download progress: a bar with bytes, rate and ETA on a terminal (cli-progress), plain lines
 * otherwise (at each quarter of a file, so a log stays short).
 */
export function progressReporter(stream: NodeJS.WriteStream = process.stderr): { onProgress: (p: ProgressEvent) => void; stop: () => void } {
  if (stream.isTTY) {
    let bar: cliProgress.SingleBar | undefined;
    let current: string | undefined;
    let started = 0;
    const stop = () => {
      bar?.stop();
      bar = undefined;
    };
    return {
      stop,
      onProgress: ({ url, received, total }) => {
        if (url !== current) {
          stop();
          current = url;
          started = Date.now();
          stream.write(`downloading ${url}\n`);
          bar = new cliProgress.SingleBar(
            { stream, format: '  [{bar}] {percentage}% | {done} of {size} | {rate} | ETA {eta_formatted}', hideCursor: true, etaBuffer: 50 },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total ?? 0, 0, { done: mb(0), size: total === undefined ? '?' : mb(total), rate: '' });
        }
        const seconds = Math.max(0.001, (Date.now() - started) / 1000);
        bar?.update(received, { done: mb(received), rate: `${mb(received / seconds)}/s` });
        if (total !== undefined && received >= total) stop();
      },
    };
  }
  let current: string | undefined;
  let quarter = 0;
  return {
    stop: () => {},
    onProgress: ({ url, received, total }) => {
      if (url !== current) {
        current = url;
        quarter = 0;
        stream.write(`downloading ${url}${total === undefined ? '' : ` (${mb(total)})`}\n`);
      }
      if (total === undefined || total === 0) return;
      const q = Math.floor((received * 4) / total);
      if (q > quarter) {
        quarter = q;
        stream.write(`  ${q * 25}% ${mb(received)} of ${mb(total)}\n`);
      }
    },
  };
}
