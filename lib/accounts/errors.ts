/** A refusal about accounts, with a message for the person at the login form or the CLI. */
export class AccountError extends Error {
  constructor(
    readonly code: 'invalid' | 'credentials' | 'exists' | 'not_found' | 'expired' | 'used' | 'disabled' | 'full',
    message: string,
  ) {
    super(message);
    this.name = 'AccountError';
  }
}

export const isAccountError = (e: unknown): e is AccountError => e instanceof AccountError;
