import type { User } from "../users/user.js";
import type { ApiToken } from "./api-token.js";

/** Persistence port for personal API tokens. */
export interface ApiTokenStore {
  insert(token: ApiToken): Promise<void>;
  /** The token with this secret hash and its owner, or null. */
  findByHash(tokenHash: string): Promise<{ token: ApiToken; user: User } | null>;
  /** One of the user's tokens by id; null when unknown or someone else's. */
  findForUser(userId: string, id: string): Promise<ApiToken | null>;
  /** A user's tokens, newest first. */
  listForUser(userId: string, limit: number, offset: number): Promise<ApiToken[]>;
  /** How many tokens the user holds. */
  countForUser(userId: string): Promise<number>;
  /** Deletes one token, only when it belongs to `userId`; false otherwise. */
  delete(id: string, userId: string): Promise<boolean>;
  /** Records a use. */
  touchLastUsed(id: string, at: number): Promise<void>;
  /** Deletes every token of a user; returns how many. */
  deleteAllForUser(userId: string): Promise<number>;
}
