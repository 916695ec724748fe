/**
 * The worker file-transfer exports, bundled into this package (what `kit b -a`
 * does with the worker's Wasm): startDownload spawns it from this package's
 * pkg/, and it moves files between this package's drives.
 */
export { default } from "../../file-transfer/file-transfer-worker/main.ts";
