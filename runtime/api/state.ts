/**
 * state:distro:sys: process state as Hyperdrive's state module has it. The
 * state travels in the blob (SetState's request, GetState's answer).
 */
import type { ProcessId } from "../types.ts";

export type StateAction = { GetState: ProcessId } | { SetState: ProcessId } | { DeleteState: ProcessId };

export type StateResponse = "GetState" | "SetState" | "DeleteState" | { Err: StateError };

export type StateError = "NoCap" | "BadBytes" | { NotFound: ProcessId } | { IOError: string } | { BadRequest: string };
