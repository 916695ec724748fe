/**
 * The API of __PACKAGE__:__PUBLISHER__: any request's body comes back as the
 * response's body, unchanged. Import it as `@api/__PACKAGE__:__PUBLISHER__`.
 */

/** The echo process's id: message it at `<node>@${ECHO_PROCESS}`. */
export const ECHO_PROCESS = "__PACKAGE__:__PACKAGE__:__PUBLISHER__";
