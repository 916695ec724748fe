/**
 * The runtime's refusals other than bad input (ParseError, in types.ts): each
 * its own type, each message saying what happened and what to do. The CLI
 * prints any of them as one line.
 */
import type { SpawnError } from "./api/kernel.ts";

export class Refusal extends Error {}

/** A port the node or its fake chain wants is taken. */
export class PortInUse extends Refusal {
  override name = "PortInUse";
}

/** The node's keys would not decrypt with the password given. */
export class WrongPassword extends Refusal {
  override name = "WrongPassword";
}

/** Bundling a process failed (or the deno CLI to do it is missing). */
export class BuildFailed extends Refusal {
  override name = "BuildFailed";
}

/** The kernel refused a spawn; `error` is the SpawnError variant, first in the message too. */
export class SpawnRefused extends Refusal {
  override name = "SpawnRefused";
  constructor(readonly error: SpawnError, detail: string) {
    super(`${error}: ${detail}`);
  }
}

/** Another running node holds this home. */
export class HomeInUse extends Refusal {
  override name = "HomeInUse";
}

/** The chain will not take a registration (a name taken, a parent missing, a transaction reverted). */
export class RegistrationError extends Refusal {
  override name = "RegistrationError";
}

/** The chain a node needs does not answer, or will not take its registration. */
export class ChainUnavailable extends Refusal {
  override name = "ChainUnavailable";
}

/** A dev-chain name another running node holds. */
export class NameHeld extends Refusal {
  override name = "NameHeld";
}
