/**
 * The steps' ports to other users' coordinators: the refund rooms of the coordinator that owns a refunded
 * transfer, and the requester's coordinator of a request being paid. Another user's coordinator is addressed
 * only once D1 confirms that user exists (addressing an object allocates it).
 */
import { movementOwner, requestOwner } from "../domain/ids";
import type { TransferCoordinator } from "../transfer-coordinator";
import type { Directory } from "./directory";
import type { RefundPort, RequestPort } from "./steps";

/** What the peer ports need from their coordinator. */
export interface PeerDeps {
  env: Env;
  directory: Directory;
  /** The user this coordinator serves (null before their first session). */
  self: () => string | null;
  /** This coordinator itself, whose own refund rooms are called directly rather than through a stub. */
  local: Pick<TransferCoordinator, "claimRefund" | "settleRefund" | "releaseRefund">;
}

/**
 * The refund rooms of the coordinator that owns a transfer: this one's own (called directly), or another
 * user's, addressed only once D1 confirms that user exists (addressing an object allocates it).
 */
export function refundPort(deps: PeerDeps): RefundPort {
  const owner = async (transfer_id: string): Promise<DurableObjectStub<TransferCoordinator> | "self" | null> => {
    const user_id = movementOwner(transfer_id);
    if (user_id === null) return null;
    if (user_id === deps.self()) return "self";
    return (await deps.directory.userExists(user_id)) ? deps.env.COORDINATOR.getByName(user_id) : null;
  };
  return {
    claim: async (input) => {
      const at = await owner(input.transfer_id);
      if (at === null) return { code: "not_found" };
      return at === "self" ? deps.local.claimRefund(input) : at.claimRefund(input);
    },
    settle: async (transfer_id, refund_id) => {
      const at = await owner(transfer_id);
      if (at === null) throw new Error(`invariant: settling a refund of unknown transfer ${transfer_id}`);
      return at === "self" ? deps.local.settleRefund(refund_id, transfer_id) : at.settleRefund(refund_id, transfer_id);
    },
    release: async (transfer_id, refund_id, reason) => {
      const at = await owner(transfer_id);
      if (at === null) throw new Error(`invariant: releasing a refund of unknown transfer ${transfer_id}`);
      return at === "self" ? deps.local.releaseRefund(refund_id, reason) : at.releaseRefund(refund_id, reason);
    },
  };
}

/** The requester's coordinator of a request being paid (never this one: nobody pays their own request). */
export function requestPort(deps: PeerDeps): RequestPort {
  const owner = async (id: string): Promise<DurableObjectStub<TransferCoordinator> | null> => {
    const user_id = requestOwner(id);
    return user_id !== null && (await deps.directory.userExists(user_id)) ? deps.env.COORDINATOR.getByName(user_id) : null;
  };
  const payer = (): string => {
    const id = deps.self();
    if (id === null) throw new Error("invariant: a pay in a coordinator without a profile");
    return id;
  };
  return {
    claim: async (id, movement_id, amount) => (await owner(id))?.claimRequest(id, payer(), movement_id, amount) ?? { code: "not_found" },
    unclaim: async (id, movement_id) => (await owner(id))?.unclaimRequest(id, movement_id),
    settle: async (id, movement_id) => {
      const at = await owner(id);
      if (at === null) throw new Error(`invariant: settling unknown request ${id}`);
      return at.settleRequest(id, movement_id);
    },
  };
}
