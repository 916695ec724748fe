/** echo:terminal:sys — prints its argument (the book's simplest script). */
import { script } from "@hyperdeno/process_lib";

export default script((_our, args) => args);
