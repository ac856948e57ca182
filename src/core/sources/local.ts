import { open as openFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import type { ObjectRef } from "../model.ts";
import type { ObjectSource } from "./types.ts";

/** Local files: the ref's key is the file path (bucket is ""). */
export function localSource(): ObjectSource {
  return {
    async open(ref: ObjectRef): Promise<Readable | undefined> {
      try {
        const handle = await openFile(ref.key, "r");
        ref.lastModified = (await handle.stat()).mtime.toISOString();
        return handle.createReadStream({ highWaterMark: 256 * 1024 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
  };
}
