/**
 * Splits a byte stream of fragmented MP4 (ffmpeg writing to a pipe) into top-level boxes as
 * they complete, so fragments can be handled frame by frame while ffmpeg is still running.
 */
export class BoxStream {
  private buffer = new Uint8Array(0);

  /** Complete top-level boxes (type and bytes) now available. */
  push(chunk: Uint8Array): { type: string; bytes: Uint8Array }[] {
    const data = new Uint8Array(this.buffer.length + chunk.length);
    data.set(this.buffer);
    data.set(chunk, this.buffer.length);
    const out: { type: string; bytes: Uint8Array }[] = [];
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let p = 0;
    while (data.length - p >= 8) {
      let size = dv.getUint32(p);
      if (size === 1) {
        if (data.length - p < 16) break;
        size = Number(dv.getBigUint64(p + 8));
      }
      if (size < 8) throw new Error(`ffmpeg output is not a box stream (size ${size} at ${p})`);
      if (data.length - p < size) break;
      out.push({ type: String.fromCharCode(...data.subarray(p + 4, p + 8)), bytes: data.slice(p, p + size) });
      p += size;
    }
    this.buffer = data.slice(p);
    return out;
  }
}
