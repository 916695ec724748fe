/**
 * http-server:distro:sys: the book's HttpServerAction, HttpServerRequest and
 * HttpResponse. Empty until processes can bind paths; today the server only
 * serves the local endpoints (/rpc:distro:sys/message and /install).
 */
export {};
