/** An error shaped like the SDK's ServiceException, so the SDK's retry strategy classifies it as it would a real one. */
export class SimulatedAwsError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId: string };
  constructor(name: string, message: string, httpStatusCode = 400) {
    super(message);
    this.name = name;
    this.$fault = httpStatusCode >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode, requestId: 'simulated' };
  }
}

export const awsError = (name: string, message: string, status = 400): never => {
  throw new SimulatedAwsError(name, message, status);
};

/**
 * A service's errors as the SDK shows them: the wire's code as `Code`, and as the name the SDK's
 * modeled exception for it (`sdkNames`), or the code itself where the SDK models none.
 */
export const awsErrorsOf =
  (sdkNames: Record<string, string>) =>
  (code: string, message: string, status = 400): never => {
    throw Object.assign(new SimulatedAwsError(sdkNames[code] ?? code, message, status), { Code: code });
  };
