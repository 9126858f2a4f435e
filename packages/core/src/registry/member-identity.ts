/** Families fill their members' identity: what `defineFamily` (activations) and `defineLayerFamily` share. */
import { RegistryError, fmtValue } from "../errors.js";

/** The identity fields a family's member may leave out. */
export type MemberIdentity = "family" | "package" | "version";

/**
 * Gives each member of a family that leaves out one of `keys` the family's value (`family` is the family's
 * name), written into the member itself, so that a member a package exports alone saves with it too. A member
 * that states another package or version is refused with a {@link RegistryError} naming both; a `family` it
 * states is its own label and is kept. Every member is checked before any is written, so a refusal changes
 * none. Anything but an array of objects is left to registration, which refuses it with its own message.
 */
export function fillMemberIdentity(
  kind: string, family: { readonly name: string; readonly package: string; readonly version: string }, members: unknown, keys: readonly MemberIdentity[],
): void {
  const identity: Readonly<Record<MemberIdentity, unknown>> = { family: family.name, package: family.package, version: family.version };
  const fills: (readonly [object, MemberIdentity])[] = [];
  for (const member of Array.isArray(members) ? (members as unknown[]) : []) {
    if (typeof member !== "object" || member === null) continue;
    for (const key of keys) {
      const d = Reflect.getOwnPropertyDescriptor(member, key);
      const absent = d === undefined || ("value" in d && d.value === undefined);
      if (absent) {
        const fillable = d === undefined ? Object.isExtensible(member) : d.writable === true || d.configurable === true;
        if (!fillable) {
          throw new RegistryError(`${memberLabel(kind, member)} leaves out ${key} but cannot be given it (it is frozen); state ${key}: ${fmtValue(identity[key])} in the declaration, or do not freeze it before its family is defined`);
        }
        fills.push([member, key]);
      } else if (key !== "family" && "value" in d && d.value !== identity[key]) {
        // a member's own family label (a grouping for docs and plots) may differ; its package and version may not.
        // An accessor is not compared here: registration refuses it (a declaration is data).
        throw new RegistryError(`${memberLabel(kind, member)} states ${key} ${fmtValue(d.value)}, but its family ${fmtValue(family.name)} has ${key} ${fmtValue(identity[key])}; leave ${key} out of the member (the family fills it) or make the two agree`);
      }
    }
  }
  for (const [member, key] of fills) Object.defineProperty(member, key, { value: identity[key], enumerable: true, writable: true, configurable: true });
}

/** `activation "relu"`, for messages about a member whose declaration is not yet checked. */
function memberLabel(kind: string, member: object): string {
  const d = Reflect.getOwnPropertyDescriptor(member, "name");
  const name: unknown = d && "value" in d ? d.value : undefined;
  return `${kind} ${typeof name === "string" ? JSON.stringify(name) : "(unnamed)"}`;
}
