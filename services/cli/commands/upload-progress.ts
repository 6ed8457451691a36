import cliProgress from 'cli-progress';

export interface UploadProgress {
  advance(bytes: number): void;
  stop(): void;
}

const MIB = 1024 * 1024;

/** A byte progress bar on stderr while an upload streams, when stderr is a terminal (nothing otherwise, e.g. in pipes and CI logs). */
export function uploadProgress(label: string, totalBytes: number): UploadProgress | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% {sent}/{size} MiB`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  const size = (totalBytes / MIB).toFixed(1);
  let sent = 0;
  bar.start(totalBytes, 0, { sent: '0.0', size });
  return {
    advance(bytes) {
      sent += bytes;
      bar.update(sent, { sent: (sent / MIB).toFixed(1), size });
    },
    stop: () => bar.stop(),
  };
}
