/** Time is injected so planning and expiry are tested against a fake clock. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
