import { safeEqual } from "../core/crypto/tokens.js";
import { ProviderError } from "../core/oauth/identity-provider.js";

/** What {@link checkCallback} needs to know about the provider. */
export interface CallbackExpectations {
  /** The transaction's state. */
  state: string;
  /** The provider's issuer: an `iss` parameter that differs fails (RFC 9207, mix-up). */
  issuer: string;
  /** The provider promises an `iss` parameter (`authorization_response_iss_parameter_supported`): a missing one fails. */
  issRequired: boolean;
}

/**
 * The first checks of a callback URL, before anything is sent anywhere: one
 * value per parameter, `iss` (when present, or required) equal to the issuer,
 * `state` equal to the transaction's (constant time), then the provider's
 * `error` (`access_denied` is `cancelled`, any other `provider_error`), then a
 * `code`. Returns the code; throws {@link ProviderError}. The state is checked
 * before the error, so a forged callback cannot pass for a cancellation.
 */
export function checkCallback(callbackUrl: URL, expect: CallbackExpectations): string {
  const params = callbackUrl.searchParams;
  for (const name of ["iss", "state", "code", "error"]) {
    if (params.getAll(name).length > 1) throw new ProviderError("invalid_response", `callback carries more than one ${name}`);
  }
  const iss = params.get("iss");
  if (iss !== null ? iss !== expect.issuer : expect.issRequired) {
    throw new ProviderError("invalid_response", "callback iss does not name the provider's issuer");
  }
  const state = params.get("state");
  if (state === null || !safeEqual(state, expect.state)) throw new ProviderError("invalid_response", "callback state does not match the transaction");
  const error = params.get("error");
  if (error !== null) {
    if (error === "access_denied") throw new ProviderError("cancelled", "the provider answered access_denied");
    throw new ProviderError("provider_error", "the provider answered with an error");
  }
  const code = params.get("code");
  if (!code) throw new ProviderError("invalid_response", "callback carries no code");
  return code;
}
