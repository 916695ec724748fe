/** hyperdeno's version, as `hyperdeno --version` prints it (kept with the runtime, which shows it too). */
export { VERSION } from "../runtime/version.ts";
