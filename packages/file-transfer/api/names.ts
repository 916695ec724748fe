/**
 * File names that arrive from outside (a peer's Download or ListFiles, a
 * script's argument) become paths inside the files drive only through here:
 * no climbing out (`..`), no absolute paths, no control characters, nothing a
 * filesystem could read as something else.
 */

export class BadName extends Error {
  override name = "BadName";
}

const MAX_SEGMENT = 255;
const MAX_NAME = 1024;
const MAX_DEPTH = 32;

/** `name` as a relative path `a/b/c` inside the drive, or a BadName saying why not. */
export function cleanName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0) throw new BadName("a file name is needed");
  if (name.length > MAX_NAME) throw new BadName(`file name longer than ${MAX_NAME} characters`);
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(name)) {
    throw new BadName(`file name ${JSON.stringify(name.slice(0, 80))} holds a control character or a backslash`);
  }
  const segs = name.split("/").filter((s) => s !== "" && s !== ".");
  if (segs.length === 0) throw new BadName(`file name ${JSON.stringify(name)} names no file`);
  if (segs.length > MAX_DEPTH) throw new BadName(`file name nests deeper than ${MAX_DEPTH} folders`);
  for (const s of segs) {
    if (s === "..") throw new BadName(`file name ${JSON.stringify(name)} climbs out of the files drive`);
    if (s.length > MAX_SEGMENT) throw new BadName(`a part of the file name is longer than ${MAX_SEGMENT} characters`);
  }
  return segs.join("/");
}

/** The optional folder of a ListFiles: "" for the drive's top. */
export function cleanFolder(path: unknown): string {
  if (path === undefined || path === null || path === "" || path === "/") return "";
  return cleanName(path);
}

/** The last part of a name: `a/b/c.txt` → `c.txt`. */
export function baseName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}
