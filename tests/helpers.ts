/** Where the tests' packages live; the helpers that boot nodes are runtime/testing.ts. */
export const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
export const PACKAGES = new URL("../packages/", import.meta.url).pathname;
