/** The simulated account's id and region. */
export const SIM_ACCOUNT = '123456789012';
export const SIM_REGION = 'eu-west-1';
