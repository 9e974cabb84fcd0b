import type { Kysely } from "kysely";
import type { InvitationStore } from "../../core/invitations/invitation-store.js";
import type { AuditStore } from "../../core/audit/audit-store.js";
import type { SessionStore } from "../../core/sessions/session-store.js";
import type { ApiTokenStore } from "../../core/tokens/api-token-store.js";
import type { UserStore } from "../../core/users/user-store.js";
import type { Database } from "./database.js";
import { createSqlApiTokenStore } from "./sql-api-token-store.js";
import { createSqlAuditStore } from "./sql-audit-store.js";
import { createSqlInvitationStore } from "./sql-invitation-store.js";
import { createSqlSessionStore } from "./sql-session-store.js";
import { createSqlUserStore } from "./sql-user-store.js";

/** Every store port, backed by one Kysely database. */
export interface Stores {
  users: UserStore;
  sessions: SessionStore;
  audit: AuditStore;
  apiTokens: ApiTokenStore;
  invitations: InvitationStore;
}

/** Creates all SQL stores over `db`. */
export function createSqlStores(db: Kysely<Database>): Stores {
  return { users: createSqlUserStore(db), sessions: createSqlSessionStore(db), audit: createSqlAuditStore(db), apiTokens: createSqlApiTokenStore(db), invitations: createSqlInvitationStore(db) };
}
