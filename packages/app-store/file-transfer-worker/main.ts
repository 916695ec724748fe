/**
 * The worker file-transfer exports (its "file transfer as a library"), bundled into this package: downloads spawns
 * one per zip it fetches or serves (startDownload), and it moves the zip between the files drives of two nodes'
 * app-store:sys, resumable and SHA-256 checked.
 */
export { default } from "../../file-transfer/file-transfer-worker/main.ts";
