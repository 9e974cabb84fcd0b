// The part of oidc-provider 8.8.1 (panva; ships no types) that the test identity provider uses.
declare module "oidc-provider" {
  import type { EventEmitter } from "node:events";
  import type { IncomingMessage, ServerResponse } from "node:http";

  export type UnknownObject = Record<string, unknown>;

  export interface AdapterPayload extends UnknownObject {
    uid?: string;
    grantId?: string;
    userCode?: string;
    consumed?: number;
  }

  /** A storage adapter (one instance per model name: "Session", "Client", "Grant", ...). */
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface ClientMetadata extends UnknownObject {
    client_id: string;
    client_secret?: string;
    redirect_uris?: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string, claims: UnknownObject, rejected: string[]): Promise<UnknownObject> | UnknownObject;
  }

  export interface OIDCContext {
    readonly body?: Record<string, string | string[] | undefined>;
    readonly params?: UnknownObject;
  }

  /** The Koa context oidc-provider hands to middleware and helpers (the part used here). */
  export interface KoaContextWithOIDC {
    readonly oidc?: OIDCContext;
    readonly method: string;
    readonly path: string;
    readonly querystring: string;
    type: string;
    body: unknown;
    status: number;
  }

  export interface ErrorOut {
    error?: string;
    error_description?: string;
    [key: string]: unknown;
  }

  export interface Configuration {
    adapter?: new (name: string) => Adapter;
    clients?: ClientMetadata[];
    clientDefaults?: Partial<ClientMetadata>;
    clientAuthMethods?: string[];
    claims?: Record<string, string[] | null>;
    conformIdTokenClaims?: boolean;
    cookies?: { keys?: string[]; long?: UnknownObject; short?: UnknownObject; names?: Record<string, string> };
    features?: Record<string, UnknownObject>;
    findAccount?: (ctx: KoaContextWithOIDC, sub: string, token?: unknown) => Promise<Account | undefined>;
    interactions?: { url?: (ctx: KoaContextWithOIDC, interaction: Interaction) => Promise<string> | string };
    jwks?: { keys: UnknownObject[] };
    pkce?: { methods?: string[]; required?: (ctx: KoaContextWithOIDC, client: unknown) => boolean };
    renderError?: (ctx: KoaContextWithOIDC, out: ErrorOut, error: Error) => Promise<void> | void;
    responseTypes?: string[];
    routes?: Record<string, string>;
    scopes?: string[];
    ttl?: Record<string, number>;
    [key: string]: unknown;
  }

  export interface PromptDetail {
    name: "login" | "consent" | (string & {});
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
      [key: string]: unknown;
    };
  }

  export interface Interaction {
    readonly uid: string;
    readonly prompt: PromptDetail;
    readonly params: UnknownObject & { client_id?: string };
    readonly session?: { accountId: string; uid: string };
    readonly grantId?: string;
    readonly returnTo: string;
  }

  export interface InteractionResults {
    login?: { accountId: string; remember?: boolean; amr?: string[]; acr?: string };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
  }

  export class Grant {
    constructor(properties?: { accountId?: string; clientId?: string });
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(ttl?: number): Promise<string>;
    static find(id: string): Promise<Grant | undefined>;
  }

  export default class Provider extends EventEmitter {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    readonly Grant: typeof Grant;
    readonly Client: { validate(metadata: ClientMetadata): Promise<void> };
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: InteractionResults, options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  }
}
