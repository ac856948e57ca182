import { readdir, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";

/**
 * Every file under `root`, recursively, as paths relative to it (with "/") and absolute, in no particular
 * order. Symbolic links are followed, to files (a staging area linked in) and to folders, each real folder
 * walked once (a link to an ancestor is no loop); a broken link is skipped. `skip` leaves out entries
 * (files or folders) by name.
 */
export async function filesUnder(
  root: string,
  skip: (name: string) => boolean = () => false,
): Promise<{ rel: string; abs: string }[]> {
  const files: { rel: string; abs: string }[] = [];
  const walked = new Set<string>();
  const visit = async (dir: string) => {
    const real = await realpath(dir);
    if (walked.has(real)) return;
    walked.add(real);
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (skip(e.name)) continue;
      const abs = join(dir, e.name);
      let isFile = e.isFile();
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        const target = await stat(abs).catch(() => undefined); // broken link: skipped
        isFile = target?.isFile() ?? false;
        isDir = target?.isDirectory() ?? false;
      }
      if (isDir) await visit(abs);
      else if (isFile) files.push({ rel: relative(root, abs).split(sep).join("/"), abs });
    }
  };
  await visit(root);
  return files;
}
