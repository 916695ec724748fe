/** hyperdeno's version, as `hyperdeno --version` prints it. */
export const VERSION = "0.1.0";
