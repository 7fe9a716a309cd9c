/**
 * The batch routes' scheduler over the in-flight slots of plugins/inflight.ts (`tryImageSlot`). It is
 * plain code, no plugin: a batch route builds one per request.
 */

/**
 * Runs a batch's images concurrently within the in-flight bound. The batch's own slot always runs one
 * image, so it always progresses; each further image runs only on a spare slot taken without waiting
 * (and given back after that image, so single requests get their turn), up to `maxConcurrent` at once.
 * It never waits on a slot another request holds, so it cannot deadlock, and it never exceeds
 * LUMEN_FACE_MAX_INFLIGHT.
 */
export class BatchSlots {
  private readonly waiting: Array<(release: () => void) => void> = [];
  private running = 0;
  private ownSlotFree = true;

  constructor(
    private readonly trySpareSlot: () => (() => void) | undefined,
    private readonly maxConcurrent: number,
  ) {}

  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push((release) => {
        task()
          .then(resolve, reject)
          .finally(() => {
            release();
            this.running--;
            this.pump();
          });
      });
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.running < this.maxConcurrent) {
      const release = this.takeSlot();
      // No slot: one of this batch's images is running on its own slot and will pump again when done.
      if (!release) return;
      this.running++;
      this.waiting.shift()!(release);
    }
  }

  private takeSlot(): (() => void) | undefined {
    if (this.ownSlotFree) {
      this.ownSlotFree = false;
      return () => {
        this.ownSlotFree = true;
      };
    }
    return this.trySpareSlot();
  }
}
