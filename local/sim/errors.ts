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
