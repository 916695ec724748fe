/** hyperdeno's version, as `hyperdeno --version` and the node's home page show it. */
export const VERSION = "0.1.0";
